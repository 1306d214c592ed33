import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { runCli } from '../../cli/main.js';
import {
  holderToItem,
  imageToItem,
  linkToItem,
  uploadToItem,
} from '../../lambdas/adapters/aws/catalog-items.js';
import { type AwsClients, createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoMaintenanceCatalog } from '../../lambdas/adapters/aws/dynamo-maintenance-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import { S3DerivativeStore } from '../../lambdas/adapters/aws/s3-derivative-store.js';
import { S3ObjectInventory } from '../../lambdas/adapters/aws/s3-object-inventory.js';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { stackOutputs } from '../../lambdas/adapters/aws/stack-outputs.js';
import { derivativesPrefix } from '../../lambdas/core/keys.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import type { ImageLink, ImageRecord, UploadRecord } from '../../lambdas/ports/catalog.js';
import { ingestUpload } from '../../lambdas/services/ingest-upload.js';
import { renderJob } from '../../lambdas/services/render-job.js';
import { openLocalApi, openLocalTarget } from '../../local/runtime/local-target.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { startTwin, type Twin, twinEnvironment } from '../../local/twin/index.js';
import { seedUpload } from './uploads.js';

/**
 * A private twin for operations over whole buckets and tables (stats, reprocess, reconcile): they
 * read and repair everything there is, so they must not share the run's twin with other tests.
 */
export interface PrivateWorld {
  twin: Twin;
  clients: AwsClients;
  catalog: DynamoMaintenanceCatalog;
  inventory: S3ObjectInventory;
  /** The function environment (with the twin's endpoints) an operator points the CLI at. */
  env(settings: Settings): Record<string, string>;
  /** Uploads and ingests the bytes for real; the jobs ingest queued are captured at the port, not sent. */
  ingest(bytes: Buffer, owner: string, settings: Settings): Promise<{ imageId: string; jobs: RenderJob[] }>;
  /** Runs jobs through the real render service; returns every key it wrote. */
  render(jobs: readonly RenderJob[], settings: Settings): Promise<string[]>;
  /** An image's derivatives, key → ETag. */
  derivatives(imageId: string): Promise<Map<string, string>>;
  /**
   * Writes records as they are stored (a link with its holder, as every transaction writes them),
   * without the pipeline's transactions: how inconsistencies are planted.
   */
  put(record: { image?: ImageRecord; link?: ImageLink; upload?: UploadRecord }): Promise<void>;
  putObject(bucket: 'uploads' | 'images', key: string, bytes: number): Promise<void>;
  stop(): Promise<void>;
}

/** A private world for one test file: started before its tests, stopped after them. */
export function privateWorldForFile(): () => PrivateWorld {
  let world: PrivateWorld | undefined;
  beforeAll(async () => {
    world = await startPrivateWorld();
  }, 60_000);
  afterAll(() => world?.stop());
  return () => {
    if (!world) throw new Error('the private world starts before the tests');
    return world;
  };
}

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

export async function startPrivateWorld(): Promise<PrivateWorld> {
  const twin = await startTwin();
  const clients = createAwsClients(twinEnvironment(twin));
  const catalog = new DynamoMaintenanceCatalog(clients.dynamo, twin.resources.table);
  const buckets = { uploads: twin.resources.uploadBucket, images: twin.resources.imageBucket };
  return {
    twin,
    clients,
    catalog,
    inventory: new S3ObjectInventory(clients.s3, buckets),
    env: (settings) => twinFunctionEnvironment(twin, settings, 'https://cdn.example'),
    async ingest(bytes, owner, settings) {
      const jobs: RenderJob[] = [];
      const sent = await seedUpload({ catalog, s3: clients.s3, uploadBucket: buckets.uploads }, bytes, {
        owner,
      });
      await ingestUpload(
        {
          settings,
          catalog,
          store: new S3ObjectStore(clients.s3, buckets),
          queue: { enqueue: async (queued) => void jobs.push(...queued) },
          ownerIndex: new DynamoOwnerIndex(clients.dynamo, twin.resources.table),
          now: () => new Date(),
        },
        sent,
      );
      return { imageId: sha256(bytes), jobs };
    },
    async render(jobs, settings) {
      const written: string[] = [];
      const store = new (class extends S3DerivativeStore {
        override async putDerivative(derivative: Parameters<S3DerivativeStore['putDerivative']>[0]) {
          written.push(derivative.key);
          await super.putDerivative(derivative);
        }
      })(clients.s3, buckets.images);
      const ownerIndex = new DynamoOwnerIndex(clients.dynamo, twin.resources.table);
      for (const job of jobs) await renderJob({ settings, catalog, store, ownerIndex }, job);
      return written.sort();
    },
    async derivatives(imageId) {
      const { Contents = [] } = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: buckets.images, Prefix: derivativesPrefix(imageId) }),
      );
      return new Map(Contents.map((object) => [object.Key ?? '', object.ETag ?? '']));
    },
    async put({ image, link, upload }) {
      const items = [
        image && imageToItem(image),
        link && linkToItem(link),
        link && holderToItem(link),
        upload && uploadToItem(upload),
      ];
      for (const item of items) {
        if (item) await clients.dynamo.send(new PutCommand({ TableName: twin.resources.table, Item: item }));
      }
    },
    async putObject(bucket, key, bytes) {
      await clients.s3.send(
        new PutObjectCommand({ Bucket: buckets[bucket], Key: key, Body: Buffer.alloc(bytes, 7) }),
      );
    },
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
      await twin.stop();
    },
  };
}

/** `aperture …` in this process, as bin/aperture-cli.ts runs it; `now` moves the CLI's clock. */
export async function aperture(
  args: readonly string[],
  env: Record<string, string | undefined>,
  now?: () => Date,
): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(
    args,
    {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      stderrIsTerminal: false,
    },
    {
      env,
      openLocal: openLocalTarget,
      openLocalApi,
      stackOutputs,
      readFile: (path) => readFile(path, 'utf8'),
      ...(now ? { now } : {}),
    },
  );
  return { status, stdout, stderr };
}

export function link(owner: string, imageId: string): ImageLink {
  return {
    owner,
    imageId,
    uploadId: '1'.repeat(32),
    collection: undefined,
    filename: 'x.jpg',
    linkedAt: new Date(),
  };
}

/** An upload record as the API would have made it, for planting; fields overridable. */
export function uploadRecord(state: UploadRecord['state'], fields: Partial<UploadRecord> = {}): UploadRecord {
  return {
    uploadId: newUploadId(),
    owner: 'uploader',
    state,
    contentType: 'image/jpeg',
    size: 10,
    sha256: undefined,
    filename: undefined,
    collection: undefined,
    createdAt: new Date(),
    uploadExpiresAt: new Date(Date.now() + 300_000),
    ...fields,
  };
}
