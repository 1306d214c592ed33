import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineEvent, pipelineEventSchema } from '../../lambdas/core/events.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { ApiClient } from '../support/api-client.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { until } from '../support/until.js';
import { startWebhookReceiver, verifyWebhook } from '../support/webhook-receiver.js';

/**
 * A pipeline of this file's own that delivers every S3 event twice and hands every render job to two
 * invocations at once, as at-least-once delivery may: the events must still come once per change.
 */
let pipeline: LocalPipeline;
let dataDir: string;
const heard: PipelineEvent[] = [];
let seed = firstSeed();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'aperture-events-'));
  pipeline = await startLocalPipeline({
    dataDir,
    apiPort: 0,
    cdnPort: 0,
    workers: 2,
    settings: { enrichment: { enabled: false } },
    redeliverS3EventAfterMs: () => 50,
    redeliverRenderJob: () => true,
  });
  pipeline.events.listen((event) => heard.push(event));
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

/** Waits on the events heard so far; generous (the machine may be busy), naming what was heard. */
const untilHeard = (done: () => boolean, what: string) =>
  until(done, () => `${what}; heard ${JSON.stringify(heard.map((event) => event.id))}`, 180_000);

const ofOwner = (owner: string) => heard.filter((event) => event.owner === owner);
const readyFor = (owner: string) => ofOwner(owner).filter((event) => event.type === 'image.ready');

/**
 * Every change before this one is announced once the marker's own `image.ready` is heard: the
 * stream hands changes over in order, so nothing older can still be on its way.
 */
async function drainStream(): Promise<void> {
  const owner = uniqueOwner('marker');
  const client = await ApiClient.forOwner(pipeline.apiUrl, owner);
  await client.upload(await makeImage('png', { seed: seed++ }), {
    contentType: 'image/png',
    filename: 'marker.png',
    method: 'PUT',
  });
  await untilHeard(() => readyFor(owner).length > 0, 'ready event for the marker');
}

async function uploadAs(client: ApiClient, bytes: Buffer) {
  const { status, body } = await client.upload(bytes, {
    contentType: 'image/jpeg',
    filename: 'photo.jpg',
    method: 'PUT',
  });
  expect(status).toBe(201);
  return body.uploadId as string;
}

describe('events under duplicate S3 and SQS deliveries', () => {
  it('one upload by each of two owners of the same bytes: one ingested per upload, one ready per owner link, each to its owner only', async () => {
    const [alice, bob] = [uniqueOwner('alice'), uniqueOwner('bob')];
    const asAlice = await ApiClient.forOwner(pipeline.apiUrl, alice);
    const asBob = await ApiClient.forOwner(pipeline.apiUrl, bob);
    const bytes = await makeImage('jpeg', { width: 320, height: 240, seed: seed++ });
    const [aliceUpload, bobUpload] = await Promise.all([uploadAs(asAlice, bytes), uploadAs(asBob, bytes)]);

    await untilHeard(() => readyFor(alice).length > 0 && readyFor(bob).length > 0, 'ready for both owners');
    await drainStream();

    for (const [owner, uploadId] of [
      [alice, aliceUpload],
      [bob, bobUpload],
    ] as const) {
      const events = ofOwner(owner);
      expect(events.map((event) => event.type).sort()).toEqual(['image.ingested', 'image.ready']);
      const [ready] = readyFor(owner);
      expect(ready).toMatchObject({ uploadId, version: 1 });
      if (ready?.type !== 'image.ready') throw new Error('unreachable');
      expect(ready.image.status).toBe('ready');
      // The URLs as the API shows them: every rendered variant's, on the CDN (larger sizes are skipped).
      const rendered = ready.image.variants.filter((variant) => variant.status === 'ready');
      expect(rendered.length).toBeGreaterThan(0);
      for (const variant of rendered) expect(variant.url?.startsWith(`${pipeline.cdnUrl}/`)).toBe(true);
      // Nothing of the other owner's: their name, their upload.
      const other = owner === alice ? [bob, bobUpload] : [alice, aliceUpload];
      for (const event of events) for (const text of other) expect(JSON.stringify(event)).not.toContain(text);
    }
    // The bytes became one image; one upload made it, the other found it.
    const ingested = [...ofOwner(alice), ...ofOwner(bob)].filter((event) => event.type === 'image.ingested');
    expect(ingested.map((event) => event.type === 'image.ingested' && event.duplicate).sort()).toEqual([
      false,
      true,
    ]);
  });

  it('an owner who uploads bytes already rendered hears ingested (a duplicate) and ready at once, and a rejected upload is announced once', async () => {
    const [first, later] = [uniqueOwner('first'), uniqueOwner('later')];
    const asFirst = await ApiClient.forOwner(pipeline.apiUrl, first);
    const asLater = await ApiClient.forOwner(pipeline.apiUrl, later);
    const bytes = await makeImage('jpeg', { seed: seed++ });
    await uploadAs(asFirst, bytes);
    await untilHeard(() => readyFor(first).length > 0, 'ready for the first owner');

    const laterUpload = await uploadAs(asLater, bytes);
    const junk = Buffer.from('not an image at all, only words');
    const junkUpload = await uploadAs(asLater, junk);
    await untilHeard(() => readyFor(later).length > 0, 'ready for the later owner');
    await drainStream();

    expect(
      ofOwner(later)
        .map((event) => [event.type, event.uploadId])
        .sort(),
    ).toEqual(
      [
        ['image.ingested', laterUpload],
        ['image.ready', laterUpload],
        ['upload.rejected', junkUpload],
      ].sort(),
    );
    const rejected = ofOwner(later).find((event) => event.type === 'upload.rejected');
    expect(rejected).toMatchObject({ reason: 'unrecognised_format' });
    expect(ofOwner(later).find((event) => event.type === 'image.ingested')).toMatchObject({
      duplicate: true,
    });
  });

  it('a deleted image is announced once, to the owner who deleted it; the other holder hears nothing', async () => {
    const [keeper, deleter] = [uniqueOwner('keeper'), uniqueOwner('deleter')];
    const asKeeper = await ApiClient.forOwner(pipeline.apiUrl, keeper);
    const asDeleter = await ApiClient.forOwner(pipeline.apiUrl, deleter);
    const bytes = await makeImage('jpeg', { seed: seed++ });
    await uploadAs(asKeeper, bytes);
    const deleterUpload = await uploadAs(asDeleter, bytes);
    await untilHeard(() => readyFor(keeper).length > 0 && readyFor(deleter).length > 0, 'ready for both');
    const [ready] = readyFor(deleter);
    const imageId = ready?.type === 'image.ready' ? ready.imageId : '';

    const [first, second] = await Promise.all([
      asDeleter.call('DELETE', `/v1/images/${imageId}`),
      asDeleter.call('DELETE', `/v1/images/${imageId}`),
    ]);
    expect([first.status, second.status].sort()).toEqual([204, 404]);
    await drainStream();

    const deleted = heard.filter((event) => event.type === 'image.deleted' && event.imageId === imageId);
    expect(deleted).toEqual([
      expect.objectContaining({
        owner: deleter,
        uploadId: deleterUpload,
        id: `${imageId}:deleted:${deleterUpload}`,
      }),
    ]);
  });

  it('a webhook registered with the local API gets the upload’s ready once, signed, through the whole local pipeline', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const owner = uniqueOwner('hooked');
      const client = await ApiClient.forOwner(pipeline.apiUrl, owner);
      const registered = await client.call('POST', '/v1/webhooks', {
        url: `${receiver.url}/in`,
        events: ['image.ready'],
      });
      expect(registered.status).toBe(201);
      const uploadId = await uploadAs(client, await makeImage('jpeg', { seed: seed++ }));
      await untilHeard(() => readyFor(owner).length > 0, 'ready for the hooked owner');
      await until(() => receiver.received.length > 0, 'a delivery to the receiver');
      await drainStream();
      expect(receiver.received).toHaveLength(1);
      const [delivery] = receiver.received;
      const secret = String(registered.body.secret);
      expect(verifyWebhook(secret, delivery?.headers ?? {}, delivery?.body ?? '')).toBe(true);
      const body = JSON.parse(delivery?.body ?? '{}') as {
        type: string;
        data: { uploadId: string; id: string };
      };
      expect(body.type).toBe('image.ready');
      expect(body.data.uploadId).toBe(uploadId);
      expect(delivery?.headers['webhook-id']).toBe(body.data.id);
    } finally {
      await receiver.close();
    }
  });

  it('no event id is ever heard twice, and every event is as its published schema says', () => {
    const ids = heard.map((event) => event.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    // As consumers receive it: JSON, optional fields left out.
    for (const event of heard) pipelineEventSchema.parse(JSON.parse(JSON.stringify(event)));
  });
});
