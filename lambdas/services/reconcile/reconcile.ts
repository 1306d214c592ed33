import { mapLanes, type WorkLane } from '../../core/render-jobs.js';
import {
  type AuditDependencies,
  type AuditOptions,
  countLinks,
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  findInconsistencies,
} from './findings.js';
import { type RepairDependencies, repairFinding } from './repairs.js';

export type ReconcileDependencies = AuditDependencies & RepairDependencies;

export interface ReconcileOptions extends AuditOptions {
  /** Repair what is found; without it nothing is changed. */
  fix: boolean;
}

export interface ReconcileReport {
  fix: boolean;
  findings: Finding[];
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
  const findings = [...audit.findings].sort(
    (a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind),
  );
  const report: ReconcileReport = {
    fix: options.fix,
    findings,
    found: perKind(),
    repaired: perKind(),
    cleared: perKind(),
    jobs: mapLanes(() => 0),
    outdatedImages: audit.outdatedImages,
  };
  for (const finding of findings) report.found[finding.kind] += 1;
  if (!options.fix) return report;

  const recount = new Set(
    findings.flatMap((f) =>
      f.kind === 'ref_count_mismatch' || f.kind === 'unlinked_image' ? [f.imageId] : [],
    ),
  );
  const linkCounts = recount.size > 0 ? await countLinks(deps.catalog, recount) : new Map<string, number>();
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
