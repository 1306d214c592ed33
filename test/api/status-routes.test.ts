import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { CloudFrontUrlSigner } from '../../lambdas/adapters/aws/cloudfront-url-signer.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { API_ROUTES } from '../../lambdas/contract.js';
import { derivativeKey } from '../../lambdas/core/keys.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import type { ImageRecord, ImageStatus, VariantStatus } from '../../lambdas/ports/catalog.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { apiEvent } from '../support/api-events.js';
import { imageRecord } from '../support/catalog-records.js';
import { twinInfo } from '../support/twin.js';

const CDN = 'https://cdn.example.test';
const settings = parseSettings({});

/** Fresh owners per run: the twin's table is shared by every suite of the run. */
const run = randomBytes(4).toString('hex');
const ownerA = `owner-a-${run}`;
const ownerB = `owner-b-${run}`;
const randomHash = () => randomBytes(32).toString('hex');

interface Answer {
  status: number;
  /** The raw body, for byte-for-byte comparisons. */
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are inspected field by field.
  body: any;
}

let catalog: DynamoCatalog;
let handler: ReturnType<typeof createApiHandler>;

beforeAll(() => {
  const env = twinFunctionEnvironment(twinInfo(), settings, `${CDN}/`);
  catalog = new DynamoCatalog(createAwsClients(env).dynamo, twinInfo().resources.table);
  handler = createApiHandler(apiDependenciesFromEnvironment(env));
});

async function call(
  routeKey: string,
  owner: string | null,
  options: { pathParameters?: Record<string, string>; queryStringParameters?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await handler(
    apiEvent(routeKey, { ...options, ...(owner ? { owner } : {}) }),
    lambdaContext('aperture-api'),
  );
  return { status: response.statusCode, text: response.body, body: JSON.parse(response.body) };
}

const getUpload = (owner: string | null, uploadId: string) =>
  call(API_ROUTES.getUpload, owner, { pathParameters: { uploadId } });
const getImage = (owner: string | null, imageId: string) =>
  call(API_ROUTES.getImage, owner, { pathParameters: { imageId } });
const listImages = (owner: string | null, query: Record<string, string> = {}) =>
  call(API_ROUTES.listImages, owner, { queryStringParameters: query });

/** A pending upload, as `POST /v1/uploads` records it. */
async function recordUpload(owner: string, options: { collection?: string; filename?: string } = {}) {
  const uploadId = newUploadId();
  const createdAt = new Date();
  await catalog.recordUpload({
    uploadId,
    owner,
    state: 'pending',
    contentType: 'image/jpeg',
    size: 1000,
    sha256: undefined,
    filename: options.filename,
    collection: options.collection,
    createdAt,
    uploadExpiresAt: new Date(createdAt.getTime() + 300_000),
  });
  return uploadId;
}

/**
 * An upload accepted as ingest accepts one: a new image (created with the given status and variants)
 * or, when the hash is already there, one more link to it.
 */
async function ingestAccepted(
  owner: string,
  options: {
    imageId?: string;
    collection?: string;
    filename?: string;
    status?: ImageStatus;
    variants?: Record<string, VariantStatus>;
    failure?: ImageRecord['failure'];
    linkedAt?: Date;
  } = {},
) {
  const uploadId = await recordUpload(owner, options);
  const imageId = options.imageId ?? randomHash();
  const link = {
    owner,
    imageId,
    uploadId,
    collection: options.collection,
    filename: options.filename,
    linkedAt: options.linkedAt ?? new Date(),
  };
  if (await catalog.getImage(imageId)) {
    await catalog.addLink(link);
  } else {
    await catalog.createImage(
      imageRecord(imageId, settings, {
        width: 800,
        height: 600,
        status: options.status ?? 'processing',
        createdAt: new Date(Date.now() - 86_400_000),
        createdByUpload: uploadId,
        jobsQueuedAt: undefined,
        variants: options.variants ?? Object.fromEntries(settings.variants.map((v) => [v.name, 'pending'])),
        failure: options.failure,
      }),
      link,
    );
  }
  return { uploadId, imageId };
}

describe('GET /v1/uploads/{uploadId}', () => {
  it('reports a pending upload', async () => {
    const uploadId = await recordUpload(ownerA);
    const answer = await getUpload(ownerA, uploadId);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ uploadId, status: 'pending', createdAt: expect.any(String) });
    expect(answer.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('reports a rejected upload with its reason', async () => {
    const uploadId = await recordUpload(ownerA);
    await catalog.rejectUpload(uploadId, { reason: 'undecodable', message: 'the image cannot be decoded' });
    expect((await getUpload(ownerA, uploadId)).body).toEqual({
      uploadId,
      status: 'rejected',
      reason: 'undecodable',
      message: 'the image cannot be decoded',
      createdAt: expect.any(String),
    });
  });

  it('reports an accepted upload by its image: processing, with the image id', async () => {
    const { uploadId, imageId } = await ingestAccepted(ownerA);
    expect((await getUpload(ownerA, uploadId)).body).toEqual({
      uploadId,
      status: 'processing',
      imageId,
      createdAt: expect.any(String),
    });
  });

  it('reports ready, and failed with the reason, as the image moves', async () => {
    const ready = await ingestAccepted(ownerA, { status: 'ready' });
    expect((await getUpload(ownerA, ready.uploadId)).body).toMatchObject({
      status: 'ready',
      imageId: ready.imageId,
    });

    const failed = await ingestAccepted(ownerA, {
      status: 'failed',
      failure: { reason: 'too_many_pixels', message: 'over the limit' },
    });
    expect((await getUpload(ownerA, failed.uploadId)).body).toMatchObject({
      status: 'failed',
      imageId: failed.imageId,
      reason: 'too_many_pixels',
    });
  });

  it('reports an upload that joined an existing image by that image', async () => {
    const first = await ingestAccepted(ownerA, { status: 'ready' });
    const second = await ingestAccepted(ownerB, { imageId: first.imageId });
    expect((await getUpload(ownerB, second.uploadId)).body).toMatchObject({
      uploadId: second.uploadId,
      status: 'ready',
      imageId: first.imageId,
    });
  });
});

describe('GET /v1/images/{imageId}', () => {
  it('shows the facts, the variants of the current set, and CDN URLs for the ready ones', async () => {
    const { imageId, uploadId } = await ingestAccepted(ownerA, {
      status: 'processing',
      collection: 'pets',
      filename: 'cat.jpg',
      variants: { thumb: 'ready', small: 'ready', medium: 'failed' },
    });
    const answer = await getImage(ownerA, imageId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      imageId,
      status: 'processing',
      format: 'jpeg',
      contentType: 'image/jpeg',
      width: 800,
      height: 600,
      pages: 1,
      animated: false,
      hasAlpha: false,
      bytes: 1000,
      collection: 'pets',
      filename: 'cat.jpg',
      uploadId,
    });
    const variants = answer.body.variants as Array<{
      name: string;
      status: string;
      urls?: Record<string, string>;
    }>;
    expect(variants.map((v) => [v.name, v.status])).toEqual([
      ['thumb', 'ready'],
      ['small', 'ready'],
      ['medium', 'failed'],
      ['large', 'pending'],
    ]);
    expect(variants.filter((v) => v.urls).map((v) => v.name)).toEqual(['thumb', 'small']);

    const thumb = DEFAULT_VARIANTS[0] as VariantSpec;
    const urls = variants[0]?.urls ?? {};
    expect(Object.keys(urls).sort()).toEqual(['avif', 'jpeg', 'webp']);
    for (const format of ['avif', 'webp', 'jpeg'] as const) {
      const key = derivativeKey(imageId, thumb, format);
      expect(key.startsWith('derived/')).toBe(true);
      expect(urls[format]).toBe(`${CDN}/${key.slice('derived/'.length)}`);
    }
    expect(urls.jpeg).toMatch(
      new RegExp(`^${CDN}/${imageId.slice(0, 2)}/${imageId.slice(2, 4)}/${imageId}/thumb-[0-9a-f]{8}\\.jpg$`),
    );
  });

  it('never shows shared bookkeeping, and shows each owner only their own link', async () => {
    const first = await ingestAccepted(ownerA, { status: 'ready', filename: 'a.jpg', collection: 'mine' });
    const second = await ingestAccepted(ownerB, { imageId: first.imageId, filename: 'b.jpg' });
    const seenByB = await getImage(ownerB, first.imageId);
    expect(seenByB.body).toMatchObject({ uploadId: second.uploadId, filename: 'b.jpg' });
    expect(seenByB.body.collection).toBeUndefined();
    for (const hidden of ['refCount', 'createdByUpload', 'jobsQueuedAt', ownerA, first.uploadId, 'a.jpg']) {
      expect(seenByB.text).not.toContain(hidden);
    }
  });
});

describe('GET /v1/images', () => {
  async function listAll(owner: string, query: Record<string, string>) {
    const pages: Array<Array<{ imageId: string }>> = [];
    let cursor: string | undefined;
    do {
      const answer = await listImages(owner, { ...query, ...(cursor ? { cursor } : {}) });
      expect(answer.status).toBe(200);
      pages.push(answer.body.items);
      cursor = answer.body.cursor;
    } while (cursor && pages.length < 20);
    return pages;
  }

  it('pages through one collection, newest first, returning every link exactly once', async () => {
    const owner = `owner-pager-${run}`;
    const start = Date.now();
    const inTrips: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { imageId } = await ingestAccepted(owner, {
        collection: 'trips',
        linkedAt: new Date(start + i * 1000),
      });
      inTrips.push(imageId);
    }
    await ingestAccepted(owner, { collection: 'other' });
    await ingestAccepted(owner);

    const pages = await listAll(owner, { collection: 'trips', limit: '2' });
    expect(pages.map((p) => p.length).slice(0, 3)).toEqual([2, 2, 1]);
    expect(pages.flat().map((i) => i.imageId)).toEqual([...inTrips].reverse());

    const everything = (await listAll(owner, { limit: '2' })).flat();
    expect(everything).toHaveLength(7);
    expect(new Set(everything.map((i) => i.imageId)).size).toBe(7);
    expect(everything.map((i) => i.imageId)).toEqual(expect.arrayContaining(inTrips));
  });

  it('lists the caller’s links with their own details and nothing else', async () => {
    const owner = `owner-lister-${run}`;
    const { imageId, uploadId } = await ingestAccepted(owner, { collection: 'c1', filename: 'x.png' });
    const answer = await listImages(owner);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      items: [{ imageId, uploadId, collection: 'c1', filename: 'x.png', linkedAt: expect.any(String) }],
    });
  });

  it.each([
    ['limit', { limit: '0' }],
    ['limit', { limit: '101' }],
    ['limit', { limit: 'ten' }],
    ['limit', { limit: '1e2' }],
    ['collection', { collection: '../etc' }],
    ['collection', { collection: `a#COLLECTION#b` }],
    ['colection', { colection: 'typo' }],
    ['cursor', { cursor: 'not-a-cursor' }],
  ])('refuses a bad %s with 400', async (field, query) => {
    const answer = await listImages(ownerA, query);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_request', field });
  });
});

describe('tenant isolation', () => {
  it("answers another owner's upload exactly as an upload that does not exist", async () => {
    const pending = await recordUpload(ownerA);
    const accepted = (await ingestAccepted(ownerA)).uploadId;
    const unknown = await getUpload(ownerB, newUploadId());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    for (const id of [pending, accepted]) {
      expect((await getUpload(ownerA, id)).status).toBe(200);
      const theirs = await getUpload(ownerB, id);
      expect(theirs.status).toBe(404);
      expect(theirs.text).toBe(unknown.text);
    }
    for (const junk of ['nope', 'A'.repeat(32), `${pending}0`, '../x']) {
      expect(await getUpload(ownerA, junk)).toEqual(unknown);
    }
  });

  it("answers another owner's image exactly as a hash nobody has", async () => {
    const { imageId } = await ingestAccepted(ownerA, { status: 'ready' });
    const unknown = await getImage(ownerB, randomHash());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect((await getImage(ownerA, imageId)).status).toBe(200);
    const theirs = await getImage(ownerB, imageId);
    expect(theirs.status).toBe(404);
    expect(theirs.text).toBe(unknown.text);
    for (const junk of ['nope', imageId.toUpperCase(), `${imageId}0`, '../x']) {
      expect(await getImage(ownerA, junk)).toEqual(unknown);
    }
  });

  it('lists only the caller’s links', async () => {
    const a = `owner-la-${run}`;
    const b = `owner-lb-${run}`;
    const shared = await ingestAccepted(a, { collection: 'shared' });
    await ingestAccepted(b, { imageId: shared.imageId, collection: 'shared' });
    const onlyA = await ingestAccepted(a, { collection: 'shared' });
    const onlyB = await ingestAccepted(b);

    const listedByB = (await listImages(b)).body.items as Array<{ imageId: string; uploadId: string }>;
    expect(listedByB.map((i) => i.imageId).sort()).toEqual([shared.imageId, onlyB.imageId].sort());
    expect(listedByB.map((i) => i.uploadId)).not.toContain(shared.uploadId);

    const inCollection = (await listImages(b, { collection: 'shared' })).body.items as Array<{
      imageId: string;
    }>;
    expect(inCollection.map((i) => i.imageId)).toEqual([shared.imageId]);
    expect(JSON.stringify(inCollection)).not.toContain(onlyA.imageId);
  });

  it("refuses one owner's cursor replayed by another", async () => {
    const a = `owner-ca-${run}`;
    const b = `owner-cb-${run}`;
    for (let i = 0; i < 3; i++) await ingestAccepted(a, { collection: 'trips' });
    await ingestAccepted(b, { collection: 'trips' });

    for (const query of [{}, { collection: 'trips' }] as Array<Record<string, string>>) {
      const first = await listImages(a, { ...query, limit: '1' });
      expect(first.body.cursor).toEqual(expect.any(String));
      const replayed = await listImages(b, { ...query, limit: '1', cursor: first.body.cursor });
      expect(replayed.status).toBe(400);
      expect(replayed.body.error).toMatchObject({ code: 'invalid_request', field: 'cursor' });
    }
    // Nor does a cursor carry over from the full listing into a collection, or back.
    const full = await listImages(a, { limit: '1' });
    const crossed = await listImages(a, { collection: 'trips', cursor: full.body.cursor });
    expect(crossed.status).toBe(400);
  });

  it.each([
    ['only a partition key', (owner: string) => ({ pk: `OWNER#${owner}` })],
    ['an extra attribute', (owner: string) => ({ pk: `OWNER#${owner}`, sk: 'IMAGE#', foo: 'bar' })],
    ['a sort key outside the links', (owner: string) => ({ pk: `OWNER#${owner}`, sk: 'UPLOAD' })],
    ['a number for a key', (owner: string) => ({ pk: `OWNER#${owner}`, sk: 1 })],
    ['an index key alone', (owner: string) => ({ gsi1pk: `OWNER#${owner}#COLLECTION#c` })],
    ['an array', () => ['OWNER#x']],
  ])('refuses a forged cursor with %s, never reaching the table with it', async (_, forge) => {
    const owner = `owner-forge-${run}`;
    await ingestAccepted(owner);
    const cursor = Buffer.from(JSON.stringify(forge(owner))).toString('base64url');
    const answer = await listImages(owner, { cursor });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_request', field: 'cursor' });
  });
});

describe('every read route', () => {
  it.each([
    [API_ROUTES.getUpload, { pathParameters: { uploadId: 'a'.repeat(32) } }],
    [API_ROUTES.getImage, { pathParameters: { imageId: 'a'.repeat(64) } }],
    [API_ROUTES.listImages, {}],
  ])('%s answers 401 without a verified identity', async (routeKey, options) => {
    expect(await call(routeKey, null, options)).toEqual({
      status: 401,
      text: expect.any(String),
      body: { error: { code: 'unauthorized', message: expect.any(String) } },
    });
  });
});

describe('private delivery', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPairId = 'K2JCJMDEHXQW5F';

  /** CloudFront's check of a canned-policy signed URL: the policy it rebuilds, signed by the key pair. */
  function verifiesAsCloudFrontWould(signedUrl: string, unsignedUrl: string): boolean {
    const url = new URL(signedUrl);
    const expires = Number(url.searchParams.get('Expires'));
    const policy = JSON.stringify({
      Statement: [{ Resource: unsignedUrl, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }],
    });
    const signature = (url.searchParams.get('Signature') ?? '')
      .replace(/-/g, '+')
      .replace(/_/g, '=')
      .replace(/~/g, '/');
    return (
      url.searchParams.get('Key-Pair-Id') === keyPairId &&
      expires > Date.now() / 1000 &&
      // The signer rounds the expiry to the nearest second.
      expires <= Date.now() / 1000 + 601 &&
      verify('RSA-SHA1', Buffer.from(policy), publicKey, Buffer.from(signature, 'base64'))
    );
  }

  it('signs every CDN URL of the view, each valid for the configured time', async () => {
    const env = twinFunctionEnvironment(twinInfo(), settings, `${CDN}/`);
    let keyLoads = 0;
    const signing = createApiHandler({
      ...apiDependenciesFromEnvironment(env),
      urlSigner: new CloudFrontUrlSigner({
        keyPairId,
        ttlSeconds: 600,
        loadPrivateKey: async () => {
          keyLoads += 1;
          return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        },
      }),
    });
    const { imageId } = await ingestAccepted(ownerA, {
      status: 'ready',
      variants: Object.fromEntries(settings.variants.map((v) => [v.name, 'ready'])),
    });
    const unsigned = (await getImage(ownerA, imageId)).body;
    for (let i = 0; i < 2; i++) {
      const response = await signing(
        apiEvent(API_ROUTES.getImage, { owner: ownerA, pathParameters: { imageId } }),
        lambdaContext('aperture-api'),
      );
      const view = JSON.parse(response.body);
      view.variants.forEach((variant: { url: string; urls: Record<string, string> }, v: number) => {
        const plain = unsigned.variants[v];
        expect(verifiesAsCloudFrontWould(variant.url, plain.url), `${variant.url} ${plain.url}`).toBe(true);
        for (const [format, url] of Object.entries(variant.urls)) {
          expect(verifiesAsCloudFrontWould(url, plain.urls[format]), `${plain.name} ${format}`).toBe(true);
        }
      });
    }
    expect(keyLoads).toBe(1);
  });
});
