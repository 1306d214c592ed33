import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { linkToItem } from '../../lambdas/adapters/aws/catalog-items.js';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { API_ROUTES, CATALOG_TABLE } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import type { UploadGrantView } from '../../lambdas/ports/upload-signer.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { apiEvent } from '../support/api-events.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinInfo } from '../support/twin.js';

const MAX_UPLOAD_BYTES = 200_000;

type Grant = UploadGrantView;

function setupEnv() {
  return twinFunctionEnvironment(
    twinInfo(),
    parseSettings({ maxUploadBytes: MAX_UPLOAD_BYTES, allowedFormats: ['jpeg', 'png', 'webp'] }),
    'http://127.0.0.1:3001',
  );
}

function setup(overrides: { now?: () => Date } = {}) {
  const env = setupEnv();
  const resources = twinInfo().resources;
  const deps = { ...apiDependenciesFromEnvironment(env), ...overrides };
  const handler = createApiHandler(deps);
  /** `owner: null` sends the request without any verified identity. */
  const call = async (body: unknown, owner: string | null = ownerA, rawBody?: string) => {
    const response = await handler(
      apiEvent(API_ROUTES.createUpload, {
        body,
        ...(owner ? { owner } : {}),
        ...(rawBody ? { rawBody } : {}),
      }),
      lambdaContext('aperture-api'),
    );
    return { status: response.statusCode, body: JSON.parse(response.body) };
  };
  return { call, clients: createAwsClients(env), resources };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function postForm(grant: Grant, bytes: Buffer, contentType: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
  form.append('file', new Blob([bytes], { type: contentType }));
  return form;
}

function decodePolicy(grant: Grant): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(grant.fields.Policy ?? '', 'base64').toString('utf8'));
}

const ownerA = uniqueOwner('owner-a');
const ownerB = uniqueOwner('owner-b');

describe('POST /v1/uploads against the local twin', () => {
  let jpeg: Buffer;
  let api: ReturnType<typeof setup>;
  beforeAll(async () => {
    jpeg = await makeImage('jpeg', { seed: firstSeed() });
    api = setup();
  });

  async function storedUpload(uploadId: string) {
    const object = await api.clients.s3.send(
      new GetObjectCommand({ Bucket: api.resources.uploadBucket, Key: `uploads/${uploadId}` }),
    );
    const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    return { bytes, object };
  }

  it('grants a POST upload that a browser-style form post completes', async () => {
    const { status, body } = await api.call({
      contentType: 'image/jpeg',
      size: jpeg.length,
      collection: 'trips',
    });
    expect(status).toBe(201);
    const grant = body as Grant;
    expect(grant).toMatchObject({ method: 'POST', headers: {} });
    expect(grant.fields.key).toBe(`uploads/${grant.uploadId}`);

    const upload = await fetch(grant.url, { method: 'POST', body: postForm(grant, jpeg, 'image/jpeg') });
    expect(upload.status).toBeLessThan(300);

    const { bytes, object } = await storedUpload(grant.uploadId);
    expect(sha256(bytes)).toBe(sha256(jpeg));
    expect(object.ContentType).toBe('image/jpeg');
    expect(object.Metadata).toMatchObject({
      owner: ownerA,
      'upload-id': grant.uploadId,
      collection: 'trips',
    });
  });

  it('grants a PUT upload, with the checksum S3 must verify, that a plain PUT completes', async () => {
    const { status, body } = await api.call({
      contentType: 'image/jpeg',
      size: jpeg.length,
      sha256: sha256(jpeg),
      method: 'PUT',
    });
    expect(status).toBe(201);
    const grant = body as Grant;
    expect(grant.fields).toEqual({});
    expect(grant.headers).toEqual({
      'content-type': 'image/jpeg',
      'x-amz-checksum-sha256': Buffer.from(sha256(jpeg), 'hex').toString('base64'),
    });

    const upload = await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: jpeg });
    expect(upload.status).toBe(200);
    const { bytes, object } = await storedUpload(grant.uploadId);
    expect(bytes.equals(jpeg)).toBe(true);
    expect(object.Metadata).toMatchObject({ owner: ownerA, 'upload-id': grant.uploadId });
  });

  it('records the upload as pending, with a TTL so abandoned ones expire', async () => {
    const { body } = await api.call({ contentType: 'image/png', size: 10, filename: 'Cat photo.png' });
    const { Item } = await api.clients.dynamo.send(
      new GetCommand({ TableName: api.resources.table, Key: catalogKeys.upload(body.uploadId) }),
    );
    expect(Item).toMatchObject({
      uploadId: body.uploadId,
      owner: ownerA,
      state: 'pending',
      contentType: 'image/png',
      size: 10,
      filename: 'Cat photo.png',
      uploadExpiresAt: body.expiresAt,
    });
    expect(Item?.[CATALOG_TABLE.timeToLiveAttribute]).toBeGreaterThan(Date.parse(body.expiresAt) / 1000);
  });

  it('signs a POST policy that binds bucket, key, exact type, exact size and metadata (s3rver does not check it)', async () => {
    const started = Date.now();
    const { body } = await api.call({ contentType: 'image/webp', size: 1234, collection: 'c1' });
    const grant = body as Grant;
    const policy = decodePolicy(grant);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { bucket: api.resources.uploadBucket },
        { key: `uploads/${grant.uploadId}` },
        { 'Content-Type': 'image/webp' },
        ['content-length-range', 1234, 1234],
        { 'x-amz-meta-owner': ownerA },
        { 'x-amz-meta-upload-id': grant.uploadId },
        { 'x-amz-meta-collection': 'c1' },
      ]),
    );
    const lifetime = Date.parse(policy.expiration) - started;
    expect(lifetime).toBeGreaterThan(290_000);
    expect(lifetime).toBeLessThanOrEqual(302_000);
    expect(grant.fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs a PUT URL whose signature covers type, length and checksum, with metadata in the signed query', async () => {
    const { body } = await api.call({
      contentType: 'image/png',
      size: 77,
      sha256: 'a'.repeat(64),
      method: 'PUT',
    });
    const url = new URL((body as Grant).url);
    expect(url.pathname).toBe(`/${api.resources.uploadBucket}/uploads/${body.uploadId}`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual([
      'content-length',
      'content-type',
      'host',
      'x-amz-checksum-sha256',
    ]);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('x-amz-meta-owner')).toBe(ownerA);
    expect(url.searchParams.get('x-amz-meta-upload-id')).toBe(body.uploadId);
  });

  it('lets the emulator refuse a URL once it has expired', async () => {
    // A clock 299 s in the past leaves the 300 s grant one second of life.
    const stale = setup({ now: () => new Date(Date.now() - 299_000) });
    const { body } = await stale.call({ contentType: 'image/jpeg', size: jpeg.length, method: 'PUT' });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const upload = await fetch(body.url, { method: 'PUT', headers: body.headers, body: jpeg });
    expect(upload.status).toBe(403);
    await expect(
      stale.clients.s3.send(
        new HeadObjectCommand({ Bucket: stale.resources.uploadBucket, Key: `uploads/${body.uploadId}` }),
      ),
    ).rejects.toThrow();
  });

  it("answers a known hash from the caller's own links only", async () => {
    const hash = sha256(Buffer.from(`known-${Date.now()}`));
    await api.clients.dynamo.send(
      new PutCommand({
        TableName: api.resources.table,
        Item: linkToItem({
          owner: ownerA,
          imageId: hash,
          uploadId: 'f'.repeat(32),
          collection: undefined,
          filename: undefined,
          linkedAt: new Date(),
        }),
      }),
    );
    const mine = await api.call({ contentType: 'image/jpeg', size: 10, sha256: hash }, ownerA);
    expect(mine).toEqual({ status: 200, body: { duplicate: true, imageId: hash } });

    const theirs = await api.call({ contentType: 'image/jpeg', size: 10, sha256: hash }, ownerB);
    expect(theirs.status).toBe(201);
    expect(theirs.body.duplicate).toBeUndefined();
  });

  it.each([
    ['malformed JSON', undefined, '{"contentType":', 400, 'invalid_request', 'body'],
    ['a missing field', { contentType: 'image/jpeg' }, undefined, 400, 'invalid_request', 'size'],
    [
      'a bad checksum',
      { contentType: 'image/jpeg', size: 1, sha256: 'xyz' },
      undefined,
      400,
      'invalid_request',
      'sha256',
    ],
    [
      'a size over the limit',
      { contentType: 'image/jpeg', size: MAX_UPLOAD_BYTES + 1 },
      undefined,
      413,
      'too_large',
      'size',
    ],
    [
      'a type not allowed',
      { contentType: 'image/gif', size: 10 },
      undefined,
      415,
      'unsupported_image',
      undefined,
    ],
    ['SVG', { contentType: 'image/svg+xml', size: 10 }, undefined, 415, 'unsupported_image', undefined],
  ])('answers %s with a JSON error', async (_, body, rawBody, status, code, field) => {
    const response = await api.call(body, ownerA, rawBody);
    expect(response.status).toBe(status);
    expect(response.body.error).toMatchObject({ code, message: expect.any(String) });
    expect(response.body.error.field).toBe(field);
  });

  it('answers a route it does not serve with a JSON 404', async () => {
    const handler = createApiHandler(apiDependenciesFromEnvironment(setupEnv()));
    const response = await handler(
      apiEvent('DELETE /v1/everything', { owner: ownerA }),
      lambdaContext('aperture-api'),
    );
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error.code).toBe('route_not_found');
  });

  it('answers 401 without a verified identity', async () => {
    const response = await api.call({ contentType: 'image/jpeg', size: 10 }, null);
    expect(response).toEqual({
      status: 401,
      body: { error: { code: 'unauthorized', message: expect.stringContaining('identity') } },
    });
  });

  it('completes 1,000 concurrent presign calls without an error', async () => {
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        api.call(
          { contentType: 'image/jpeg', size: 100 + i, method: i % 2 ? 'PUT' : 'POST' },
          `owner-${i % 7}`,
        ),
      ),
    );
    expect(responses.filter((r) => r.status !== 201)).toEqual([]);
    expect(new Set(responses.map((r) => r.body.uploadId)).size).toBe(1000);
  });
});
