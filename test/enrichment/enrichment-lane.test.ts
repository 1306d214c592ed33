import { createHash } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoImageEmbeddings } from '../../lambdas/adapters/aws/dynamo-image-embeddings.js';
import { DynamoMaintenanceCatalog } from '../../lambdas/adapters/aws/dynamo-maintenance-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import { S3DerivativeStore } from '../../lambdas/adapters/aws/s3-derivative-store.js';
import { S3ImageObjects } from '../../lambdas/adapters/aws/s3-image-objects.js';
import { S3ObjectInventory } from '../../lambdas/adapters/aws/s3-object-inventory.js';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { type EnrichmentJob, enrichmentVersion, type Tag } from '../../lambdas/core/enrichment.js';
import { DependencyRefusedError, RetryableError } from '../../lambdas/core/errors.js';
import { indexTerm, indexTerms, vectorKey } from '../../lambdas/core/index-terms.js';
import { analysisKey } from '../../lambdas/core/keys.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { upkeepVersion } from '../../lambdas/core/upkeep.js';
import { createEnrichHandler, enrichDependenciesFromEnvironment } from '../../lambdas/handlers/enrich.js';
import type { Tagger } from '../../lambdas/ports/enrichment.js';
import { deleteImage } from '../../lambdas/services/delete-image.js';
import { ingestUpload } from '../../lambdas/services/ingest-upload.js';
import { renderJob } from '../../lambdas/services/render-job.js';
import { reprocessImages } from '../../lambdas/services/reprocess-images.js';
import { LayoutEmbedder } from '../../local/enrichment/layout-embedder.js';
import { SqliteVectorIndex } from '../../local/enrichment/sqlite-vector-index.js';
import { TemplateCaptioner } from '../../local/enrichment/template-captioner.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { sqsEvent } from '../../local/events/sqs-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const info = twinInfo();
const { table, imageBucket, uploadBucket } = info.resources;
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, table);
const ownerIndex = new DynamoOwnerIndex(clients.dynamo, table);
const store = new S3DerivativeStore(clients.s3, imageBucket);
const settings = parseSettings({ enrichment: { enabled: true, tags: { minConfidence: 0.5, maxTags: 5 } } });
const version = enrichmentVersion(settings.enrichment);
const env = twinFunctionEnvironment(info, settings, 'https://cdn.example');
const embedder = new LayoutEmbedder();
const vectors = {
  index: new SqliteVectorIndex(':memory:', embedder),
  embeddings: new DynamoImageEmbeddings(clients.dynamo, table),
};
let seed = firstSeed();
afterAll(() => vectors.index.close());

/** A tagger of our own port that says what it is told to, or fails as told. */
function tagger(answer: () => Promise<Tag[]>): Tagger {
  return { modelId: 'test-tagger', tag: () => answer() };
}
const seeing = (...tags: Tag[]) => tagger(async () => tags);

function enrichHandler(model: Tagger) {
  return createEnrichHandler({
    ...enrichDependenciesFromEnvironment(env),
    models: { tagger: model, captioner: new TemplateCaptioner(), embedder },
    vectors,
  });
}

/** Ingests the bytes for the owner and renders both lanes; returns the enrichment jobs the thumbnails lane queued. */
async function uploadAndRender(
  owner: string,
  bytes: Buffer,
): Promise<{ imageId: string; queued: EnrichmentJob[] }> {
  const jobs: RenderJob[] = [];
  const sent = await seedUpload({ catalog, s3: clients.s3, uploadBucket }, bytes, { owner });
  await ingestUpload(
    {
      settings,
      catalog,
      store: new S3ObjectStore(clients.s3, { uploads: uploadBucket, images: imageBucket }),
      queue: { enqueue: async (queued) => void jobs.push(...queued) },
      ownerIndex,
      vectors,
      now: () => new Date(),
    },
    sent,
  );
  const queued: EnrichmentJob[] = [];
  const enrichmentQueue = { enqueue: async (job: EnrichmentJob) => void queued.push(job) };
  for (const job of jobs) await renderJob({ settings, catalog, store, ownerIndex, enrichmentQueue }, job);
  return { imageId: createHash('sha256').update(bytes).digest('hex'), queued };
}

let messageNumber = 0;
function message(body: unknown, receiveCount = 1): Message {
  return {
    MessageId: `m-${++messageNumber}`,
    ReceiptHandle: `r-${messageNumber}`,
    Body: typeof body === 'string' ? body : JSON.stringify(body),
    Attributes: { ApproximateReceiveCount: String(receiveCount) },
  };
}

async function deliver(model: Tagger, ...messages: Message[]) {
  const event = sqsEvent(messages, info.resources.enrichmentQueue.arn);
  return enrichHandler(model)(event, lambdaContext('aperture-enrich'));
}

/** Every entry of the owner's for the image, by term: exactly one each, or the test says which is off. */
async function entriesOf(owner: string, imageId: string, terms: readonly string[]): Promise<number[]> {
  return Promise.all(
    terms.map(async (term) => {
      const page = await ownerIndex.query(owner, term, { limit: 100 });
      return page.items.filter((id) => id === imageId).length;
    }),
  );
}

// Small enough that the large variants are skipped: the lanes' work stays a second or two.
const photo = () => makeImage('jpeg', { width: 900, height: 700, seed: seed++ });

describe('the enrichment lane', () => {
  it('queues an image once its thumbnails are made, from an analysis image that is not the original', async () => {
    const { imageId, queued } = await uploadAndRender(uniqueOwner('lane'), await photo());
    expect(queued).toEqual([{ imageId, version }]);
    const analysis = await store.readDerivative(analysisKey(imageId));
    expect(analysis?.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect((await catalog.getImage(imageId))?.enrichment).toEqual({
      status: 'pending',
      version,
      queuedAt: expect.any(Date),
    });
  });

  it('records tags, colours, caption and embedding, and files them for every owner of the image, the later one included', async () => {
    const [first, second] = [uniqueOwner('first'), uniqueOwner('second')];
    const bytes = await photo();
    const { imageId, queued } = await uploadAndRender(first, bytes);
    // Rendered, its enrichment pending: the upkeep still watches it.
    expect((await catalog.getImage(imageId))?.settledOn).toBeUndefined();
    const answer = await deliver(
      seeing(
        { name: ' Dog ', confidence: 0.92 },
        { name: 'dog', confidence: 0.7 },
        { name: 'kite', confidence: 0.3 },
      ),
      message(queued[0]),
    );
    expect(answer.batchItemFailures).toEqual([]);

    const image = await catalog.getImage(imageId);
    expect(image?.status).toBe('ready');
    // The enrichment was the last thing it waited for: it files the image as settled.
    expect(image?.settledOn).toBe(upkeepVersion(settings));
    expect(image?.enrichment).toMatchObject({
      status: 'done',
      version,
      tags: [{ name: 'dog', confidence: 0.92 }],
      caption: { text: 'A photo with a dog.', source: 'template' },
      embedding: { modelId: embedder.modelId, dimensions: embedder.dimensions, semantic: false },
    });
    expect(image?.enrichment?.colours?.length).toBeGreaterThan(0);
    expect(image?.enrichment?.enrichedAt).toBeInstanceOf(Date);
    const terms = indexTerms(image ?? {});
    expect(terms).toContain(indexTerm.tag('dog'));
    expect(await entriesOf(first, imageId, terms)).toEqual(terms.map(() => 1));

    // The same bytes from a second owner: ingest files what is known for them too.
    await uploadAndRender(second, bytes);
    expect(await entriesOf(second, imageId, terms)).toEqual(terms.map(() => 1));
    const nearest = await vectors.index.query(
      (await vectors.embeddings.get(imageId))?.vector ?? new Float32Array(),
      {
        topK: 5,
        filter: { owner: second },
      },
    );
    expect(nearest.map((match) => match.key)).toEqual([vectorKey(second, imageId)]);
  });

  it('makes no second set of entries or vectors when a job is delivered twice, even at once', async () => {
    const owner = uniqueOwner('twice');
    const { imageId, queued } = await uploadAndRender(owner, await photo());
    const model = seeing({ name: 'boat', confidence: 0.9 });
    await Promise.all([deliver(model, message(queued[0])), deliver(model, message(queued[0]))]);
    await deliver(model, message(queued[0], 2));
    const terms = indexTerms((await catalog.getImage(imageId)) ?? {});
    expect(await entriesOf(owner, imageId, terms)).toEqual(terms.map(() => 1));
    const mine = await vectors.index.query(
      (await vectors.embeddings.get(imageId))?.vector ?? new Float32Array(),
      {
        topK: 100,
        filter: { owner },
      },
    );
    expect(mine.filter((match) => match.metadata.imageId === imageId)).toHaveLength(1);
  });

  it('retries a failing model and, after the last try, marks only the enrichment failed: the image stays ready', async () => {
    const { imageId, queued } = await uploadAndRender(uniqueOwner('down'), await photo());
    const down = tagger(async () => {
      throw new RetryableError('dependency_unavailable', 'the tagger is down');
    });
    const first = await deliver(down, message(queued[0], 1));
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await catalog.getImage(imageId))?.enrichment?.status).toBe('pending');

    const last = await deliver(down, message(queued[0], 3));
    expect(last.batchItemFailures).toHaveLength(1);
    const image = await catalog.getImage(imageId);
    expect(image?.status).toBe('ready');
    expect(image?.enrichment).toMatchObject({ status: 'failed', failure: { reason: 'retries_exhausted' } });

    // Redriven from the dead-letter queue once the model is back: enriched after all.
    await deliver(seeing({ name: 'tree', confidence: 0.8 }), message(queued[0], 1));
    expect((await catalog.getImage(imageId))?.enrichment).toMatchObject({
      status: 'done',
      tags: [{ name: 'tree' }],
    });
  });

  it("records a model's lasting refusal of an image at once, and acknowledges the message", async () => {
    const { imageId, queued } = await uploadAndRender(uniqueOwner('refused'), await photo());
    const refusing = tagger(async () => {
      throw new DependencyRefusedError('input_refused', 'the image is too small for the model');
    });
    const answer = await deliver(refusing, message(queued[0]));
    expect(answer.batchItemFailures).toEqual([]);
    expect((await catalog.getImage(imageId))?.enrichment).toMatchObject({
      status: 'failed',
      failure: { reason: 'model_refused' },
    });
    expect((await catalog.getImage(imageId))?.status).toBe('ready');
  });

  it('fails a poison message alone, and changes nothing for a job of another version', async () => {
    const { imageId, queued } = await uploadAndRender(uniqueOwner('poison'), await photo());
    const poison = message('{"not": "a job"');
    const stale = message({ imageId, version: 'another-version' });
    const answer = await deliver(seeing({ name: 'cat', confidence: 0.9 }), poison, stale, message(queued[0]));
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: poison.MessageId }]);
    expect((await catalog.getImage(imageId))?.enrichment).toMatchObject({ status: 'done', version });
  });

  it("removes an owner's entries and vector with their link, and the analysis image with the last link", async () => {
    const owner = uniqueOwner('gone');
    const { imageId, queued } = await uploadAndRender(owner, await photo());
    await deliver(seeing({ name: 'lamp', confidence: 0.9 }), message(queued[0]));
    const terms = indexTerms((await catalog.getImage(imageId)) ?? {});
    const objects = new S3ImageObjects(clients.s3, imageBucket);
    const outcome = await deleteImage(
      { catalog, objects, cdn: undefined, ownerIndex, vectors, now: () => new Date() },
      owner,
      imageId,
    );
    expect(outcome.outcome).toBe('purged');
    expect(await entriesOf(owner, imageId, terms)).toEqual(terms.map(() => 0));
    const left = await vectors.index.query(new Float32Array(embedder.dimensions).fill(1), {
      topK: 100,
      filter: { owner },
    });
    expect(left).toEqual([]);
    expect(await store.readDerivative(analysisKey(imageId))).toBeUndefined();
    expect(await vectors.embeddings.get(imageId)).toBeUndefined();
  });

  it('is backfilled by the upkeep when switched on after images were made', async () => {
    const off = parseSettings();
    const owner = uniqueOwner('backfill');
    const bytes = await photo();
    const sent = await seedUpload({ catalog, s3: clients.s3, uploadBucket }, bytes, { owner });
    const jobs: RenderJob[] = [];
    await ingestUpload(
      {
        settings: off,
        catalog,
        store: new S3ObjectStore(clients.s3, { uploads: uploadBucket, images: imageBucket }),
        queue: { enqueue: async (queued) => void jobs.push(...queued) },
        ownerIndex,
        now: () => new Date(),
      },
      sent,
    );
    for (const job of jobs) await renderJob({ settings: off, catalog, store, ownerIndex }, job);
    const imageId = createHash('sha256').update(bytes).digest('hex');
    expect((await catalog.getImage(imageId))?.enrichment).toBeUndefined();

    const requeued: RenderJob[] = [];
    const report = await reprocessImages(
      {
        settings,
        catalog: new DynamoMaintenanceCatalog(clients.dynamo, table),
        queue: { enqueue: async (queued) => void requeued.push(...queued) },
        inventory: new S3ObjectInventory(clients.s3, { uploads: uploadBucket, images: imageBucket }),
        now: () => new Date(),
      },
      { scope: 'all', dryRun: false, prune: false, stuckAfterMs: 3_600_000, concurrency: 4 },
    );
    expect(report.derived).toBeGreaterThanOrEqual(1);
    const mine = requeued.filter((job) => job.imageId === imageId);
    expect(mine.map((job) => job.lane)).toEqual(['thumbnails']);
    const queued: EnrichmentJob[] = [];
    const enrichmentQueue = { enqueue: async (job: EnrichmentJob) => void queued.push(job) };
    for (const job of mine) await renderJob({ settings, catalog, store, ownerIndex, enrichmentQueue }, job);
    expect(queued).toEqual([{ imageId, version }]);
  });

  it('has a job lost while pending queued again by the upkeep, once it is overdue', async () => {
    const { imageId } = await uploadAndRender(uniqueOwner('lost'), await photo());
    const queuedAt = (await catalog.getImage(imageId))?.enrichment?.queuedAt?.getTime() ?? 0;
    const upkeep = async (now: number) => {
      const requeued: RenderJob[] = [];
      await reprocessImages(
        {
          settings,
          catalog: new DynamoMaintenanceCatalog(clients.dynamo, table),
          queue: { enqueue: async (queued) => void requeued.push(...queued) },
          inventory: new S3ObjectInventory(clients.s3, { uploads: uploadBucket, images: imageBucket }),
          now: () => new Date(now),
        },
        { scope: 'all', dryRun: false, prune: false, stuckAfterMs: 3_600_000, concurrency: 4 },
      );
      return requeued.filter((job) => job.imageId === imageId).map((job) => job.lane);
    };
    expect(await upkeep(queuedAt + 60_000)).toEqual([]);
    expect(await upkeep(queuedAt + 2 * 3_600_000)).toEqual(['thumbnails']);
  });
});
