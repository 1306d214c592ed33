import { OUTPUT_FORMATS } from '../../lambdas/core/formats.js';
import { gatherStats, type PipelineStats } from '../../lambdas/services/pipeline-stats.js';
import type { PipelineCommand } from '../command.js';
import { bytes, count, percent, table } from '../format.js';
import { readProgress } from '../progress.js';

export const statsCommand: PipelineCommand = {
  target: 'pipeline',
  summary: 'count images, links, uploads, stored objects and bytes, and how complete the variants are',
  usage: '  (no flags of its own)',
  options: {},
  queuesJobs: () => false,
  async run(context) {
    const progress = readProgress(context.progress, 'stats');
    const stats = await gatherStats(
      { ...context.adapters, now: context.now, onProgress: progress.onProgress },
      { stuckAfterMs: context.stuckAfterMs },
    );
    progress.done();
    return { text: describeStats(stats), json: stats };
  },
};

function describeStats(stats: PipelineStats): string {
  const { images, uploads, variants, storage } = stats;
  const formats = Object.entries(stats.derivedByFormat).filter(([, tally]) => tally.objects > 0);
  return [
    `Variant set ${stats.variantSetVersion}`,
    '',
    table([
      ['images', count(images.total)],
      ['  processing', count(images.processing), images.stuck > 0 ? `${count(images.stuck)} stuck` : ''],
      ['  ready', count(images.ready)],
      ['  failed', count(images.failed)],
      ['  being deleted', count(images.deleting)],
      ['  on an older variant set', count(images.outdated), images.outdated > 0 ? 'aperture reprocess' : ''],
      ['links', count(stats.links)],
      ['uploads', count(uploads.total)],
      [
        '  pending',
        count(uploads.pending),
        uploads.expired > 0 ? `${count(uploads.expired)} past expiry` : '',
      ],
      ['  accepted', count(uploads.accepted)],
      ['  rejected', count(uploads.rejected)],
      [
        'variants complete',
        percent(variants.complete, variants.expected),
        `${count(variants.complete)} of ${count(variants.expected)} ready or skipped`,
      ],
    ]),
    '',
    table([
      ['', 'objects', 'bytes'],
      ['originals/', count(storage.originals.objects), bytes(storage.originals.bytes)],
      ['derived/', count(storage.derived.objects), bytes(storage.derived.bytes)],
      ...formats.map(([format, tally]) => [
        `  ${format in OUTPUT_FORMATS ? OUTPUT_FORMATS[format as keyof typeof OUTPUT_FORMATS].extension : format}`,
        count(tally.objects),
        bytes(tally.bytes),
      ]),
      ['uploads/', count(storage.uploads.objects), bytes(storage.uploads.bytes)],
      ['  incomplete multipart', count(stats.incompleteMultipartUploads), ''],
    ]),
  ].join('\n');
}
