import { RECONCILE_LISTED_FINDINGS, RECONCILE_MAX_CONCURRENCY } from '../../lambdas/contract.js';
import { derivativesPrefix } from '../../lambdas/core/keys.js';
import { reconcileSlices } from '../../lambdas/core/reconcile-slices.js';
import { reconcileBatch } from '../../lambdas/handlers/reconcile-slice.js';
import { forEachConcurrently } from '../../lambdas/services/bulk-reads.js';
import {
  DEFAULT_GRACE_MS,
  FINDING_KINDS,
  type Finding,
  type FindingKind,
} from '../../lambdas/services/reconcile/findings.js';
import {
  combineReports,
  type ReconcileDependencies,
  type ReconcileOptions,
  type ReconcileReport,
  reconcile,
} from '../../lambdas/services/reconcile/reconcile.js';
import { parseDuration } from '../arguments.js';
import type { CommandContext, PipelineCommand } from '../command.js';
import { count, table } from '../format.js';
import { ratePerSecond, readProgress } from '../progress.js';

/** Findings listed one per line in the human output; `--json` has every one the slices listed. */
const LISTED_FINDINGS = 50;

const LABELS: Readonly<Record<FindingKind, string>> = {
  dangling_link: 'links to missing images',
  ref_count_mismatch: 'wrong reference counts',
  unlinked_image: 'images no link points at',
  stuck_deletion: 'deletions never finished',
  missing_original: 'images without their original',
  missing_variants: 'images with variants to render again',
  unmarked_ready: 'images done but not marked ready',
  orphan_original: 'originals without an image',
  orphan_derivatives: 'derivatives without an image',
  abandoned_upload: 'abandoned upload objects',
};

export const reconcileCommand: PipelineCommand = {
  target: 'pipeline',
  summary: 'find (and with --fix repair) where the catalog and the buckets disagree',
  usage: `  --fix           repair what is found, each finding checked again first (default: report only)
  --grace D       objects younger than this are never taken for orphans, whatever --stuck-after
                  says: an ingest may have just stored them (default ${DEFAULT_GRACE_MS / 3_600_000}h)
  --whole         audit in one pass holding every record in memory, instead of slice by slice as
                  the deployment's state machine does (docs/operations.md#reconcile)`,
  options: {
    fix: { type: 'boolean', default: false },
    grace: { type: 'string' },
    whole: { type: 'boolean', default: false },
  },
  queuesJobs: (values) => Boolean(values.fix),
  async run(context, values) {
    const graceMs =
      typeof values.grace === 'string' ? parseDuration(values.grace, '--grace') : DEFAULT_GRACE_MS;
    const options = { fix: Boolean(values.fix), stuckAfterMs: context.stuckAfterMs, graceMs };
    const deps = { ...context.adapters, now: context.now };
    const report = values.whole
      ? await reconcileWhole(context, deps, options)
      : await reconcileBySlices(context, deps, options);
    return { text: describeReconcile(report), json: report };
  },
};

async function reconcileWhole(
  context: CommandContext,
  deps: ReconcileDependencies,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const progress = readProgress(context.progress, 'reconcile');
  const report = await reconcile({ ...deps, onProgress: progress.onProgress }, options);
  progress.done();
  return report;
}

/**
 * Every slice through the slice function's own code, `RECONCILE_MAX_CONCURRENCY` at once, one slice
 * a batch: what the deployment's Distributed Map runs (lib/reconcile-map.ts), on this machine.
 */
async function reconcileBySlices(
  context: CommandContext,
  deps: ReconcileDependencies,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const slices = reconcileSlices();
  const reports: ReconcileReport[] = [];
  const startedAt = Date.now();
  const line = () =>
    `reconcile: ${count(reports.length)} of ${count(slices.length)} slices (${ratePerSecond(reports.length, startedAt)})`;
  await forEachConcurrently(slices, RECONCILE_MAX_CONCURRENCY, async (slice) => {
    await reconcileBatch(deps, { Items: [slice], BatchInput: options }, (report) => {
      reports.push(report);
      context.progress.update(line);
    });
  });
  context.progress.done(line);
  return combineReports(options.fix, reports);
}

function describeReconcile(report: ReconcileReport): string {
  const header = report.fix ? ['', 'found', 'repaired', 'cleared on a second look'] : ['', 'found'];
  const rows = FINDING_KINDS.map((kind) =>
    report.fix
      ? [LABELS[kind], count(report.found[kind]), count(report.repaired[kind]), count(report.cleared[kind])]
      : [LABELS[kind], count(report.found[kind])],
  );
  const listed = report.findings
    .slice(0, LISTED_FINDINGS)
    .map((finding) => `  ${finding.kind}  ${describe(finding)}`);
  const total = report.findings.length + report.unlisted;
  const more = total - listed.length;
  return [
    total === 0
      ? 'The catalog and the buckets agree.'
      : report.fix
        ? `${count(total)} inconsistencies found and repaired where they still held.`
        : `${count(total)} inconsistencies found; nothing changed (--fix repairs them).`,
    '',
    table([header, ...rows]),
    ...(report.fix
      ? ['', `render jobs queued: thumbnails ${report.jobs.thumbnails}, variants ${report.jobs.variants}`]
      : []),
    ...(report.outdatedImages > 0
      ? ['', `${count(report.outdatedImages)} images are on an older variant set: aperture reprocess`]
      : []),
    ...(listed.length > 0 ? ['', ...listed] : []),
    ...(more > 0
      ? [
          report.unlisted > 0
            ? `  … and ${count(more)} more (each slice lists ${RECONCILE_LISTED_FINDINGS}; --whole lists them all)`
            : `  … and ${count(more)} more (--json lists them all)`,
        ]
      : []),
  ].join('\n');
}

function describe(finding: Finding): string {
  switch (finding.kind) {
    case 'orphan_original':
      return finding.key;
    case 'orphan_derivatives':
      return `${derivativesPrefix(finding.imageId)} (${finding.keys.length} objects)`;
    case 'dangling_link':
      return `owner ${finding.owner} → image ${finding.imageId}`;
    case 'unlinked_image':
      return `image ${finding.imageId} (reference count ${finding.refCount})`;
    case 'ref_count_mismatch':
      return `image ${finding.imageId}: reference count ${finding.refCount}, links ${finding.links}`;
    case 'stuck_deletion':
      return `image ${finding.imageId}: being deleted since ${finding.deletingSince.toISOString()}`;
    case 'missing_original':
    case 'unmarked_ready':
      return `image ${finding.imageId}`;
    case 'missing_variants': {
      const parts = [
        ...(finding.absent.length > 0 ? [`gone: ${finding.absent.join(', ')}`] : []),
        ...(finding.stalled.length > 0 ? [`stalled: ${finding.stalled.join(', ')}`] : []),
      ];
      return `image ${finding.imageId}: ${parts.join('; ')}`;
    }
    case 'abandoned_upload':
      return `${finding.key} (upload ${finding.state})`;
  }
}
