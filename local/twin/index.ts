import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDb } from './dynamodb.js';
import { TWIN_REGION } from './environment.js';
import { onParentExit } from './parent-exit.js';
import { admitBrowserUploads, provisionTwin, type TwinEndpoints, type TwinResources } from './provision.js';
import { type ObjectCreatedListener, startS3 } from './s3.js';
import { startSqs } from './sqs.js';

export { TWIN_CREDENTIALS, TWIN_REGION, twinEnvironment } from './environment.js';
export { TwinStartError } from './errors.js';
export type { TwinEndpoints, TwinResources, WorkQueue } from './provision.js';
export type { ObjectCreatedListener, ObjectCreatedRecord } from './s3.js';

export interface TwinOptions {
  /**
   * Persist S3 objects (`{dataDir}/s3`) and the DynamoDB database (`{dataDir}/dynamodb`) here, so a
   * restart finds them again. SQS is always in memory: queues are recreated, messages are lost.
   * @default a fresh temporary directory, removed on stop, with DynamoDB in memory
   */
  dataDir?: string;
  /**
   * The interface the emulators listen on and clients connect to. DynamoDB Local cannot be told:
   * it listens on every interface.
   * @default '127.0.0.1'
   */
  host?: string;
  /** @default free ports chosen by the OS */
  ports?: { s3?: number; dynamodb?: number; sqs?: number };
}

/** Everything a client needs to reach the twin; JSON-serialisable, so vitest can `provide` it. */
export interface TwinInfo {
  region: string;
  endpoints: TwinEndpoints;
  resources: TwinResources;
}

export interface Twin extends TwinInfo {
  /** Closes every server, stops the JVM and removes a temporary data dir. Safe to call twice. */
  stop(): Promise<void>;
  /** S3 object-created notifications from every bucket; returns the unsubscribe function. */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /**
   * Stops DynamoDB Local and starts it again on the same port, as an outage of the service would
   * look to clients. Its data survives only when the twin has a `dataDir` (else it is in memory).
   */
  restartDynamoDb(): Promise<void>;
  /**
   * Admits browsers to S3 from these origins only (a page's, once it has one): the upload bucket's
   * CORS rule names them, and S3 refuses a request with any other `Origin`. Until then, any origin.
   */
  admitBrowserOrigins(origins: readonly string[]): Promise<void>;
}

/** Starts the local twin of Aperture's AWS resources: S3 (s3rver), DynamoDB (DynamoDB Local), SQS (fauxqs). */
export async function startTwin(options: TwinOptions = {}): Promise<Twin> {
  const host = options.host ?? '127.0.0.1';
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'aperture-twin-')));
  // A crashed or interrupted run must not leave a temporary twin's objects behind.
  const releaseDataDir = ownsDataDir
    ? onParentExit(() => rmSync(dataDir, { recursive: true, force: true }))
    : () => {};
  const s3Dir = join(dataDir, 's3');
  const dynamoDbDir = join(dataDir, 'dynamodb');
  await Promise.all([mkdir(s3Dir, { recursive: true }), mkdir(dynamoDbDir, { recursive: true })]);

  const started = await Promise.allSettled([
    startS3({ host, port: options.ports?.s3 ?? 0, directory: s3Dir }),
    // A throwaway twin keeps DynamoDB in memory: faster, and nothing worth keeping.
    startDynamoDb({
      host,
      port: options.ports?.dynamodb ?? 0,
      directory: dynamoDbDir,
      inMemory: ownsDataDir,
    }),
    startSqs({ host, port: options.ports?.sqs ?? 0 }),
  ]);
  let running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const shutdown = async () => {
    await Promise.allSettled(running.map((emulator) => emulator.stop()));
    releaseDataDir();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };
  const [s3, dynamodb, sqs] = started;
  if (s3.status === 'rejected' || dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    await shutdown();
    throw started.find((result) => result.status === 'rejected')?.reason;
  }

  const endpoints = { s3: s3.value.endpoint, dynamodb: dynamodb.value.endpoint, sqs: sqs.value.endpoint };
  let resources: TwinResources;
  try {
    resources = await provisionTwin(endpoints, TWIN_REGION);
  } catch (error) {
    await shutdown();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    region: TWIN_REGION,
    endpoints,
    resources,
    onObjectCreated: (listener) => s3.value.onObjectCreated(listener),
    admitBrowserOrigins: async (origins) => {
      s3.value.admitBrowserOrigins(origins);
      await admitBrowserUploads(endpoints, TWIN_REGION, origins);
    },
    restartDynamoDb: async () => {
      const current = running.find((emulator) => emulator.endpoint === endpoints.dynamodb);
      await current?.stop();
      const restarted = await startDynamoDb({
        host,
        port: Number(new URL(endpoints.dynamodb).port),
        directory: dynamoDbDir,
        inMemory: ownsDataDir,
      });
      running = [...running.filter((emulator) => emulator !== current), restarted];
    },
    stop: () => {
      stopping ??= shutdown();
      return stopping;
    },
  };
}
