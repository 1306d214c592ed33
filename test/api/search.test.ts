import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import { API_ROUTES } from '../../lambdas/contract.js';
import type { DominantColour } from '../../lambdas/core/enrichment.js';
import { DependencyRefusedError, RetryableError } from '../../lambdas/core/errors.js';
import { indexTerm } from '../../lambdas/core/index-terms.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import {
  type ApiDependencies,
  apiDependenciesFromEnvironment,
  createApiHandler,
} from '../../lambdas/handlers/api.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import type { Embedder, IndexedVector, VectorIndex } from '../../lambdas/ports/enrichment.js';
import type { WorkQueue } from '../../lambdas/ports/work-queue.js';
import { MAX_CANDIDATES_PER_SEARCH } from '../../lambdas/services/search-images.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { apiEvent } from '../support/api-events.js';
import { enrich, enrichment } from '../support/enrichment.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const info = twinInfo();
const table = info.resources.table;
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, table);
const ownerIndex = new DynamoOwnerIndex(clients.dynamo, table);
const env = twinFunctionEnvironment(info, parseSettings(), 'https://cdn.example');
const deps = apiDependenciesFromEnvironment(env);
const api = createApiHandler(deps);
let seed = firstSeed();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const randomHash = () => randomBytes(32).toString('hex');

/** Uploads and ingests bytes for an owner through the real ingest handler; the render jobs are dropped. */
async function ingest(
  owner: string,
  bytes: Buffer,
  options: { collection?: string; filename?: string } = {},
) {
  const queue: WorkQueue = { enqueue: async () => {} };
  const handler = createIngestHandler({ ...ingestDependenciesFromEnvironment(env), queue });
  const sent = await seedUpload(
    { catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket },
    bytes,
    { owner, ...options },
  );
  const event = objectCreatedEvent({ bucket: info.resources.uploadBucket, ...sent });
  // As Lambda's asynchronous retries would: a transient failure is tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(event, lambdaContext('aperture-ingest'));
      return sha256(bytes);
    } catch (error) {
      if (!(error instanceof RetryableError) || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const colour = (name: DominantColour['name'], share: number): DominantColour => ({
  hex: '#000000',
  name,
  share,
});

/** A new image of the owner's, enriched as the lane would: its id. */
async function enrichedImage(
  owner: string,
  fields: { tags?: string[]; caption?: string; colours?: DominantColour[]; collection?: string },
): Promise<string> {
  const bytes = await makeImage('jpeg', { seed: seed++ });
  const imageId = await ingest(owner, bytes, {
    filename: `${fields.tags?.[0] ?? 'image'}.jpg`,
    ...(fields.collection ? { collection: fields.collection } : {}),
  });
  await enrich({ catalog, ownerIndex }, imageId, enrichment(fields));
  return imageId;
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are inspected field by field.
  body: any;
}

async function search(
  owner: string,
  query: Record<string, string>,
  handler: ReturnType<typeof createApiHandler> = api,
): Promise<Answer> {
  const response = await handler(
    apiEvent(API_ROUTES.search, { owner, queryStringParameters: query }),
    lambdaContext('aperture-api'),
  );
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

/** The ids a successful search found, sorted (word search answers in index order, not by relevance). */
async function found(owner: string, query: Record<string, string>): Promise<string[]> {
  const answer = await search(owner, query);
  expect(answer.status).toBe(200);
  return answer.body.items.map((item: { imageId: string }) => item.imageId).sort();
}

/** Every page, following the cursor to the end: the ids of each page. */
async function allPages(owner: string, query: Record<string, string>): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const answer = await search(owner, { ...query, ...(cursor ? { cursor } : {}) });
    expect(answer.status).toBe(200);
    pages.push(answer.body.items.map((item: { imageId: string }) => item.imageId));
    cursor = answer.body.cursor;
  } while (cursor);
  return pages;
}

const sorted = (ids: string[]) => [...ids].sort();
const cursorOf = (fields: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(fields)).toString('base64url');

describe('GET /v1/search', () => {
  const alice = uniqueOwner('search-alice');
  const bob = uniqueOwner('search-bob');
  const images = {} as Record<'dog' | 'cat' | 'dogOnBeach' | 'car', string>;

  beforeAll(async () => {
    images.dog = await enrichedImage(alice, {
      tags: ['dog', 'grass'],
      caption: 'A brown dog running on green grass',
      colours: [colour('green', 0.5), colour('brown', 0.3)],
      collection: 'pets',
    });
    images.cat = await enrichedImage(alice, {
      tags: ['cat'],
      caption: 'A grey cat asleep on a sofa',
      colours: [colour('grey', 0.6)],
      collection: 'pets',
    });
    images.dogOnBeach = await enrichedImage(alice, {
      tags: ['dog', 'beach'],
      caption: 'A dog on the beach at sunset',
      colours: [colour('orange', 0.4), colour('blue', 0.3), colour('red', 0.05)],
    });
    images.car = await enrichedImage(alice, {
      tags: ['car'],
      caption: 'A red car parked in the street',
      colours: [colour('red', 0.55), colour('grey', 0.2)],
    });
  });

  it('finds the images with a tag, as GET /v1/images/{id} shows them, and says q is word search', async () => {
    const answer = await search(alice, { tag: 'dog' });
    expect(answer.status).toBe(200);
    expect(answer.body.semantic).toBe(false);
    expect(answer.body.cursor).toBeUndefined();
    const byId = new Map(answer.body.items.map((item: { imageId: string }) => [item.imageId, item]));
    expect([...byId.keys()].sort()).toEqual(sorted([images.dog, images.dogOnBeach]));
    expect(byId.get(images.dog)).toMatchObject({ filename: 'dog.jpg', collection: 'pets', format: 'jpeg' });
    const view = await api(
      apiEvent(API_ROUTES.getImage, { owner: alice, pathParameters: { imageId: images.dog } }),
      lambdaContext('aperture-api'),
    );
    expect(byId.get(images.dog)).toEqual(JSON.parse(view.body));
  });

  it('with several tags, finds only the images with all of them, tags named as stored ones are', async () => {
    expect(await found(alice, { tag: 'dog,grass' })).toEqual([images.dog]);
    expect(await found(alice, { tag: ' Dog , BEACH ' })).toEqual([images.dogOnBeach]);
    expect(await found(alice, { tag: 'cat,dog' })).toEqual([]);
  });

  it('finds caption and tag words, every word of q', async () => {
    expect(await found(alice, { q: 'sunset' })).toEqual([images.dogOnBeach]);
    expect(await found(alice, { q: 'Brown DOG!' })).toEqual([images.dog]);
    expect(await found(alice, { q: 'dog' })).toEqual(sorted([images.dog, images.dogOnBeach]));
    expect(await found(alice, { q: 'parked car' })).toEqual([images.car]);
    expect(await found(alice, { q: 'parked cat' })).toEqual([]);
  });

  it('finds a dominant colour by palette name or by hex, only where it covers enough of the image', async () => {
    expect(await found(alice, { colour: 'red' })).toEqual([images.car]);
    expect(await found(alice, { colour: '#e01a1a' })).toEqual([images.car]);
    expect(await found(alice, { colour: 'gray' })).toEqual(sorted([images.cat, images.car]));
    expect(await found(alice, { tag: 'dog', colour: 'orange' })).toEqual([images.dogOnBeach]);
  });

  it('keeps to a collection when asked', async () => {
    expect(await found(alice, { tag: 'dog', collection: 'pets' })).toEqual([images.dog]);
    expect(await found(alice, { colour: 'grey', collection: 'pets' })).toEqual([images.cat]);
    expect(await found(alice, { tag: 'dog', collection: 'travel' })).toEqual([]);
  });

  it('refuses a search without tag, q or colour, and malformed parameters, naming the parameter', async () => {
    const refusals: Array<[Record<string, string>, string]> = [
      [{}, 'query'],
      [{ collection: 'pets' }, 'query'],
      [{ tag: 'dog', sort: 'newest' }, 'sort'],
      [{ tag: 'dog,,cat' }, 'tag'],
      [{ tag: Array.from({ length: 11 }, (_, i) => `t${i}`).join(',') }, 'tag'],
      [{ q: 'the and of' }, 'q'],
      [{ q: '   ' }, 'q'],
      [{ colour: 'chartreuse' }, 'colour'],
      [{ tag: 'dog', limit: '0' }, 'limit'],
      [{ tag: 'dog', limit: '51' }, 'limit'],
      [{ tag: 'dog', collection: '../x' }, 'collection'],
    ];
    for (const [query, field] of refusals) {
      const answer = await search(alice, query);
      expect({ query, status: answer.status, body: answer.body }).toEqual({
        query,
        status: 400,
        body: { error: { code: 'invalid_request', message: expect.any(String), field } },
      });
    }
  });

  describe('paging', () => {
    const owner = uniqueOwner('search-pages');
    const trees: string[] = [];
    const oaks: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        const oak = i % 2 === 0;
        const imageId = await enrichedImage(owner, {
          tags: ['tree'],
          caption: oak ? 'an old oak tree' : 'a young birch tree',
        });
        trees.push(imageId);
        if (oak) oaks.push(imageId);
      }
    });

    it('covers every result exactly once, following the cursor', async () => {
      const pages = await allPages(owner, { tag: 'tree', limit: '3' });
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
      expect(pages[0]).toHaveLength(3);
      expect(sorted(pages.flat())).toEqual(sorted(trees));
    });

    it('covers every result exactly once when other criteria drop entries along the way', async () => {
      const pages = await allPages(owner, { tag: 'tree', q: 'oak', limit: '2' });
      expect(pages[0]).toHaveLength(2);
      expect(sorted(pages.flat())).toEqual(sorted(oaks));
    });

    it('refuses a cursor it did not issue, or issued for another search', async () => {
      const { body } = await search(owner, { tag: 'tree', limit: '3' });
      const issued: string = body.cursor;
      expect(issued).toEqual(expect.any(String));
      const forged = [
        'not-a-cursor',
        cursorOf({ term: indexTerm.tag('tree'), index: 'IMAGE#x' }),
        cursorOf({ term: indexTerm.tag('tree'), index: randomHash(), pk: `INDEX#${alice}#tag:dog` }),
        cursorOf({ term: indexTerm.tag('tree') }),
        Buffer.from('null').toString('base64url'),
      ];
      for (const cursor of forged) {
        const answer = await search(owner, { tag: 'tree', cursor });
        expect({ cursor, status: answer.status, field: answer.body.error?.field }).toEqual({
          cursor,
          status: 400,
          field: 'cursor',
        });
      }
      expect((await search(owner, { tag: 'oak', cursor: issued })).status).toBe(400);
      expect((await search(owner, { tag: 'tree', cursor: issued })).status).toBe(200);
    });

    it('follows a cursor only through the caller’s own entries, whoever issued it', async () => {
      const { body } = await search(owner, { tag: 'tree', limit: '1' });
      expect(body.cursor).toEqual(expect.any(String));
      const replayed = await search(alice, { tag: 'tree', cursor: body.cursor });
      expect(replayed).toEqual({ status: 200, body: { items: [], semantic: false } });
    });

    it('joins a common term with a rare one in one request, never reading every image of the common one', async () => {
      const both = await enrichedImage(owner, { tags: ['moss', 'lichen'] });
      const onlyMoss = Array.from({ length: MAX_CANDIDATES_PER_SEARCH * 2 }, randomHash);
      await Promise.all(onlyMoss.map((imageId) => ownerIndex.put(owner, imageId, [indexTerm.tag('moss')])));
      for (const tags of ['moss,lichen', 'lichen,moss']) {
        const answer = await search(owner, { tag: tags });
        expect(answer.status).toBe(200);
        expect({ tags, found: answer.body.items.map((item: { imageId: string }) => item.imageId) }).toEqual({
          tags,
          found: [both],
        });
        expect(answer.body.cursor).toBeUndefined();
      }
    });

    it('bounds the entries one request checks, answering a cursor to carry on', async () => {
      const needle = await enrichedImage(owner, { tags: ['needle'] });
      // Entries with no link behind them, as a delete racing the enrichment lane can leave.
      const stale = Array.from({ length: MAX_CANDIDATES_PER_SEARCH + 20 }, randomHash);
      await Promise.all(stale.map((imageId) => ownerIndex.put(owner, imageId, [indexTerm.tag('needle')])));
      const pages = await allPages(owner, { tag: 'needle', limit: '5' });
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.flat()).toEqual([needle]);
    });
  });

  describe('tenant isolation', () => {
    const carol = uniqueOwner('search-carol');

    it('shows each owner only their own images, a shared image once, through their own link', async () => {
      const bytes = await makeImage('jpeg', { seed: seed++ });
      const shared = await ingest(bob, bytes, { filename: 'bobs.jpg' });
      await enrich(
        { catalog, ownerIndex },
        shared,
        enrichment({ tags: ['dog', 'park'], caption: 'a dog in the park' }),
      );
      // Alice uploads the very same bytes: ingest files her entries for what is already known.
      expect(await ingest(alice, bytes, { filename: 'mine.jpg' })).toBe(shared);
      const bobsOwn = await enrichedImage(bob, { tags: ['dog', 'cat'], caption: 'a dog and a cat' });

      const forAlice = await search(alice, { tag: 'dog' });
      const aliceIds = forAlice.body.items.map((item: { imageId: string }) => item.imageId);
      expect(sorted(aliceIds)).toEqual(sorted([images.dog, images.dogOnBeach, shared]));
      expect(forAlice.body.items.find((item: { imageId: string }) => item.imageId === shared)).toMatchObject({
        filename: 'mine.jpg',
      });

      const forBob = await search(bob, { tag: 'dog' });
      expect(sorted(forBob.body.items.map((item: { imageId: string }) => item.imageId))).toEqual(
        sorted([shared, bobsOwn]),
      );
      expect(forBob.body.items.find((item: { imageId: string }) => item.imageId === shared)).toMatchObject({
        filename: 'bobs.jpg',
      });

      // Bob's image has Alice's tag and words, and Alice's images have Bob's: neither finds the other's.
      expect(await found(bob, { tag: 'grass' })).toEqual([]);
      expect(await found(bob, { q: 'sunset' })).toEqual([]);
      expect(await found(bob, { colour: 'red' })).toEqual([]);
      expect(await found(alice, { tag: 'cat' })).toEqual([images.cat]);
      expect(await found(carol, { tag: 'dog' })).toEqual([]);
    });

    it('drops an entry whose link is gone, or that was filed for another owner’s image', async () => {
      const bobsOnly = await enrichedImage(bob, { tags: ['ferret'] });
      // As a race could leave them: Alice's entries for an image only Bob holds, and for no image at all.
      await ownerIndex.put(alice, bobsOnly, [indexTerm.tag('ferret')]);
      await ownerIndex.put(alice, randomHash(), [indexTerm.tag('ferret')]);
      expect(await found(alice, { tag: 'ferret' })).toEqual([]);
      expect(await found(bob, { tag: 'ferret' })).toEqual([bobsOnly]);
    });

    it('no longer finds an image once the caller deleted it; its other owner still does', async () => {
      const bytes = await makeImage('jpeg', { seed: seed++ });
      const kite = await ingest(alice, bytes);
      await ingest(bob, bytes);
      await enrich(
        { catalog, ownerIndex },
        kite,
        enrichment({ tags: ['kite'], caption: 'a kite over the hill' }),
      );
      expect(await found(alice, { tag: 'kite' })).toEqual([kite]);

      const deleted = await api(
        apiEvent(API_ROUTES.deleteImage, { owner: alice, pathParameters: { imageId: kite } }),
        lambdaContext('aperture-api'),
      );
      expect(deleted.statusCode).toBe(204);
      expect(await found(alice, { tag: 'kite' })).toEqual([]);
      expect(await found(alice, { q: 'hill' })).toEqual([]);
      expect(await ownerIndex.query(alice, indexTerm.tag('kite'), { limit: 10 })).toEqual({ items: [] });
      expect(await found(bob, { tag: 'kite' })).toEqual([kite]);
    });
  });

  describe('with a semantic embedder', () => {
    /** Three directions of meaning; a text's vector is the sum of its words'. */
    const MEANINGS: Record<string, [number, number, number]> = {
      animal: [1, 0, 0],
      pet: [1, 0.2, 0],
      seaside: [0.3, 1, 0],
      vehicle: [0, 0, 1],
    };
    const embedder: Embedder = {
      modelId: 'fake-text-image',
      dimensions: 3,
      semantic: true,
      embedImage: async () => {
        throw new Error('search embeds no image');
      },
      embedText: async (text) => {
        const vector = new Float32Array(3);
        for (const word of text.toLowerCase().split(/\s+/))
          (MEANINGS[word] ?? [0, 0, 0]).forEach((value, i) => {
            vector[i] = (vector[i] ?? 0) + value;
          });
        return vector;
      },
    };
    const vectors: IndexedVector[] = [];
    /** Exact cosine search over what was put, each owner's vectors only, as the port promises. */
    const vectorIndex: VectorIndex = {
      modelId: embedder.modelId,
      dimensions: 3,
      put: async (added) => void vectors.push(...added),
      delete: async () => {},
      query: async (vector, { topK, filter }) =>
        vectors
          .filter((entry) => entry.metadata.owner === filter.owner)
          .map((entry) => ({
            key: entry.key,
            metadata: entry.metadata,
            distance: cosine(vector, entry.vector),
          }))
          .sort((a, b) => a.distance - b.distance)
          .slice(0, topK),
    };
    const semanticApi = createApiHandler({
      ...deps,
      search: { embedder, vectorIndex },
    } satisfies ApiDependencies);
    const put = (owner: string, imageId: string, vector: number[]) =>
      vectorIndex.put([
        { key: `${owner}/${imageId}`, vector: Float32Array.from(vector), metadata: { owner, imageId } },
      ]);
    const ranked = async (owner: string, query: Record<string, string>) => {
      const answer = await search(owner, query, semanticApi);
      expect(answer.status).toBe(200);
      expect(answer.body.semantic).toBe(true);
      expect(answer.body.cursor).toBeUndefined();
      return answer.body.items.map((item: { imageId: string }) => item.imageId);
    };

    beforeAll(async () => {
      await put(alice, images.cat, [1, 0.1, -0.05]);
      await put(alice, images.dog, [0.9, 0.3, 0.1]);
      await put(alice, images.dogOnBeach, [0.5, 1, 0]);
      await put(alice, images.car, [0, 0.1, 1]);
      // Nearest of all, but Alice does not link it (Bob's image filed under Alice by a race), and Bob's own.
      await put(alice, randomHash(), [1, 0, 0]);
      await put(bob, images.cat, [1, 0, 0]);
    });

    it('ranks the caller’s images by the meaning of q, nearest first, without a cursor', async () => {
      expect(await ranked(alice, { q: 'animal' })).toEqual([
        images.cat,
        images.dog,
        images.dogOnBeach,
        images.car,
      ]);
      expect(await ranked(alice, { q: 'seaside', limit: '1' })).toEqual([images.dogOnBeach]);
      expect(await ranked(alice, { q: 'vehicle' })).toEqual([
        images.car,
        images.dog,
        images.dogOnBeach,
        images.cat,
      ]);
    });

    it('still filters by tag, colour and collection, and never shows another owner’s images', async () => {
      expect(await ranked(alice, { q: 'pet', tag: 'dog' })).toEqual([images.dog, images.dogOnBeach]);
      expect(await ranked(alice, { q: 'pet', colour: 'grey' })).toEqual([images.cat, images.car]);
      expect(await ranked(alice, { q: 'vehicle', collection: 'pets' })).toEqual([images.dog, images.cat]);
      expect(await ranked(bob, { q: 'animal' })).toEqual([]);
    });

    it('refuses a cursor with a semantic q, and pages tag searches as before', async () => {
      const answer = await search(alice, { q: 'animal', cursor: cursorOf({}) }, semanticApi);
      expect(answer.status).toBe(400);
      expect(answer.body.error.field).toBe('cursor');
      const byTag = await search(alice, { tag: 'dog' }, semanticApi);
      expect(byTag.body.semantic).toBe(true);
      expect(byTag.body.items.map((item: { imageId: string }) => item.imageId).sort()).toEqual(
        await found(alice, { tag: 'dog' }),
      );
    });

    it('answers 400 naming q when the text model refuses the text, 500 when it refuses the deployment', async () => {
      const refusing = (reason: 'input_refused' | 'request_refused') =>
        createApiHandler({
          ...deps,
          search: {
            embedder: {
              ...embedder,
              embedText: async () => {
                throw new DependencyRefusedError(reason, 'embed text was refused: ValidationException');
              },
            },
            vectorIndex,
          },
        });
      const tooLong = await search(alice, { q: 'animal' }, refusing('input_refused'));
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.field).toBe('q');
      expect((await search(alice, { q: 'animal' }, refusing('request_refused'))).status).toBe(500);
    });

    it('reads q as words when the embedder is not semantic', async () => {
      const words = createApiHandler({
        ...deps,
        search: { embedder: { ...embedder, semantic: false }, vectorIndex },
      });
      const answer = await search(alice, { q: 'sunset' }, words);
      expect(answer.body.semantic).toBe(false);
      expect(answer.body.items.map((item: { imageId: string }) => item.imageId)).toEqual([images.dogOnBeach]);
    });
  });
});

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return 1 - dot / Math.sqrt(normA * normB);
}
