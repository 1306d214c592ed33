import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseDuration, parsePositiveInteger } from '../arguments.js';
import { IngestCheckpoint } from '../bulk/ingest-checkpoint.js';
import {
  type IngestProblem,
  type IngestProgress,
  type IngestReport,
  ingestTree,
} from '../bulk/ingest-tree.js';
import { sendPolicy } from '../bulk/send-policy.js';
import type { ApiCommand } from '../command.js';
import { bytes, count, duration, table } from '../format.js';
import { progressBar } from '../progress.js';
import { UsageError } from '../usage-error.js';

const DEFAULT_CONCURRENCY = 8;

export const ingestCommand: ApiCommand = {
  target: 'api',
  operands: 'DIR',
  summary: 'bring every image under a directory into the pipeline, resumably',
  usage: `  DIR                     walked recursively; each file's bytes say whether it is an image
  --collection NAME       put the new images in this collection
  --dry-run               sniff, hash and ask which images are new, but upload and record nothing
  --concurrency N         files in flight at once (default ${DEFAULT_CONCURRENCY})
  --checkpoint FILE       where progress is kept between runs (default aperture-ingest-<DIR name>.sqlite
                          in the current directory); a rerun skips what is done and finishes the rest.
                          It is kept to its directory, API, owner and collection: another is refused
  --settle-timeout D      how long to wait for ingest to judge an upload (default 5m)`,
  options: {
    collection: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    checkpoint: { type: 'string' },
    'settle-timeout': { type: 'string' },
  },
  async run(context, values, operands) {
    const [dir, ...extra] = operands;
    if (!dir || extra.length > 0) throw new UsageError('ingest takes one directory');
    const root = resolve(dir);
    if (!existsSync(root)) throw new UsageError(`${dir}: no such directory`);
    const dryRun = values['dry-run'] === true;
    const checkpointFile = resolve(
      typeof values.checkpoint === 'string' ? values.checkpoint : `aperture-ingest-${basename(root)}.sqlite`,
    );
    const concurrency =
      typeof values.concurrency === 'string'
        ? parsePositiveInteger(values.concurrency, '--concurrency')
        : DEFAULT_CONCURRENCY;
    const settleTimeoutMs =
      typeof values['settle-timeout'] === 'string'
        ? parseDuration(values['settle-timeout'], '--settle-timeout')
        : 5 * 60_000;

    const collection = typeof values.collection === 'string' ? values.collection : undefined;
    // A dry run reads an existing checkpoint (to skip what is done) but makes none.
    const checkpoint: IngestCheckpoint | undefined =
      dryRun && !existsSync(checkpointFile)
        ? undefined
        : IngestCheckpoint.open(checkpointFile, {
            root,
            apiUrl: context.api.url,
            owner: await context.api.owner(),
            collection: collection ?? '',
          });
    const startedAt = Date.now();
    try {
      const report = await ingestTree({
        root,
        api: context.api,
        checkpoint,
        dryRun,
        collection,
        concurrency,
        policy: sendPolicy({ settleTimeoutMs }),
        skip: (path) => path.startsWith(checkpointFile),
        onProgress: (progress) => context.progress.update(() => progressText(progress, startedAt)),
        signal: context.signal,
      });
      context.progress.done(() => progressText(report, startedAt));
      const elapsedMs = Date.now() - startedAt;
      return {
        text: describeIngest(dir, report, elapsedMs, dryRun, checkpointFile),
        json: { root, dryRun, checkpoint: dryRun ? undefined : checkpointFile, elapsedMs, ...report },
        failed: report.counts.failed > 0,
      };
    } finally {
      checkpoint?.close();
    }
  },
};

function progressText(progress: IngestProgress, startedAt: number): string {
  const { counts } = progress;
  const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
  const rate = progress.files / seconds;
  const total = progress.total;
  const eta =
    total !== undefined && rate > 0 ? ` · ETA ${duration(((total - progress.files) / rate) * 1000)}` : '';
  return [
    `${progressBar(total === undefined ? undefined : progress.files / Math.max(total, 1))} ${count(progress.files)}/${total === undefined ? '…' : count(total)}`,
    `new ${count(counts.new)} · duplicate ${count(counts.duplicate)} · rejected ${count(counts.rejected)} · failed ${count(counts.failed)}`,
    `${rate.toFixed(1)} files/s · ${bytes(progress.bytes / seconds)}/s${eta}`,
  ].join(' · ');
}

function describeIngest(
  dir: string,
  report: IngestReport,
  elapsedMs: number,
  dryRun: boolean,
  checkpointFile: string,
): string {
  const { counts } = report;
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const lines = [
    `${dryRun ? 'Dry run: nothing uploaded or recorded. ' : ''}${dir}: ${count(report.files)} files, ${bytes(report.bytes)} in ${duration(elapsedMs)} (${(report.files / seconds).toFixed(1)} files/s, ${bytes(report.bytes / seconds)}/s)`,
    '',
    table([
      [dryRun ? 'new (would upload)' : 'new', count(counts.new)],
      ['duplicate', count(counts.duplicate)],
      ['rejected', count(counts.rejected)],
      ...Object.entries(report.rejected).map(([reason, n]) => [`  ${reason}`, count(n)]),
      ['failed', count(counts.failed)],
      ['done by an earlier run', count(counts.unchanged)],
      ['uploaded', bytes(report.bytesUploaded)],
    ]),
  ];
  if (report.interrupted) lines.push('', 'Interrupted: run the same command again to carry on.');
  if (report.failures.length > 0) {
    lines.push('', 'Failed (the next run tries these again):');
    lines.push(...report.failures.map(describeProblem));
    if (counts.failed > report.failures.length) {
      lines.push(`  … and ${count(counts.failed - report.failures.length)} more, in ${checkpointFile}`);
    }
  }
  return lines.join('\n');
}

/** `path: reason: message`, without saying the reason twice (a file system message starts with its code). */
function describeProblem(problem: IngestProblem): string {
  const detail = problem.message.startsWith(problem.reason)
    ? problem.message
    : `${problem.reason}: ${problem.message}`;
  return `  ${problem.path}: ${detail}`;
}
