import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration, parsePositiveInteger } from '../arguments.js';
import { PathPatternError, parsePathPattern } from '../bulk/json-path-pattern.js';
import {
  type MigrateProblem,
  type MigrateProgress,
  type MigrateReport,
  migrateJson,
} from '../bulk/migrate-json.js';
import { sendPolicy } from '../bulk/send-policy.js';
import type { ApiCommand } from '../command.js';
import { bytes, count, table } from '../format.js';
import { progressBar } from '../progress.js';
import { UsageError } from '../usage-error.js';

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_VARIANT = 'large';

export const migrateJsonCommand: ApiCommand = {
  target: 'api',
  operands: 'FILE',
  summary: 'replace images embedded in a JSON file as base64 data URIs by their CDN URLs',
  usage: `  FILE                    a JSON document; rewritten in place, after a backup (FILE.<time>.bak)
  --path PATTERN          only look there (repeatable): $.items[*].photo, $..thumbnail, $['a b'][0]
  --variant NAME          whose URL replaces each image (default ${DEFAULT_VARIANT}; an image too small for
                          it gets its largest rendered variant of the same fit)
  --collection NAME       put the new images in this collection
  --dry-run               judge every data URI and count what would change; upload and write nothing
  --concurrency N         images sent at once (default ${DEFAULT_CONCURRENCY})
  --render-timeout D      how long to wait for an image's variant to render (default 10m)`,
  options: {
    path: { type: 'string', multiple: true },
    variant: { type: 'string' },
    collection: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    'render-timeout': { type: 'string' },
  },
  async run(context, values, operands) {
    const [given, ...extra] = operands;
    if (!given || extra.length > 0) throw new UsageError('migrate-json takes one file');
    const file = resolve(given);
    if (!existsSync(file)) throw new UsageError(`${given}: no such file`);
    const patterns = (Array.isArray(values.path) ? values.path : []).map((text) => {
      try {
        return parsePathPattern(text);
      } catch (error) {
        if (error instanceof PathPatternError) throw new UsageError(`--path ${text}: ${error.message}`);
        throw error;
      }
    });
    const dryRun = values['dry-run'] === true;
    const report = await migrateJson({
      file,
      api: context.api,
      patterns,
      variant: typeof values.variant === 'string' ? values.variant : DEFAULT_VARIANT,
      collection: typeof values.collection === 'string' ? values.collection : undefined,
      dryRun,
      concurrency:
        typeof values.concurrency === 'string'
          ? parsePositiveInteger(values.concurrency, '--concurrency')
          : DEFAULT_CONCURRENCY,
      policy: sendPolicy({ settleTimeoutMs: 5 * 60_000 }),
      renderTimeoutMs:
        typeof values['render-timeout'] === 'string'
          ? parseDuration(values['render-timeout'], '--render-timeout')
          : 10 * 60_000,
      now: context.now,
      onProgress: (progress) => context.progress.update(() => progressText(progress)),
    });
    context.progress.done(() => 'migrate-json: done');
    return {
      text: describeMigration(given, report, dryRun),
      json: { file, dryRun, ...report },
      failed: report.failed > 0,
    };
  },
};

function progressText(progress: MigrateProgress): string {
  const pass = progress.pass === 'upload' ? 'sending images' : 'rewriting';
  return `${progressBar(progress.bytesRead / Math.max(progress.bytesTotal, 1))} ${pass}: ${bytes(progress.bytesRead)} of ${bytes(progress.bytesTotal)} · ${count(progress.dataUris)} data URIs, ${count(progress.images)} images`;
}

function describeMigration(file: string, report: MigrateReport, dryRun: boolean): string {
  const lines = [
    dryRun
      ? `Dry run: nothing uploaded or written. ${file}`
      : report.backup
        ? `${file} rewritten; the original is in ${report.backup}`
        : `${file} unchanged`,
    '',
    table([
      ['values', count(report.total)],
      [dryRun ? 'migrated (would be)' : 'migrated', count(report.migrated)],
      ['skipped (already URLs)', count(report.skipped)],
      ['failed (left as they were)', count(report.failed)],
      ['distinct images', count(report.images.distinct)],
      ['  new to the pipeline', count(report.images.new)],
      ['size before', bytes(report.bytesBefore)],
      ['size after', bytes(report.bytesAfter)],
    ]),
  ];
  if (report.problems.length > 0) {
    lines.push('', 'Left as they were:', ...report.problems.map(describeProblem));
    if (report.failed > report.problems.length) {
      lines.push(`  … and ${count(report.failed - report.problems.length)} more`);
    }
  }
  return lines.join('\n');
}

function describeProblem(problem: MigrateProblem): string {
  return `  ${problem.path}: ${problem.reason}: ${problem.message}`;
}
