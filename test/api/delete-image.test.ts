import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { API_ROUTES } from '../../lambdas/contract.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import { derivativesPrefix, originalKey } from '../../lambdas/core/keys.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment } from '../../lambdas/handlers/api.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import { purgeImage } from '../../lambdas/services/delete-image.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { twinHandlers } from '../support/handlers.js';
import { makeImage } from '../support/images.js';
import { firstSeed } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const info = twinInfo();
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
const handlers = twinHandlers(parseSettings());
const { env, ingest } = handlers;
const run = randomBytes(4).toString('hex');
let seed = firstSeed();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const renderAll = (jobs: readonly RenderJob[]) => handlers.render(jobs);

async function newImage() {
  const bytes = await makeImage('jpeg', { width: 900, height: 600, seed: seed++ });
  return { bytes, imageId: sha256(bytes) };
}

const call = (routeKey: string, owner: string, imageId: string) =>
  handlers.api(routeKey, owner, { pathParameters: { imageId } });
const deleteImage = (owner: string, imageId: string) => call(API_ROUTES.deleteImage, owner, imageId);
const getImage = (owner: string, imageId: string) => call(API_ROUTES.getImage, owner, imageId);

async function storedObjects(imageId: string): Promise<string[]> {
  const { Contents = [] } = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: info.resources.imageBucket, Prefix: derivativesPrefix(imageId) }),
  );
  const original = await clients.s3
    .send(new HeadObjectCommand({ Bucket: info.resources.imageBucket, Key: originalKey(imageId) }))
    .then(() => [originalKey(imageId)])
    .catch(() => []);
  return [...original, ...Contents.map((object) => object.Key ?? '')];
}

describe('DELETE /v1/images/{imageId}', () => {
  const alice = `alice-${run}`;
  const bob = `bob-${run}`;
  const mallory = `mallory-${run}`;

  it('keeps a shared image for the other owner, and removes everything with the last link', async () => {
    const { bytes, imageId } = await newImage();
    await renderAll(await ingest(alice, bytes));
    await ingest(bob, bytes);
    const everything = await storedObjects(imageId);
    expect(everything.length).toBeGreaterThan(1);

    expect((await deleteImage(alice, imageId)).status).toBe(204);
    expect((await getImage(alice, imageId)).status).toBe(404);
    expect((await getImage(bob, imageId)).status).toBe(200);
    expect(await storedObjects(imageId)).toEqual(everything);
    expect((await catalog.getImage(imageId))?.refCount).toBe(1);

    expect((await deleteImage(bob, imageId)).status).toBe(204);
    expect(await catalog.getImage(imageId)).toBeUndefined();
    expect(await storedObjects(imageId)).toEqual([]);
    expect(await catalog.findLink(bob, imageId)).toBeUndefined();
  });

  it('answers 404, and changes nothing, for an image the caller does not have, a second delete included', async () => {
    const { bytes, imageId } = await newImage();
    await renderAll(await ingest(alice, bytes));
    const before = await storedObjects(imageId);
    const unknown = await deleteImage(mallory, 'f'.repeat(64));
    const others = await deleteImage(mallory, imageId);
    expect(others).toEqual(unknown);
    expect(others.status).toBe(404);
    expect((await deleteImage(mallory, 'not-a-hash')).status).toBe(404);
    expect(await storedObjects(imageId)).toEqual(before);
    expect((await getImage(alice, imageId)).status).toBe(200);

    expect((await deleteImage(alice, imageId)).status).toBe(204);
    expect((await deleteImage(alice, imageId)).status).toBe(404);
  });

  it('holds a new upload of the same bytes back while the image is being purged, then stores it afresh', async () => {
    const { bytes, imageId } = await newImage();
    await renderAll(await ingest(alice, bytes));
    // The delete has unlinked the last owner and marked the image, and has not purged it yet.
    const markedAt = new Date();
    expect(await catalog.unlinkImage(alice, imageId, markedAt)).toBe('last_link');

    const handler = createIngestHandler(ingestDependenciesFromEnvironment(env));
    const sent = await seedUpload(
      { catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket },
      bytes,
      {
        owner: bob,
      },
    );
    const event = objectCreatedEvent({ bucket: info.resources.uploadBucket, ...sent });
    const refused = await handler(event, lambdaContext('aperture-ingest')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RetryableError);
    expect(refused).toHaveProperty('reason', 'image_being_deleted');
    expect(await catalog.findLink(bob, imageId)).toBeUndefined();

    const deps = apiDependenciesFromEnvironment(env);
    await purgeImage(deps, imageId, markedAt);
    expect(await storedObjects(imageId)).toEqual([]);

    // Lambda's retry of the same event.
    await handler(event, lambdaContext('aperture-ingest'));
    expect(await catalog.getImage(imageId)).toMatchObject({ refCount: 1, status: 'processing' });
    expect(await storedObjects(imageId)).toEqual([originalKey(imageId)]);
  });

  it('never leaves a record whose bytes are gone when a delete races a new upload of the same bytes', async () => {
    for (let round = 0; round < 4; round++) {
      const { bytes, imageId } = await newImage();
      await renderAll(await ingest(alice, bytes));
      // The owner deletes while someone (the same owner, or another) uploads the very same bytes.
      const uploader = round % 2 === 0 ? alice : bob;
      const [deleted, jobs] = await Promise.all([deleteImage(alice, imageId), ingest(uploader, bytes)]);
      expect(deleted.status).toBe(204);
      await renderAll(jobs);

      const image = await catalog.getImage(imageId);
      const objects = await storedObjects(imageId);
      if (image) {
        expect(image.deletingSince, `round ${round}`).toBeUndefined();
        expect(objects, `round ${round}: a record keeps its original`).toContain(originalKey(imageId));
        expect(await catalog.findLink(uploader, imageId)).toBeDefined();
        expect(image.refCount).toBe(1);
      } else {
        expect(objects, `round ${round}: no record, no bytes`).toEqual([]);
      }
    }
  });
});
