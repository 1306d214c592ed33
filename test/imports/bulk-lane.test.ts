import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { IMPORT_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import { renderJobSchema } from '../../lambdas/core/render-jobs.js';
import {
  createImportHandler,
  importDependenciesFromEnvironment,
} from '../../lambdas/handlers/import-batch.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { twinEnvironment } from '../../local/twin/index.js';
import { ApiClient } from '../support/api-client.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { messagesIn } from '../support/queues.js';
import { until } from '../support/until.js';

/**
 * A pipeline of this file's own, whose lanes' pollers show it every message they receive (the
 * fault hook `redeliverRenderJob`, answering false: a spy that changes nothing), so the test sees
 * which images' jobs went through the app uploads' lanes.
 */
let pipeline: LocalPipeline;
let clients: AwsClients;
let dataDir: string;
const imagesOnLanes = new Set<string>();
let seed = firstSeed();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'aperture-bulk-lane-'));
  pipeline = await startLocalPipeline({
    dataDir,
    apiPort: 0,
    cdnPort: 0,
    workers: 1,
    settings: { enrichment: { enabled: false } },
    redeliverRenderJob: (message) => {
      imagesOnLanes.add(renderJobSchema.parse(JSON.parse(message.Body ?? '')).imageId);
      return false;
    },
  });
  clients = createAwsClients(twinEnvironment(pipeline.twin));
}, 120_000);

afterAll(async () => {
  clients?.s3.destroy();
  clients?.sqs.destroy();
  clients?.dynamo.destroy();
  await pipeline?.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Polls the image as its owner sees it until every variant is ready; generous, for a busy machine. */
async function untilReady(client: ApiClient, imageId: string): Promise<void> {
  let last: unknown;
  await until(
    async () => {
      const { body } = await client.call('GET', `/v1/images/${imageId}`);
      last = body.status;
      return body.status === 'ready';
    },
    () => `image ${imageId} ready; last seen ${String(last)}`,
    240_000,
  );
}

describe('imports render on the bulk lane', () => {
  it("an import's images are rendered from the bulk queue, never the lanes, while an app upload goes through the lanes", async () => {
    const owner = uniqueOwner('library');
    const bucket = `import-source-${randomBytes(4).toString('hex')}`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const library = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const bytes = await makeImage('jpeg', { width: 640, height: 480, seed: seed++ });
        const Key = `trip/photo-${i}.jpg`;
        const { ETag } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: bytes }));
        return { item: { Key, Size: bytes.length, Etag: ETag ?? '' }, imageId: sha256(bytes) };
      }),
    );

    const importObjects = createImportHandler(importDependenciesFromEnvironment(pipeline.importEnvironment));
    const result = await importObjects(
      { Items: library.map(({ item }) => item), BatchInput: { importId: 'bulk-lane-test', bucket, owner } },
      lambdaContext('aperture-import', { timeoutSeconds: IMPORT_TIMEOUT_SECONDS }),
    );
    expect(result.results.map((item) => item.outcome)).toEqual(['new', 'new', 'new']);

    const app = await ApiClient.forOwner(pipeline.apiUrl, uniqueOwner('app'));
    const photo = await makeImage('jpeg', { width: 640, height: 480, seed: seed++ });
    const upload = await app.upload(photo, { contentType: 'image/jpeg', filename: 'app.jpg', method: 'PUT' });
    expect(upload.status).toBe(201);

    const asOwner = await ApiClient.forOwner(pipeline.apiUrl, owner);
    await Promise.all([
      ...library.map(({ imageId }) => untilReady(asOwner, imageId)),
      untilReady(app, sha256(photo)),
    ]);
    expect(imagesOnLanes.has(sha256(photo))).toBe(true);
    for (const { imageId } of library) expect(imagesOnLanes.has(imageId)).toBe(false);
    // Every bulk job was settled by its poller, none parked: nothing is left on the queue or its DLQ.
    const { bulkQueue } = pipeline.twin.resources;
    await until(async () => (await messagesIn(clients.sqs, bulkQueue.url)) === 0, 'the bulk queue empty');
    expect(await messagesIn(clients.sqs, bulkQueue.deadLetterUrl)).toBe(0);
  });
});
