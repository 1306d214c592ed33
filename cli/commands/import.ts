import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoImportTallies } from '../../lambdas/adapters/aws/dynamo-import-tallies.js';
import { ENV, IMPORT_MAX_CONCURRENCY, IMPORT_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import {
  type ImportBatch,
  importIdSchema,
  ownerSchema,
  parseS3Uri,
  rejectedCount,
} from '../../lambdas/core/imports.js';
import { REJECTION_REASONS } from '../../lambdas/core/rejections.js';
import { collectionSchema } from '../../lambdas/core/uploads.js';
import { describeIssues } from '../../lambdas/core/validation.js';
import {
  createImportHandler,
  importDependenciesFromEnvironment,
} from '../../lambdas/handlers/import-batch.js';
import { parsePositiveInteger } from '../arguments.js';
import type { ImportEngine, ImportView } from '../bulk/import-engine.js';
import { InProcessImports } from '../bulk/in-process-imports.js';
import { StepFunctionsImports } from '../bulk/step-functions-imports.js';
import type { CommandContext, CommandResult, OptionValues, PipelineCommand } from '../command.js';
import { count, table } from '../format.js';
import { UsageError } from '../usage-error.js';

const ENGINE_USAGE = `  With --import-state-machine-arn (or ${ENV.importStateMachineArn}) the import runs on the
  deployment's Step Functions Distributed Map; without it, the same map runs in this process
  (the local runtime: --local), its renders queued on --bulk-queue-url.
  --concurrency N   batches at once when run here (default ${IMPORT_MAX_CONCURRENCY}; the state
                    machine's own MaxConcurrency applies on AWS)`;

const ENGINE_OPTIONS = { concurrency: { type: 'string' } } as const;

export const importCommand: PipelineCommand = {
  target: 'pipeline',
  operands: 's3://BUCKET/PREFIX',
  summary: "import a library already in S3 into an owner's images (server-side, resumable)",
  usage: `  --owner ID        whose images they become (the JWT sub the API knows the owner by)
  --collection NAME the collection they go in
  --id ID           the import's id (default: import-<time>-<random>); an id is used once
  Each object is judged as an upload is (type, size, pixels, decodable) and deduplicated; the
  source bucket is only read. A second import of the same objects links nothing new.
${ENGINE_USAGE}`,
  options: {
    owner: { type: 'string' },
    collection: { type: 'string' },
    id: { type: 'string' },
    ...ENGINE_OPTIONS,
  },
  queuesJobs: () => true,
  async run(context, values, operands) {
    const [source, ...extra] = operands;
    if (!source || extra.length > 0) throw new UsageError('import needs one s3://BUCKET/PREFIX');
    const { bucket, prefix } = s3Source(source);
    const owner = checked(ownerSchema, values.owner, '--owner');
    const collection =
      values.collection === undefined
        ? undefined
        : checked(collectionSchema, values.collection, '--collection');
    const importId =
      typeof values.id === 'string'
        ? checked(importIdSchema, values.id, '--id')
        : `import-${context.now().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    const engine = await openEngine(context, values);
    return describe(
      await engine.start(importId, { bucket, prefix, owner, ...(collection ? { collection } : {}) }),
    );
  },
};

export const importStatusCommand = importIdCommand(
  'show an import: items done, new, duplicate, rejected by reason, failed',
  { queuesJobs: false },
  (engine, importId) => engine.status(importId),
);

export const importStopCommand = importIdCommand(
  'stop an import after the batches under way (resume it later)',
  { queuesJobs: false },
  (engine, importId) => engine.stop(importId),
);

export const importResumeCommand = importIdCommand(
  'run again what an import did not finish (stopped, failed, or its process killed)',
  { queuesJobs: true },
  (engine, importId) => engine.resume(importId),
);

function importIdCommand(
  summary: string,
  { queuesJobs }: { queuesJobs: boolean },
  act: (engine: ImportEngine, importId: string) => Promise<ImportView>,
): PipelineCommand {
  return {
    target: 'pipeline',
    operands: 'ID',
    summary,
    usage: ENGINE_USAGE,
    options: ENGINE_OPTIONS,
    queuesJobs: () => queuesJobs,
    async run(context, values, operands) {
      const [importId, ...extra] = operands;
      if (!importId || extra.length > 0) throw new UsageError('give one import id');
      const id = checked(importIdSchema, importId, 'the import id');
      return describe(await act(await openEngine(context, values), id));
    },
  };
}

/** The deployment's state machine when the environment names it; else the map, run in this process. */
async function openEngine(context: CommandContext, values: OptionValues): Promise<ImportEngine> {
  const env = context.environment;
  const clients = createAwsClients(env);
  const tallies = new DynamoImportTallies(clients.dynamo, String(env[ENV.table]));
  const stateMachineArn = env[ENV.importStateMachineArn];
  if (stateMachineArn)
    return new StepFunctionsImports(new SFNClient({ region: env.AWS_REGION }), stateMachineArn, tallies);

  if (!env[ENV.bulkQueueUrl]) {
    throw new UsageError(
      'say where imports run: --import-state-machine-arn, or, to run here, --bulk-queue-url (--local has it)',
    );
  }
  // The function's logs and metrics are for CloudWatch; here the results and the summary say it all.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // Lambda's invocation context, as the local runtime makes it (loaded only when the map runs here).
  const { lambdaContext } = await import('../../local/events/lambda-context.js');
  const handler = createImportHandler({
    ...importDependenciesFromEnvironment(env),
    logger: new Logger({ serviceName: 'aperture-import', logLevel: 'SILENT' }),
  });
  const maxConcurrency =
    typeof values.concurrency === 'string'
      ? parsePositiveInteger(values.concurrency, '--concurrency')
      : IMPORT_MAX_CONCURRENCY;
  return new InProcessImports(
    {
      s3: clients.s3,
      resultsBucket: String(env[ENV.imageBucket]),
      tallies,
      processBatch: (batch: ImportBatch) =>
        handler(batch, lambdaContext('aperture-import', { timeoutSeconds: IMPORT_TIMEOUT_SECONDS })),
      progress: context.progress,
      signal: context.signal,
    },
    { maxConcurrency },
  );
}

function describe(view: ImportView): CommandResult {
  const { items, tally } = view;
  const rejected = rejectedCount(tally);
  const unchanged = items ? Math.max(0, items.succeeded - tally.new - tally.duplicate - rejected) : undefined;
  const rows: string[][] = [
    ['items', items ? count(items.total) : 'not listed yet'],
    ['done', items ? count(items.succeeded) : '-'],
    ['  new images', count(tally.new)],
    ['  duplicates', count(tally.duplicate)],
    ['  rejected', count(rejected)],
    ...REJECTION_REASONS.flatMap((reason) => {
      const n = tally.rejected[reason];
      return n ? [[`    ${reason}`, count(n)]] : [];
    }),
    ['  unchanged', unchanged === undefined ? '-' : count(unchanged)],
    ['failed', items ? count(items.failed) : '-'],
    ['pending', items ? count(items.pending) : '-'],
  ];
  const source = `s3://${view.input.bucket}/${view.input.prefix}`;
  const text = [
    `import ${view.importId}: ${view.status} (${source} for ${view.input.owner})`,
    table(rows),
    ...(view.cause ? [`cause: ${view.cause}`] : []),
    ...(view.results ? [`results (every object, every rejection with its reason): ${view.results}`] : []),
  ].join('\n');
  return {
    text,
    json: { ...view, unchanged },
    failed: view.status === 'FAILED' || view.status === 'TIMED_OUT',
  };
}

/** A value checked by its schema, or the CLI's usage error naming the flag. */
function checked<T>(schema: z.ZodType<T>, value: unknown, flag: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${flag}: ${describeIssues(result.error)}`);
  return result.data;
}

function s3Source(uri: string): { bucket: string; prefix: string } {
  try {
    return parseS3Uri(uri);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
