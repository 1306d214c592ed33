import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import {
  IMMUTABLE_CACHE_CONTROL,
  S3DerivativeStore,
} from '../../lambdas/adapters/aws/s3-derivative-store.js';
import { S3ImageObjects } from '../../lambdas/adapters/aws/s3-image-objects.js';
import { MAX_RECEIVE_COUNT } from '../../lambdas/contract.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import { derivativeKey, derivativesPrefix, originalKey } from '../../lambdas/core/keys.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { variantSetVersion } from '../../lambdas/core/variants.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import { onDemandDependenciesFromEnvironment } from '../../lambdas/handlers/on-demand.js';
import { createRenderHandler, renderDependenciesFromEnvironment } from '../../lambdas/handlers/render.js';
import type { WorkQueue } from '../../lambdas/ports/work-queue.js';
import { deleteImage } from '../../lambdas/services/delete-image.js';
import { renderJob } from '../../lambdas/services/render-job.js';
import { renderOnDemand } from '../../lambdas/services/render-on-demand.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { sqsEvent } from '../../local/events/sqs-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { ensureWorkQueue } from '../../local/twin/provision.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const info = twinInfo();
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
const settings = parseSettings();
const env = twinFunctionEnvironment(info, settings, 'https://cdn.example');
const render = createRenderHandler(renderDependenciesFromEnvironment(env));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
let seed = firstSeed();
const owner = uniqueOwner('owner-a');

/** Ingests bytes for real and hands back the jobs it queued (captured at the port, not sent). */
async function ingestForJobs(bytes: Buffer, contentType = 'image/jpeg'): Promise<RenderJob[]> {
  const jobs: RenderJob[] = [];
  const queue: WorkQueue = { enqueue: async (queued) => void jobs.push(...queued) };
  const ingest = createIngestHandler({ ...ingestDependenciesFromEnvironment(env), queue });
  const sent = await seedUpload(
    { catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket },
    bytes,
    {
      owner,
      contentType,
    },
  );
  await ingest(
    objectCreatedEvent({ bucket: info.resources.uploadBucket, ...sent }),
    lambdaContext('aperture-ingest'),
  );
  return jobs;
}

/** Hands jobs to the render handler as one SQS batch, the way the event source mapping would. */
function deliver(jobs: readonly unknown[], receiveCount = 1) {
  const messages = jobs.map((job, i) => ({
    MessageId: `m-${i}`,
    ReceiptHandle: `r-${i}`,
    Body: typeof job === 'string' ? job : JSON.stringify(job),
    Attributes: { ApproximateReceiveCount: String(receiveCount) },
  }));
  return render(
    sqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:render'),
    lambdaContext('aperture-render'),
  );
}

async function derivativeObjects(imageId: string) {
  const { Contents = [] } = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: info.resources.imageBucket, Prefix: derivativesPrefix(imageId) }),
  );
  return Contents.map((object) => ({ key: object.Key ?? '', eTag: object.ETag ?? '' })).sort((a, b) =>
    a.key.localeCompare(b.key),
  );
}

describe('render workers against the local twin', () => {
  it('renders every variant of a new image, serves them as immutable, and marks it ready when the last lands', async () => {
    const bytes = await makeImage('jpeg', { width: 1280, height: 960, seed: seed++ });
    const imageId = sha256(bytes);
    const jobs = await ingestForJobs(bytes);
    expect(jobs.map((job) => job.lane).sort()).toEqual(['thumbnails', 'variants']);

    const [thumbnails, variants] = [
      jobs.find((j) => j.lane === 'thumbnails'),
      jobs.find((j) => j.lane === 'variants'),
    ];
    expect(await deliver([thumbnails])).toEqual({ batchItemFailures: [] });
    expect((await catalog.getImage(imageId))?.status).toBe('processing');
    expect(await deliver([variants])).toEqual({ batchItemFailures: [] });

    const image = await catalog.getImage(imageId);
    expect(image?.status).toBe('ready');
    expect(image?.placeholder?.thumbHash).toMatch(/^[A-Za-z0-9+/=]{10,}$/);
    expect(image?.placeholder?.dominantColour).toMatch(/^#[0-9a-f]{6}$/);
    expect(
      Object.values(image?.variants ?? {}).every((status) => status === 'ready' || status === 'skipped'),
    ).toBe(true);

    for (const variant of settings.variants) {
      const status = image?.variants[variant.name];
      for (const { format } of variant.formats) {
        const key = derivativeKey(imageId, variant, format);
        if (status === 'skipped') continue;
        const head = await clients.s3.send(
          new HeadObjectCommand({ Bucket: info.resources.imageBucket, Key: key }),
        );
        expect(head.CacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
        expect(head.ContentType).toBe(`image/${format}`);
        expect(head.Metadata).toMatchObject({ variant: variant.name, 'source-sha256': imageId });
        const { Body } = await clients.s3.send(
          new GetObjectCommand({
            Bucket: info.resources.imageBucket,
            Key: key,
          }),
        );
        const meta = await sharp(Buffer.from((await Body?.transformToByteArray()) ?? [])).metadata();
        expect(meta.width).toBeLessThanOrEqual(variant.width);
        expect(meta.height).toBeLessThanOrEqual(variant.height);
        expect(meta.exif).toBeUndefined();
      }
    }
    expect(image?.variants.thumb).toBe('ready');
    expect(image?.variants.small).toBe('ready');
  });

  it('changes nothing when a job is delivered again', async () => {
    const bytes = await makeImage('png', { width: 700, height: 500, seed: seed++ });
    const imageId = sha256(bytes);
    const jobs = await ingestForJobs(bytes, 'image/png');
    await deliver(jobs);
    const before = await derivativeObjects(imageId);
    const image = await catalog.getImage(imageId);
    expect(image?.status).toBe('ready');

    expect(await deliver(jobs)).toEqual({ batchItemFailures: [] });
    expect(await derivativeObjects(imageId)).toEqual(before);
    expect(await catalog.getImage(imageId)).toEqual(image);
  });

  it('ignores a job planned for another variant set, writing nothing', async () => {
    const bytes = await makeImage('jpeg', { width: 400, height: 300, seed: seed++ });
    const imageId = sha256(bytes);
    const [job] = await ingestForJobs(bytes);
    expect(await deliver([{ ...job, variantSetVersion: 'older' }])).toEqual({ batchItemFailures: [] });
    expect(await derivativeObjects(imageId)).toEqual([]);
    expect((await catalog.getImage(imageId))?.variantSetVersion).toBe(variantSetVersion(settings.variants));
  });

  it('fails only the bad messages of a batch', async () => {
    const bytes = await makeImage('jpeg', { width: 500, height: 400, seed: seed++ });
    const jobs = await ingestForJobs(bytes);
    const response = await deliver(['not json', { imageId: 'nope' }, ...jobs]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-0', 'm-1']);
    expect((await catalog.getImage(sha256(bytes)))?.status).toBe('ready');
  });

  it('parks a poison message in the dead-letter queue with its image failed and the reason recorded', async () => {
    // An original that passed ingest but is no longer what ingest judged: bytes swapped under the record.
    const bytes = await makeImage('jpeg', { width: 300, height: 200, seed: seed++ });
    const imageId = sha256(bytes);
    const [job] = await ingestForJobs(bytes);
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: info.resources.imageBucket,
        Key: originalKey(imageId),
        Body: Buffer.from('garbage'),
      }),
    );

    const queue = await ensureWorkQueue(clients.sqs, `poison-${Date.now().toString(36)}`, 1);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(job) }));
    for (let delivery = 1; delivery <= MAX_RECEIVE_COUNT; delivery++) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MessageSystemAttributeNames: ['All'],
          WaitTimeSeconds: 3,
        }),
      );
      expect(Messages).toHaveLength(1);
      expect(Messages[0]?.Attributes?.ApproximateReceiveCount).toBe(String(delivery));
      const response = await render(sqsEvent(Messages, queue.arn), lambdaContext('aperture-render'));
      // A failed item is left on the queue, as the event source mapping does, to come back after its timeout.
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: Messages[0]?.MessageId }]);
    }
    // The next receive finds it over the limit: SQS moves it to the dead-letter queue instead.
    const { Messages: again = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 3 }),
    );
    expect(again).toEqual([]);
    const { Messages: parked = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, WaitTimeSeconds: 5 }),
    );
    expect(parked.map((m) => JSON.parse(m.Body ?? '{}').imageId)).toEqual([imageId]);

    const image = await catalog.getImage(imageId);
    expect(image).toMatchObject({
      status: 'failed',
      failure: { reason: 'original_mismatch', message: expect.any(String) },
    });
    expect(await derivativeObjects(imageId)).toEqual([]);
  });
});

describe('one render handler serving invocations at once (as the local pollers do)', () => {
  it('keeps their results apart: a poison batch fails, a good one beside it does not', async () => {
    const jobs = await ingestForJobs(await makeImage('jpeg', { seed: firstSeed() + 11 }));
    const message = (id: string, body: string) => ({
      MessageId: id,
      ReceiptHandle: `r-${id}`,
      Body: body,
      Attributes: { ApproximateReceiveCount: '1' },
    });
    const arn = 'arn:aws:sqs:us-east-1:000000000000:render';
    const good = sqsEvent(
      jobs.map((job, i) => message(`good-${i}`, JSON.stringify(job))),
      arn,
    );
    const bad = sqsEvent([message('bad', 'not json at all')], arn);
    const [goodAnswer, badAnswer] = await Promise.all([
      render(good, lambdaContext('aperture-render')),
      render(bad, lambdaContext('aperture-render')),
    ]);
    expect(goodAnswer.batchItemFailures).toEqual([]);
    expect(badAnswer.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  });
});

describe('what the thumbnails lane files after recording its variants', () => {
  it('is retried when it fails, but never fails an image whose variants are recorded', async () => {
    const [thumbnails] = (await ingestForJobs(await makeImage('jpeg', { seed: firstSeed() + 7 }))).filter(
      (job) => job.lane === 'thumbnails',
    );
    if (!thumbnails) throw new Error('no thumbnails job');
    const base = renderDependenciesFromEnvironment(env);
    // The owner index refuses every write, as it would through a DynamoDB outage.
    const failing = createRenderHandler({
      ...base,
      ownerIndex: {
        ...base.ownerIndex,
        put: async () => {
          throw new RetryableError('dependency_unavailable', 'put index entries failed: the table is down');
        },
      },
    });
    const answer = await failing(
      sqsEvent(
        [
          {
            MessageId: 'last',
            ReceiptHandle: 'r',
            Body: JSON.stringify(thumbnails),
            Attributes: { ApproximateReceiveCount: '3' },
          },
        ],
        'arn:aws:sqs:us-east-1:000000000000:render',
      ),
      lambdaContext('aperture-render'),
    );
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'last' }]);
    const image = await catalog.getImage(thumbnails.imageId);
    expect(image?.status).not.toBe('failed');
    expect(image?.fingerprint).toBeDefined();
    for (const name of thumbnails.variants) expect(image?.variants[name]).toBe('ready');
  });
});

describe('renderers trust only the bytes ingest judged', () => {
  /** An ingested image whose original has since been overwritten with another, valid, image. */
  async function swappedOriginal() {
    const bytes = await makeImage('jpeg', { width: 640, height: 480, seed: seed++ });
    const imageId = sha256(bytes);
    const jobs = await ingestForJobs(bytes);
    const other = await makeImage('jpeg', { width: 640, height: 480, seed: seed++ });
    await clients.s3.send(
      new PutObjectCommand({ Bucket: info.resources.imageBucket, Key: originalKey(imageId), Body: other }),
    );
    return { imageId, jobs };
  }

  it('fails the job as original_mismatch and writes nothing', async () => {
    const { imageId, jobs } = await swappedOriginal();
    const response = await deliver(jobs);
    expect(response.batchItemFailures).toHaveLength(jobs.length);
    expect(await catalog.getImage(imageId)).toMatchObject({
      status: 'failed',
      failure: { reason: 'original_mismatch' },
    });
    expect(await derivativeObjects(imageId)).toEqual([]);
  });

  it('renders nothing on demand either', async () => {
    const { imageId } = await swappedOriginal();
    const small = settings.variants.find((variant) => variant.name === 'small');
    if (!small) throw new Error('the default set has a small variant');
    const outcome = await renderOnDemand(onDemand(), derivativeKey(imageId, small, 'webp'));
    expect(outcome).toEqual({ outcome: 'not_found', why: 'original_mismatch' });
    expect(await derivativeObjects(imageId)).toEqual([]);
  });
});

describe('a render that outlives a delete of its image', () => {
  /**
   * A store whose first write waits for the image's last owner to delete it: the render read the
   * record and the original before the delete, and writes after the purge.
   */
  function deletedMidRender(owner: string, imageId: string) {
    let deleted: Promise<unknown> | undefined;
    const deletion = {
      catalog,
      objects: new S3ImageObjects(clients.s3, info.resources.imageBucket),
      cdn: undefined,
      ownerIndex: new DynamoOwnerIndex(clients.dynamo, info.resources.table),
      now: () => new Date(),
    };
    return new (class extends S3DerivativeStore {
      override async putDerivative(derivative: Parameters<S3DerivativeStore['putDerivative']>[0]) {
        deleted ??= deleteImage(deletion, owner, imageId);
        expect(await deleted).toMatchObject({ outcome: 'purged' });
        await super.putDerivative(derivative);
      }
    })(clients.s3, info.resources.imageBucket);
  }

  it.each(['thumbnails', 'variants'] as const)(
    'removes what the %s lane wrote, so no derivative stays public',
    async (lane) => {
      const bytes = await makeImage('jpeg', { width: 900, height: 600, seed: seed++ });
      const imageId = sha256(bytes);
      const job = (await ingestForJobs(bytes)).find((queued) => queued.lane === lane);
      if (!job) throw new Error(`no ${lane} job`);
      const store = deletedMidRender(owner, imageId);

      const ownerIndex = new DynamoOwnerIndex(clients.dynamo, info.resources.table);
      expect(await renderJob({ settings, catalog, store, ownerIndex }, job)).toEqual({
        outcome: 'stale',
        imageId,
        why: 'image_gone',
      });
      expect(await catalog.getImage(imageId)).toBeUndefined();
      expect(await derivativeObjects(imageId)).toEqual([]);
    },
  );

  it('removes what an on-demand render wrote, and the CDN then finds nothing', async () => {
    const bytes = await makeImage('jpeg', { width: 900, height: 600, seed: seed++ });
    const imageId = sha256(bytes);
    await ingestForJobs(bytes);
    const small = settings.variants.find((variant) => variant.name === 'small');
    if (!small) throw new Error('the default set has a small variant');
    const key = derivativeKey(imageId, small, 'webp');

    const racing = { ...onDemand(), store: deletedMidRender(owner, imageId) };
    expect((await renderOnDemand(racing, key)).outcome).toBe('not_found');
    expect(await derivativeObjects(imageId)).toEqual([]);
    // What the CDN's fallback origin answers for the key from now on.
    expect(await renderOnDemand(onDemand(), key)).toMatchObject({ outcome: 'not_found' });
  });
});

const onDemand = () => onDemandDependenciesFromEnvironment(env);
