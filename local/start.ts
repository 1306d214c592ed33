import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SettingsInput } from '../lambdas/core/settings.js';
import { type LocalPipeline, startLocalPipeline } from './runtime/local-pipeline.js';
import { TWIN_CREDENTIALS } from './twin/index.js';

/** `npm start`: the whole pipeline on this machine until Ctrl-C. */

const USAGE = `Usage: npm start -- [--fresh] [--host H] [--port N] [--cdn-port N] [--data-dir DIR] [--workers N]

  --fresh       wipe the data dir first (images, catalog, token key)
  --host        interface to listen on (default 127.0.0.1, env APERTURE_HOST)
  --port        API and demo page (default 3000, env APERTURE_PORT; 0 picks a free one)
  --cdn-port    the local CDN (default 3001, env APERTURE_CDN_PORT; 0 picks a free one)
  --data-dir    where data is kept (default .aperture, env APERTURE_DATA_DIR)
  --workers     render invocations at once per lane (default: the machine's cores)
  --plain       no enrichment lane (tags, captions, colours, search): saves the tagger's 100–150 MB`;

/**
 * The laptop's settings: enrichment on, with the offline models. CenterNet scores what it sees lower
 * than Rekognition does (a clear person 0.5–0.7, a bird 0.2–0.3; flat colour alone up to 0.22,
 * docs/benchmarks.md), so its tags are kept from 0.2 rather than the AWS default of 0.6.
 */
const LOCAL_SETTINGS: SettingsInput = {
  enrichment: { enabled: true, tags: { minConfidence: 0.2, maxTags: 20 } },
};

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535)
    throw new UsageError(`${name} must be a port number, not "${value}"`);
  return number;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      fresh: { type: 'boolean', default: false },
      host: { type: 'string' },
      port: { type: 'string' },
      'cdn-port': { type: 'string' },
      'data-dir': { type: 'string' },
      workers: { type: 'string' },
      plain: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const env = process.env;
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0))
    throw new UsageError('--workers must be a whole number above 0');
  return {
    fresh: values.fresh,
    host: values.host ?? env.APERTURE_HOST ?? '127.0.0.1',
    apiPort: port(values.port ?? env.APERTURE_PORT, '--port') ?? 3000,
    cdnPort: port(values['cdn-port'] ?? env.APERTURE_CDN_PORT, '--cdn-port') ?? 3001,
    dataDir: resolve(values['data-dir'] ?? env.APERTURE_DATA_DIR ?? '.aperture'),
    ...(workers ? { workers } : {}),
    ...(values.plain ? {} : { settings: LOCAL_SETTINGS }),
  };
}

function banner(pipeline: LocalPipeline, dataDir: string): string {
  const { endpoints, resources, region } = pipeline.twin;
  const credentials = `AWS_ACCESS_KEY_ID=${TWIN_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${TWIN_CREDENTIALS.secretAccessKey} AWS_DEFAULT_REGION=${region}`;
  return `
Aperture is running locally (data in ${dataDir})

  Demo page and API  ${pipeline.apiUrl}/
  CDN                ${pipeline.cdnUrl}/
  S3 (s3rver)        ${endpoints.s3}    buckets ${resources.uploadBucket}, ${resources.imageBucket}
  DynamoDB (Local)   ${endpoints.dynamodb}    table ${resources.table}
  SQS (fauxqs)       ${endpoints.sqs}

  A bearer token for the API:   npm run token -- <owner>
  The AWS CLI against the emulators:
    export ${credentials}
    aws --endpoint-url ${endpoints.s3} s3 ls
    aws --endpoint-url ${endpoints.dynamodb} dynamodb list-tables
    aws --endpoint-url ${endpoints.sqs} sqs list-queues

Ctrl-C stops everything.
`;
}

async function main(): Promise<void> {
  const options = readOptions();
  const pipeline = await startLocalPipeline(options);
  console.log(banner(pipeline, options.dataDir));
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    console.log(`\n${signal}: stopping (Ctrl-C again to force)…`);
    pipeline.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
