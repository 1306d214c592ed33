import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import { API_ROUTES } from '../../lambdas/contract.js';
import { indexTerms } from '../../lambdas/core/index-terms.js';
import {
  FINGERPRINT_VERSION,
  hammingDistance,
  NEAR_DUPLICATE_MAX_DISTANCE,
} from '../../lambdas/core/near-duplicates.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { twinHandlers } from '../support/handlers.js';
import { makePhotoLike, nearCopiesOf } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';

/**
 * `GET /v1/images/{imageId}/similar` through the real handlers on the twin: the ingest and render
 * handlers fingerprint and file each upload, the API handler looks it up.
 */
const info = twinInfo();
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
const ownerIndex = new DynamoOwnerIndex(clients.dynamo, info.resources.table);
const handlers = twinHandlers(parseSettings());
let seed = firstSeed();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface SimilarItem {
  imageId: string;
  distance: number;
  status: string;
  variants: { name: string; url?: string }[];
}

/** Uploads, ingests and renders the bytes for the owner; returns the image id. */
async function upload(owner: string, bytes: Buffer, via = handlers): Promise<string> {
  await via.render(await via.ingest(owner, bytes));
  return sha256(bytes);
}

async function similar(owner: string, imageId: string, query?: Record<string, string>) {
  const { status, body } = await handlers.api(API_ROUTES.similarImages, owner, {
    pathParameters: { imageId },
    ...(query ? { queryStringParameters: query } : {}),
  });
  return { status, body: JSON.parse(body) as { items: SimilarItem[] } };
}

const ids = (items: readonly SimilarItem[]) => items.map((item) => item.imageId);

/** `nearDuplicateOf` in the owner's `GET /v1/images/{id}`. */
async function hint(owner: string, imageId: string): Promise<string | undefined> {
  const { status, body } = await handlers.api(API_ROUTES.getImage, owner, { pathParameters: { imageId } });
  if (status !== 200) throw new Error(`GET /v1/images/${imageId} answered ${status}`);
  return (JSON.parse(body) as { nearDuplicateOf?: string }).nearDuplicateOf;
}

/** The distance between two images' recorded fingerprints. */
async function recordedDistance(a: string, b: string): Promise<number> {
  const [first, second] = await Promise.all([catalog.getImage(a), catalog.getImage(b)]);
  if (!first?.fingerprint || !second?.fingerprint) throw new Error('both images have fingerprints');
  return hammingDistance(first.fingerprint.phash, second.fingerprint.phash);
}

/** An original, its three near copies and an unrelated picture, uploaded by `owner`. */
async function library(owner: string) {
  const originalBytes = await makePhotoLike({ width: 1200, height: 800, seed: seed++ });
  const copyBytes = await nearCopiesOf(originalBytes);
  const original = await upload(owner, originalBytes);
  const copies = {
    reencoded: await upload(owner, copyBytes.reencoded),
    resized: await upload(owner, copyBytes.resized),
    cropped: await upload(owner, copyBytes.cropped),
  };
  const unrelated = await upload(owner, await makePhotoLike({ width: 1200, height: 800, seed: seed++ }));
  return { originalBytes, copyBytes, original, copies, unrelated };
}

describe('GET /v1/images/{imageId}/similar', () => {
  it('records a versioned fingerprint on each rendered image', async () => {
    const owner = uniqueOwner('recorder');
    const imageId = await upload(owner, await makePhotoLike({ width: 600, height: 400, seed: seed++ }));
    expect((await catalog.getImage(imageId))?.fingerprint).toEqual({
      phash: expect.stringMatching(/^[0-9a-f]{16}$/),
      version: FINGERPRINT_VERSION,
    });
  });

  it('finds the original from a re-encoded, a resized and a cropped copy, with its distance, and never an unrelated picture', async () => {
    const alice = uniqueOwner('alice');
    const { original, copies, unrelated } = await library(alice);

    for (const [name, copy] of Object.entries(copies)) {
      const { status, body } = await similar(alice, copy);
      expect(status, name).toBe(200);
      const found = body.items.find((item) => item.imageId === original);
      expect(found, `${name} finds its original`).toMatchObject({
        status: 'ready',
        distance: await recordedDistance(copy, original),
      });
      expect(found?.distance).toBeLessThanOrEqual(NEAR_DUPLICATE_MAX_DISTANCE);
      expect(found?.variants.every((variant) => variant.url?.startsWith('https://cdn.example/'))).toBe(true);
      expect(ids(body.items), name).not.toContain(copy);
      expect(ids(body.items), name).not.toContain(unrelated);
    }

    const { body } = await similar(alice, original);
    expect(ids(body.items).sort()).toEqual(Object.values(copies).sort());
    // Each copy's view names an image Alice uploaded before it; the original and the unrelated one none.
    expect(await hint(alice, original)).toBeUndefined();
    expect(await hint(alice, copies.reencoded)).toBe(original);
    expect([original, copies.reencoded]).toContain(await hint(alice, copies.resized));
    expect([original, copies.reencoded, copies.resized]).toContain(await hint(alice, copies.cropped));
    expect(await hint(alice, unrelated)).toBeUndefined();
    // Nearest first, ties by image id.
    const order = [...body.items].sort((a, b) => a.distance - b.distance || (a.imageId < b.imageId ? -1 : 1));
    expect(ids(body.items)).toEqual(ids(order));
    expect((await similar(alice, original, { limit: '1' })).body.items).toEqual(body.items.slice(0, 1));
    expect((await similar(alice, unrelated)).body.items).toEqual([]);
  });

  it("never shows another owner's images, and answers 404 as GET /v1/images/{id} does for one the caller lacks", async () => {
    const alice = uniqueOwner('alice');
    const bob = uniqueOwner('bob');
    const { originalBytes, copyBytes, original, copies } = await library(alice);

    // Bob uploads the same bytes as one of Alice's copies: one image, two owners.
    const shared = await upload(bob, copyBytes.reencoded);
    expect(shared).toBe(copies.reencoded);
    expect((await similar(bob, shared)).body.items).toEqual([]);
    // Alice's hint is on her link, not on the image they share.
    expect(await hint(alice, shared)).toBe(original);
    expect(await hint(bob, shared)).toBeUndefined();
    // His own copy of the original is found; Alice's other copies still are not.
    await upload(bob, originalBytes);
    expect(ids((await similar(bob, shared)).body.items)).toEqual([original]);
    expect(ids((await similar(alice, shared)).body.items).sort()).toEqual(
      [original, copies.resized, copies.cropped].sort(),
    );

    const theirs = await similar(bob, copies.resized);
    const getImage = await handlers.api(API_ROUTES.getImage, bob, {
      pathParameters: { imageId: copies.resized },
    });
    const nobodys = await similar(bob, 'f'.repeat(64));
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(JSON.parse(getImage.body));
    expect(theirs.body).toEqual(nobodys.body);
    expect((await similar(bob, 'not-a-hash')).status).toBe(404);
  });

  it('stops showing a deleted image, even where its entries outlive the link', async () => {
    const alice = uniqueOwner('alice');
    const bob = uniqueOwner('bob');
    const { copyBytes, original, copies } = await library(alice);
    // Bob keeps the cropped copy, so its record stays when Alice lets it go; the resized one is purged.
    await upload(bob, copyBytes.cropped);
    for (const imageId of [copies.cropped, copies.resized]) {
      const deleted = await handlers.api(API_ROUTES.deleteImage, alice, { pathParameters: { imageId } });
      expect(deleted.status).toBe(204);
    }
    expect(ids((await similar(alice, original)).body.items)).toEqual([copies.reencoded]);

    // A delete racing the filing can leave the owner's entries behind: the link decides.
    const kept = await catalog.getImage(copies.cropped);
    if (!kept) throw new Error("Bob's link keeps the cropped copy");
    await ownerIndex.put(alice, copies.cropped, indexTerms(kept));
    expect(ids((await similar(alice, original)).body.items)).toEqual([copies.reencoded]);
    expect(ids((await similar(bob, copies.cropped)).body.items)).toEqual([]);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '51' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ page: '2' }, 'page'],
  ])('refuses the query %o, naming %s', async (query, field) => {
    const owner = uniqueOwner('asker');
    const imageId = await upload(owner, await makePhotoLike({ width: 400, height: 300, seed: seed++ }));
    const { status, body } = await similar(owner, imageId, query);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_request', field } });
  });

  it('finds nothing when fingerprints are off', async () => {
    const owner = uniqueOwner('unhashed');
    const off = twinHandlers(parseSettings({ nearDuplicates: false }));
    const bytes = await makePhotoLike({ width: 600, height: 400, seed: seed++ });
    const original = await upload(owner, bytes, off);
    const copy = await upload(owner, (await nearCopiesOf(bytes)).reencoded, off);
    expect((await catalog.getImage(copy))?.fingerprint).toBeUndefined();
    expect(await similar(owner, original)).toEqual({ status: 200, body: { items: [] } });
  });
});
