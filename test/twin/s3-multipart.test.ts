import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN_CREDENTIALS, TWIN_REGION } from '../../local/twin/environment.js';
import { type ObjectCreatedRecord, type S3Emulator, startS3 } from '../../local/twin/s3.js';

const MIB = 1024 * 1024;
const BUCKET = 'multipart';
const ORIGIN = 'http://page.example';

/** A presigned URL for part 1 of the upload, bound to its length as the API binds parts. */
function presignFirstPart(s3: S3Client, key: string, uploadId: string, length: number): Promise<string> {
  return getSignedUrl(
    s3,
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId: uploadId,
      PartNumber: 1,
      ContentLength: length,
    }),
    { signableHeaders: new Set(['content-length']) },
  );
}

/** An S3 emulator of this file's own, to watch its notifications; the gaps are s3rver's, not the pipeline's. */

describe('the twin’s S3 multipart uploads (s3rver’s gaps, covered as S3 behaves)', () => {
  let directory: string;
  let emulator: S3Emulator;
  let s3: S3Client;
  const records: ObjectCreatedRecord[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'twin-multipart-'));
    emulator = await startS3({ host: '127.0.0.1', port: 0, directory });
    emulator.onObjectCreated((record) => records.push(record));
    s3 = new S3Client({
      region: TWIN_REGION,
      credentials: TWIN_CREDENTIALS,
      endpoint: emulator.endpoint,
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [ORIGIN],
              AllowedMethods: ['PUT'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
            },
          ],
        },
      }),
    );
  });

  afterAll(async () => {
    s3?.destroy();
    await emulator?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  const create = async (key: string) => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        ContentType: 'image/tiff',
        Metadata: { owner: 'o-1', 'upload-id': 'u-1' },
      }),
    );
    if (!UploadId) throw new Error('no upload id');
    return UploadId;
  };
  const part = async (key: string, uploadId: string, partNumber: number, body: Buffer) => {
    const { ETag } = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
      }),
    );
    return { PartNumber: partNumber, ETag: ETag ?? '' };
  };
  const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest();
  const bigPart = (fill: number) => Buffer.alloc(5 * MIB, fill);

  it('lists the parts it holds, a page at a time, as ListParts does', async () => {
    const key = 'uploads/list-parts';
    const uploadId = await create(key);
    const bodies = [Buffer.from('one'), Buffer.from('second'), Buffer.from('3')];
    for (const [i, body] of bodies.entries()) await part(key, uploadId, i + 1, body);

    const first = await s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 2 }),
    );
    expect(first.IsTruncated).toBe(true);
    expect(first.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 3, `"${md5(bodies[0] as Buffer).toString('hex')}"`],
      [2, 6, `"${md5(bodies[1] as Buffer).toString('hex')}"`],
    ]);
    const second = await s3.send(
      new ListPartsCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MaxParts: 2,
        PartNumberMarker: first.NextPartNumberMarker,
      }),
    );
    expect(second.IsTruncated).toBe(false);
    expect(second.Parts?.map((p) => p.PartNumber)).toEqual([3]);
  });

  it('aborts an upload: its parts go, and later calls on it are NoSuchUpload', async () => {
    const key = 'uploads/aborted';
    const uploadId = await create(key);
    const sent = await part(key, uploadId, 1, bigPart(1));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));

    const noSuchUpload = expect.objectContaining({
      name: 'NoSuchUpload',
      $metadata: expect.objectContaining({ httpStatusCode: 404 }),
    });
    await expect(
      s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
    ).rejects.toEqual(noSuchUpload);
    await expect(part(key, uploadId, 2, Buffer.from('late'))).rejects.toEqual(noSuchUpload);
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [sent] },
        }),
      ),
    ).rejects.toEqual(noSuchUpload);
    await expect(
      s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
    ).rejects.toEqual(noSuchUpload);
    await expect(part(key, 'f'.repeat(32), 1, Buffer.from('made up'))).rejects.toEqual(noSuchUpload);
  });

  it('lists the uploads in progress under a prefix, a page at a time, as ListMultipartUploads does', async () => {
    const keys = ['listed/a', 'listed/b', 'listed/c'];
    const ids = [];
    for (const key of keys) ids.push(await create(key));
    await create('elsewhere/d');

    const first = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'listed/', MaxUploads: 2 }),
    );
    expect(first.IsTruncated).toBe(true);
    expect(first.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([
      [keys[0], ids[0]],
      [keys[1], ids[1]],
    ]);
    expect(first.Uploads?.[0]?.Initiated).toBeInstanceOf(Date);
    const second = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: BUCKET,
        Prefix: 'listed/',
        MaxUploads: 2,
        KeyMarker: first.NextKeyMarker,
        UploadIdMarker: first.NextUploadIdMarker,
      }),
    );
    expect(second.IsTruncated).toBe(false);
    expect(second.Uploads?.map((u) => u.Key)).toEqual([keys[2]]);
  });

  it('refuses to complete from parts it does not hold, out of order or too small, completing nothing', async () => {
    const key = 'uploads/refused';
    const uploadId = await create(key);
    const one = await part(key, uploadId, 1, Buffer.from('small'));
    const two = await part(key, uploadId, 2, bigPart(2));
    const complete = (parts: Array<{ PartNumber: number; ETag: string }>) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    await expect(complete([one, { PartNumber: 3, ETag: one.ETag }])).rejects.toMatchObject({
      name: 'InvalidPart',
    });
    await expect(complete([{ PartNumber: 1, ETag: '"0123"' }, two])).rejects.toMatchObject({
      name: 'InvalidPart',
    });
    await expect(complete([two, one])).rejects.toMatchObject({ name: 'InvalidPartOrder' });
    await expect(complete([one, two])).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
    const { Parts } = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    expect(Parts).toHaveLength(2);
  });

  it('completes with the type and metadata given at creation, an S3-style ETag and a CompleteMultipartUpload event', async () => {
    const key = 'uploads/completed';
    const uploadId = await create(key);
    const bodies = [bigPart(7), Buffer.from('the rest')];
    const parts = [];
    for (const [i, body] of bodies.entries()) parts.push(await part(key, uploadId, i + 1, body));
    const { ETag } = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const expectedEtag = `${createHash('md5')
      .update(Buffer.concat(bodies.map(md5)))
      .digest('hex')}-2`;
    expect(ETag).toBe(`"${expectedEtag}"`);

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentType).toBe('image/tiff');
    expect(head.Metadata).toEqual({ owner: 'o-1', 'upload-id': 'u-1' });
    expect(head.ContentLength).toBe(5 * MIB + 8);
    expect(head.ETag).toBe(`"${expectedEtag}"`);

    await expect
      .poll(() => records.find((r) => r.key === key))
      .toEqual({
        bucket: BUCKET,
        key,
        size: 5 * MIB + 8,
        eTag: expectedEtag,
        eventName: 'ObjectCreated:CompleteMultipartUpload',
      });
    // Gone once completed, as on S3.
    await expect(
      s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
    ).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
  });

  it('lets a browser of an allowed origin PUT a part with a presigned URL and read its ETag', async () => {
    const key = 'uploads/browser';
    const uploadId = await create(key);
    const body = Buffer.from('a part from a page');
    const url = await presignFirstPart(s3, key, uploadId, body.length);
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'PUT' },
    });
    expect(preflight.status).toBe(200);
    const sent = await fetch(url, { method: 'PUT', headers: { origin: ORIGIN }, body });
    expect(sent.status).toBe(200);
    expect(sent.headers.get('access-control-expose-headers')).toBe('ETag');
    expect(sent.headers.get('etag')).toBe(`"${md5(body).toString('hex')}"`);
  });

  it('holds no part whose body was cut off, and takes the part again in full', async () => {
    const key = 'uploads/cut-off';
    const uploadId = await create(key);
    const body = bigPart(9);
    const url = new URL(await presignFirstPart(s3, key, uploadId, body.length));
    // Half the part, then the connection drops.
    const cut = request(url, { method: 'PUT', headers: { 'content-length': body.length } });
    cut.on('error', () => {});
    cut.write(body.subarray(0, body.length / 2), () => cut.destroy());
    const listed = async () =>
      (await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))).Parts ?? [];
    // Where s3rver writes the part as it arrives (`local/twin/s3-multipart.ts`).
    const partFile = join(directory, BUCKET, '._S3rver_uploads', uploadId, '1');
    await expect.poll(() => existsSync(partFile)).toBe(true);
    expect(await listed()).toEqual([]);

    const { ETag } = await part(key, uploadId, 1, body);
    expect((await listed()).map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([[1, body.length, ETag]]);
  });
});
