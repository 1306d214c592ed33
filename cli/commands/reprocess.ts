import { WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { type ReprocessReport, reprocessImages } from '../../lambdas/services/reprocess-images.js';
import { parseRate } from '../arguments.js';
import type { PipelineCommand } from '../command.js';
import { bytes, count, table } from '../format.js';
import { createPacer } from '../pacer.js';
import { ratePerSecond } from '../progress.js';

/** Render jobs queued per second unless `--rate` says otherwise: gentle on a deployment's workers. */
const DEFAULT_RATE = 10;
/** Images planned at once: their listings and record updates overlap, the queue still gets `--rate`. */
const CONCURRENCY = 8;

export const reprocessCommand: PipelineCommand = {
  target: 'pipeline',
  summary: 'bring every image to the current variant set, queuing only the variants it lacks',
  usage: `  --dry-run       plan and count; change nothing, queue nothing
  --rate N        render jobs queued per second (default ${DEFAULT_RATE}; "25" or "25/s")
  --prune         also remove derivatives of other revisions from images complete on the current set`,
  options: {
    'dry-run': { type: 'boolean', default: false },
    rate: { type: 'string' },
    prune: { type: 'boolean', default: false },
  },
  queuesJobs: (values) => !values['dry-run'],
  async run(context, values) {
    const rate = typeof values.rate === 'string' ? parseRate(values.rate, '--rate') : DEFAULT_RATE;
    const startedAt = Date.now();
    let report: ReprocessReport | undefined;
    const line = () =>
      report
        ? `reprocess: ${count(report.images)} images read, ${count(report.moved)} moved, ${count(report.requeued)} requeued, ${count(report.jobs.thumbnails + report.jobs.variants)} jobs (${ratePerSecond(report.images, startedAt)})`
        : '';
    const final = await reprocessImages(
      {
        ...context.adapters,
        now: context.now,
        pace: createPacer(rate),
        onProgress: (sofar) => {
          report = sofar;
          context.progress.update(line);
        },
      },
      {
        // The operator's pass reads every image, whatever the upkeep index says, and files the
        // settled ones in it: the way a catalog from before the index joins it.
        scope: 'all',
        dryRun: Boolean(values['dry-run']),
        prune: Boolean(values.prune),
        stuckAfterMs: context.stuckAfterMs,
        concurrency: CONCURRENCY,
      },
    );
    context.progress.done(line);
    return { text: describeReprocess(final), json: final };
  },
};

function describeReprocess(report: ReprocessReport): string {
  const would = report.dryRun ? ' (dry run: nothing changed)' : '';
  const { left } = report;
  const variants = Object.entries(report.variants);
  return [
    `Variant set ${report.variantSetVersion}${would}`,
    '',
    table([
      ['images read', count(report.images)],
      ['  already on the set', count(report.current)],
      ['    of which filed as settled for the upkeep', count(report.settled)],
      ['  moved to the set', count(report.moved)],
      ['  stalled renders queued again', count(report.requeued)],
      ['  fingerprint or enrichment missing, thumbnails queued again', count(report.derived)],
      ['  left: failed', count(left.failed)],
      ['  left: being deleted', count(left.deleting)],
      ['  left: still in ingest', count(left.ingesting)],
      ['  left: kept changing', count(left.changed)],
      ...WORK_LANES.map((lane) => [`render jobs: ${lane}`, count(report.jobs[lane])]),
      ...variants.map(([name, images]) => [`  ${name}`, `${count(images)} images`]),
      ['stale derivatives pruned', count(report.pruned.objects), bytes(report.pruned.bytes)],
    ]),
  ].join('\n');
}
