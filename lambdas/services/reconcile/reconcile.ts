import { describeSlice, type ReconcileSlice } from '../../core/reconcile-slices.js';
import { mapLanes, type WorkLane } from '../../core/render-jobs.js';
import type { MaintenanceCatalog } from '../../ports/maintenance-catalog.js';
import {
  type Audit,
  type AuditDependencies,
  type AuditOptions,
  countLinks,
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  findInconsistencies,
} from './findings.js';
import { type RepairDependencies, repairFinding } from './repairs.js';
import { auditSlice } from './slices.js';

export type ReconcileDependencies = AuditDependencies & RepairDependencies;

export interface ReconcileOptions extends AuditOptions {
  /** Repair what is found; without it nothing is changed. */
  fix: boolean;
}

export interface ReconcileReport {
  fix: boolean;
  /** Every finding; in a report made of slices', each slice's first `RECONCILE_LISTED_FINDINGS`. */
  findings: Finding[];
  /** Findings counted but not listed (a slice lists so many at most); 0 for a whole audit. */
  unlisted: number;
  /** Per kind: found; and with `fix`, repaired, or passed over because a second look cleared it. */
  found: Record<FindingKind, number>;
  repaired: Record<FindingKind, number>;
  cleared: Record<FindingKind, number>;
  /** Render jobs queued by repairs. */
  jobs: Record<WorkLane, number>;
  /** Images on an older variant set: consistent, but due for `aperture reprocess`. */
  outdatedImages: number;
}

const perKind = (): Record<FindingKind, number> =>
  Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>;

/**
 * Finds where the catalog and the buckets disagree and, with `fix`, repairs each finding that still
 * holds on a second look, in `FINDING_KINDS` order. A run after a full repair finds nothing.
 */
export async function reconcile(
  deps: ReconcileDependencies,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const audit = await findInconsistencies(deps, options);
  return settle(deps, audit, options, (imageIds) => countLinks(deps.catalog, imageIds));
}

/**
 * `reconcile` over one slice (`lambdas/core/reconcile-slices.ts`): the same findings and repairs, the
 * second count of links taken from each image's holders rather than a scan of the whole catalog.
 * Slices may run at once: every repair is conditional on what its second look saw.
 */
export async function reconcileSlice(
  deps: ReconcileDependencies,
  slice: ReconcileSlice,
  options: ReconcileOptions,
): Promise<ReconcileReport & { slice: string }> {
  const audit = await auditSlice(deps, slice, options);
  const report = await settle(deps, audit, options, (imageIds) => countHolders(deps.catalog, imageIds));
  return { slice: describeSlice(slice), ...report };
}

/** Reports repairs `audit`'s findings (with `fix`); `recount` is the second look at link counts. */
async function settle(
  deps: ReconcileDependencies,
  audit: Audit,
  options: ReconcileOptions,
  recount: (imageIds: ReadonlySet<string>) => Promise<Map<string, number>>,
): Promise<ReconcileReport> {
  const findings = [...audit.findings].sort(
    (a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind),
  );
  const report: ReconcileReport = {
    fix: options.fix,
    findings,
    unlisted: 0,
    found: perKind(),
    repaired: perKind(),
    cleared: perKind(),
    jobs: mapLanes(() => 0),
    outdatedImages: audit.outdatedImages,
  };
  for (const finding of findings) report.found[finding.kind] += 1;
  if (!options.fix) return report;

  const recounted = new Set(
    findings.flatMap((f) =>
      f.kind === 'ref_count_mismatch' || f.kind === 'unlinked_image' ? [f.imageId] : [],
    ),
  );
  const linkCounts = recounted.size > 0 ? await recount(recounted) : new Map<string, number>();
  for (const finding of findings) {
    const outcome = await repairFinding(deps, finding, { stuckAfterMs: options.stuckAfterMs, linkCounts });
    if (!outcome.repaired) {
      report.cleared[finding.kind] += 1;
      continue;
    }
    report.repaired[finding.kind] += 1;
    for (const job of outcome.jobs) report.jobs[job.lane] += 1;
  }
  return report;
}

/** How many holders (the image-side copies of links) each image has; images with none are left out. */
async function countHolders(
  catalog: MaintenanceCatalog,
  imageIds: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const imageId of imageIds) {
    const holders = await catalog.listHolders(imageId);
    if (holders.length > 0) counts.set(imageId, holders.length);
  }
  return counts;
}

/**
 * One report of many slices' (or batches'): counts added up, the findings each listed kept (in
 * `FINDING_KINDS` order), and those they left out counted.
 */
export function combineReports(fix: boolean, reports: readonly ReconcileReport[]): ReconcileReport {
  const combined: ReconcileReport = {
    fix,
    findings: [],
    unlisted: 0,
    found: perKind(),
    repaired: perKind(),
    cleared: perKind(),
    jobs: mapLanes(() => 0),
    outdatedImages: 0,
  };
  for (const report of reports) {
    combined.findings.push(...report.findings);
    combined.unlisted += report.unlisted;
    combined.outdatedImages += report.outdatedImages;
    for (const kind of FINDING_KINDS) {
      combined.found[kind] += report.found[kind];
      combined.repaired[kind] += report.repaired[kind];
      combined.cleared[kind] += report.cleared[kind];
    }
    for (const lane of Object.keys(combined.jobs) as WorkLane[]) combined.jobs[lane] += report.jobs[lane];
  }
  combined.findings.sort((a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind));
  return combined;
}
