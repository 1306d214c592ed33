import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { S3MultipartUploads } from '../../lambdas/adapters/aws/s3-multipart-uploads.js';
import { API_ROUTES, CATALOG_TABLE } from '../../lambdas/contract.js';
import { DEFAULT_PART_BYTES } from '../../lambdas/core/multipart.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import type { MultipartGrantView, PartUrlView } from '../../lambdas/ports/multipart-uploads.js';
import type { IngestOutcome } from '../../lambdas/services/ingest-upload.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { apiEvent } from '../support/api-events.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinInfo } from '../support/twin.js';

const info = twinInfo();
const { uploadBucket } = info.resources;
const settings = parseSettings();
const env = twinFunctionEnvironment(info, settings, 'https://cdn.example');
const clients = createAwsClients(env);
const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
// Two parts a ListParts page, so a three-part upload is listed over two pages.
const api = createApiHandler({
  ...apiDependenciesFromEnvironment(env),
  multipart: new S3MultipartUploads(clients.s3, uploadBucket, 2),
});
const owner = uniqueOwner('mp-owner');
const stranger = uniqueOwner('mp-stranger');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
let seed = firstSeed();

async function call(
  routeKey: string,
  caller: string,
  request: { uploadId?: string; partNumber?: string; body?: unknown } = {},
) {
  const pathParameters = {
    ...(request.uploadId ? { uploadId: request.uploadId } : {}),
    ...(request.partNumber ? { partNumber: request.partNumber } : {}),
  };
  const response = await api(
    apiEvent(routeKey, { owner: caller, pathParameters, body: request.body }),
    lambdaContext('aperture-api'),
  );
  return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
}

/**
 * An uncompressed TIFF of about 16.5 MiB: three parts of the plan (8 + 8 + the rest), a format sharp
 * decodes and the default settings accept.
 */
async function threePartTiff(): Promise<Buffer> {
  const png = await makeImage('png', { width: 2400, height: 2400, seed: seed++ });
  return sharp(png).tiff({ compression: 'none' }).toBuffer();
}

const createMultipart = (bytes: Buffer, extra: Record<string, unknown> = {}) =>
  call(API_ROUTES.createUpload, owner, {
    body: {
      contentType: 'image/tiff',
      size: bytes.length,
      method: 'MULTIPART',
      filename: 'scan.tif',
      ...extra,
    },
  });

const signPart = (uploadId: string, partNumber: number | string, caller = owner) =>
  call(API_ROUTES.signUploadPart, caller, { uploadId, partNumber: String(partNumber) });
const listParts = (uploadId: string, caller = owner) =>
  call(API_ROUTES.listUploadParts, caller, { uploadId });
const complete = (uploadId: string, parts: unknown, caller = owner) =>
  call(API_ROUTES.completeUpload, caller, { uploadId, body: { parts } });
const abort = (uploadId: string, caller = owner) => call(API_ROUTES.abortUpload, caller, { uploadId });
const uploadStatus = (uploadId: string, caller = owner) => call(API_ROUTES.getUpload, caller, { uploadId });

/** The bytes of part `partNumber` as the grant cuts them. */
function partBytes(bytes: Buffer, grant: MultipartGrantView, partNumber: number): Buffer {
  const start = (partNumber - 1) * grant.partSize;
  return bytes.subarray(start, Math.min(start + grant.partSize, bytes.length));
}

/** What a browser does with one part: asks for its URL, PUTs the bytes, keeps S3's ETag. */
async function sendPart(uploadId: string, partNumber: number, body: Buffer) {
  const signed = await signPart(uploadId, partNumber);
  expect(signed.status).toBe(200);
  const { url, headers } = signed.body as PartUrlView;
  const sent = await fetch(url, { method: 'PUT', headers, body });
  expect(sent.status).toBe(200);
  return { PartNumber: partNumber, ETag: sent.headers.get('etag') ?? '' };
}

async function sendAll(bytes: Buffer, grant: MultipartGrantView, from = 1) {
  const parts = [];
  for (let n = from; n <= grant.partCount; n++)
    parts.push(await sendPart(grant.uploadId, n, partBytes(bytes, grant, n)));
  return parts;
}

/** Runs ingest on the notification S3 sends for a completed multipart upload. */
async function ingest(key: string, size: number): Promise<{ outcome: IngestOutcome; jobs: RenderJob[] }> {
  const jobs: RenderJob[] = [];
  const handler = createIngestHandler({
    ...ingestDependenciesFromEnvironment(env),
    queue: { enqueue: async (queued) => void jobs.push(...queued) },
  });
  const event = objectCreatedEvent({
    bucket: uploadBucket,
    key,
    size,
    eventName: 'ObjectCreated:CompleteMultipartUpload',
  });
  const [outcome] = await handler(event, lambdaContext('aperture-ingest'));
  return { outcome: outcome as IngestOutcome, jobs };
}

async function s3UploadIdOf(uploadId: string): Promise<string> {
  const upload = await catalog.getUpload(uploadId);
  if (!upload?.multipart) throw new Error(`${uploadId} is not a multipart upload`);
  return upload.multipart.s3UploadId;
}

describe('multipart uploads through the API, on the twin', () => {
  let scan: Buffer;
  beforeAll(async () => {
    scan = await threePartTiff();
  });

  it('plans, signs and completes a three-part upload that ingest accepts as any other', async () => {
    const started = Date.now();
    const created = await createMultipart(scan, { sha256: sha256(scan), collection: 'scans' });
    expect(created.status).toBe(201);
    const grant = created.body as MultipartGrantView;
    expect(grant).toEqual({
      uploadId: expect.stringMatching(/^[0-9a-f]{32}$/),
      method: 'MULTIPART',
      key: `uploads/${grant.uploadId}`,
      partSize: DEFAULT_PART_BYTES,
      partCount: 3,
      expiresAt: expect.any(String),
    });
    // The lifecycle rule's age (settings.multipartUploadDays), not a URL's minutes.
    const lifetime = Date.parse(grant.expiresAt) - started;
    expect(lifetime).toBeGreaterThan(settings.multipartUploadDays * 86_400_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(settings.multipartUploadDays * 86_400_000 + 60_000);

    // The record holds S3's upload id (never in an answer) and outlives the upload.
    const { Item } = await clients.dynamo.send(
      new GetCommand({ TableName: info.resources.table, Key: catalogKeys.upload(grant.uploadId) }),
    );
    expect(Item?.multipart).toEqual({
      s3UploadId: expect.any(String),
      partSize: DEFAULT_PART_BYTES,
      partCount: 3,
    });
    expect(JSON.stringify(created.body)).not.toContain(Item?.multipart.s3UploadId);
    expect(Item?.[CATALOG_TABLE.timeToLiveAttribute]).toBeGreaterThan(
      Date.parse(grant.expiresAt) / 1000 + 86_400,
    );

    const parts = await sendAll(scan, grant);
    const completed = await complete(grant.uploadId, parts);
    expect(completed).toEqual({ status: 200, body: expect.objectContaining({ uploadId: grant.uploadId }) });
    // Idempotent: the same answer again.
    expect((await complete(grant.uploadId, parts)).status).toBe(200);

    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: uploadBucket, Key: grant.key }));
    expect(head.ContentLength).toBe(scan.length);
    expect(head.ContentType).toBe('image/tiff');
    expect(head.Metadata).toEqual({ owner, 'upload-id': grant.uploadId, collection: 'scans' });
    // Completed: nothing more to sign, list or abort.
    for (const refused of [
      await signPart(grant.uploadId, 1),
      await listParts(grant.uploadId),
      await abort(grant.uploadId),
    ]) {
      expect(refused).toMatchObject({
        status: 409,
        body: { error: { code: 'conflict', reason: 'upload_not_in_progress' } },
      });
    }

    const { outcome, jobs } = await ingest(grant.key, scan.length);
    expect(outcome).toEqual({ outcome: 'created', uploadId: grant.uploadId, imageId: sha256(scan) });
    expect(jobs.map((job) => job.imageId)).toEqual(jobs.map(() => sha256(scan)));
    expect(jobs.length).toBeGreaterThan(0);
    expect(await uploadStatus(grant.uploadId)).toMatchObject({
      status: 200,
      body: { status: 'processing', imageId: sha256(scan) },
    });
  });

  it('resumes: the parts S3 holds are listed (over pages), the rest are sent, and the upload completes', async () => {
    const { body: grant } = (await createMultipart(scan)) as { body: MultipartGrantView };
    const first = await sendPart(grant.uploadId, 1, partBytes(scan, grant, 1));

    // The connection drops; a reloaded page asks what S3 has.
    const listed = await listParts(grant.uploadId);
    expect(listed).toEqual({
      status: 200,
      body: { parts: [{ PartNumber: 1, Size: grant.partSize, ETag: first.ETag }] },
    });
    const rest = await sendAll(scan, grant, 2);
    expect(
      (await listParts(grant.uploadId)).body.parts.map((p: { PartNumber: number }) => p.PartNumber),
    ).toEqual([1, 2, 3]);
    expect((await complete(grant.uploadId, [first, ...rest])).status).toBe(200);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: uploadBucket, Key: grant.key }));
    expect(head.ContentLength).toBe(scan.length);
  });

  it('refuses to complete parts that are not the plan, and completes nothing', async () => {
    const { body: grant } = (await createMultipart(scan)) as { body: MultipartGrantView };
    const parts = await sendAll(scan, grant);
    // Part 2 again, a byte short: S3 would refuse the signed length; s3rver checks no signature.
    const signed = (await signPart(grant.uploadId, 2)).body as PartUrlView;
    const short = await fetch(signed.url, { method: 'PUT', body: partBytes(scan, grant, 2).subarray(1) });
    const shortPart = { PartNumber: 2, ETag: short.headers.get('etag') ?? '' };

    const refused = await complete(grant.uploadId, [parts[0], shortPart, parts[2]]);
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', field: 'parts' } },
    });
    expect(refused.body.error.message).toContain(`part 2 has ${grant.partSize - 1} bytes`);
    await expect(
      clients.s3.send(new HeadObjectCommand({ Bucket: uploadBucket, Key: grant.key })),
    ).rejects.toMatchObject({
      name: 'NotFound',
    });

    // Parts missing, and a list that does not name what S3 holds, are refused the same way.
    const missing = (await createMultipart(scan)).body as MultipartGrantView;
    const two = [await sendPart(missing.uploadId, 1, partBytes(scan, missing, 1))];
    two.push(await sendPart(missing.uploadId, 2, partBytes(scan, missing, 2)));
    const incomplete = await complete(missing.uploadId, two);
    expect(incomplete).toMatchObject({ status: 400, body: { error: { field: 'parts' } } });
    expect(incomplete.body.error.message).toContain('1 of 3 parts have not arrived (3)');
    const third = await sendPart(missing.uploadId, 3, partBytes(scan, missing, 3));
    const wrongEtag = await complete(missing.uploadId, [...two, { ...third, ETag: '"00"' }]);
    expect(wrongEtag).toMatchObject({ status: 400, body: { error: { field: 'parts' } } });
    expect((await complete(missing.uploadId, [...two, third])).status).toBe(200);
  });

  it('signs a part only for its own upload and number, bound to its planned size', async () => {
    const { body: grant } = (await createMultipart(scan)) as { body: MultipartGrantView };
    for (const partNumber of [0, 4, 'x', '1.5']) {
      expect(await signPart(grant.uploadId, partNumber)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', field: 'partNumber' } },
      });
    }
    const { body } = await signPart(grant.uploadId, 3);
    const url = new URL((body as PartUrlView).url);
    expect(url.pathname).toBe(`/${uploadBucket}/${grant.key}`);
    expect(url.searchParams.get('uploadId')).toBe(await s3UploadIdOf(grant.uploadId));
    expect(url.searchParams.get('partNumber')).toBe('3');
    // The upload id and part number are in the signed query; the length is a signed header.
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-length', 'host']);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(settings.presignTtlSeconds));
    expect((body as PartUrlView).headers).toEqual({});

    // A part is sent to the upload its URL names: another upload's URL puts nothing into this one.
    const other = (await createMultipart(scan)).body as MultipartGrantView;
    const foreign = (await signPart(other.uploadId, 1)).body as PartUrlView;
    await fetch(foreign.url, { method: 'PUT', body: partBytes(scan, other, 1) });
    expect((await listParts(grant.uploadId)).body).toEqual({ parts: [] });

    // A single upload has no parts.
    const single = await call(API_ROUTES.createUpload, owner, {
      body: { contentType: 'image/tiff', size: scan.length, method: 'PUT' },
    });
    for (const refused of [await signPart(single.body.uploadId, 1), await abort(single.body.uploadId)]) {
      expect(refused).toMatchObject({ status: 409, body: { error: { reason: 'upload_not_in_progress' } } });
    }
  });

  it('answers another owner’s calls exactly as for an upload that does not exist', async () => {
    const { body: grant } = (await createMultipart(scan)) as { body: MultipartGrantView };
    const part = await sendPart(grant.uploadId, 1, partBytes(scan, grant, 1));
    const nobody = await uploadStatus('0'.repeat(32), stranger);
    expect(nobody.status).toBe(404);
    const answers = [
      await uploadStatus(grant.uploadId, stranger),
      await signPart(grant.uploadId, 1, stranger),
      await listParts(grant.uploadId, stranger),
      await complete(grant.uploadId, [part], stranger),
      await abort(grant.uploadId, stranger),
      await signPart('0'.repeat(32), 1),
      await listParts('not-an-id'),
    ];
    for (const answer of answers) expect(answer).toEqual(nobody);
    // Nothing the stranger did touched it.
    expect((await listParts(grant.uploadId)).body.parts).toHaveLength(1);
  });

  it('aborts an upload in progress: its parts go, and nothing more can be done with it', async () => {
    const { body: grant } = (await createMultipart(scan)) as { body: MultipartGrantView };
    const sent = await sendPart(grant.uploadId, 1, partBytes(scan, grant, 1));
    const unsent = (await signPart(grant.uploadId, 2)).body as PartUrlView;
    const s3UploadId = await s3UploadIdOf(grant.uploadId);

    expect(await abort(grant.uploadId)).toEqual({ status: 204, body: undefined });
    expect(await uploadStatus(grant.uploadId)).toMatchObject({
      status: 200,
      body: { status: 'rejected', reason: 'aborted' },
    });
    for (const refused of [
      await complete(grant.uploadId, [sent]),
      await abort(grant.uploadId),
      await signPart(grant.uploadId, 3),
      await listParts(grant.uploadId),
    ]) {
      expect(refused).toMatchObject({ status: 409, body: { error: { reason: 'upload_not_in_progress' } } });
    }
    // A URL signed before the abort is refused by S3 itself.
    const late = await fetch(unsent.url, { method: 'PUT', body: partBytes(scan, grant, 2) });
    expect(late.status).toBe(404);
    expect(await late.text()).toContain('NoSuchUpload');
    const { Uploads = [] } = await clients.s3.send(
      new ListMultipartUploadsCommand({ Bucket: uploadBucket, Prefix: grant.key }),
    );
    expect(Uploads.map((u) => u.UploadId)).not.toContain(s3UploadId);
  });

  describe('ingest of a completed multipart object', () => {
    it('rejects one whose bytes do not hash to the declared SHA-256', async () => {
      const other = await threePartTiff();
      const { body: grant } = (await createMultipart(scan, { sha256: sha256(other) })) as {
        body: MultipartGrantView;
      };
      expect((await complete(grant.uploadId, await sendAll(scan, grant))).status).toBe(200);
      const { outcome, jobs } = await ingest(grant.key, scan.length);
      expect(outcome).toMatchObject({ outcome: 'rejected', rejection: { reason: 'checksum_mismatch' } });
      expect(jobs).toEqual([]);
    });

    it('rejects one of another size than declared (completed behind the API’s back)', async () => {
      const { body: grant } = (await createMultipart(scan)) as { body: MultipartGrantView };
      const s3UploadId = await s3UploadIdOf(grant.uploadId);
      const parts = [];
      // A part short of the plan, completed straight with S3, as a client with S3 credentials could.
      for (const [n, body] of [
        partBytes(scan, grant, 1),
        partBytes(scan, grant, 2).subarray(1024),
      ].entries()) {
        const { ETag } = await clients.s3.send(
          new UploadPartCommand({
            Bucket: uploadBucket,
            Key: grant.key,
            UploadId: s3UploadId,
            PartNumber: n + 1,
            Body: body,
          }),
        );
        parts.push({ PartNumber: n + 1, ETag });
      }
      await clients.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: uploadBucket,
          Key: grant.key,
          UploadId: s3UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      const size = 2 * grant.partSize - 1024;
      const { outcome, jobs } = await ingest(grant.key, size);
      expect(outcome).toEqual({
        outcome: 'rejected',
        uploadId: grant.uploadId,
        rejection: {
          reason: 'size_mismatch',
          message: `the upload has ${size} bytes where ${scan.length} were declared`,
        },
      });
      expect(jobs).toEqual([]);
      expect(await uploadStatus(grant.uploadId)).toMatchObject({
        body: { status: 'rejected', reason: 'size_mismatch' },
      });
    });
  });
});
