import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { twinEnv, twinInfo } from '../support/twin.js';

const { s3 } = createAwsClients(twinEnv());
const { uploadBucket, imageBucket } = twinInfo().resources;

describe('the twin’s S3 copy', () => {
  it('is atomic, as S3’s: a copy whose source is deleted meanwhile never destroys the object already there', async () => {
    const rounds = 40;
    for (let round = 0; round < rounds; round++) {
      const source = `uploads/copy-race-${round}`;
      const destination = `originals/copy-race-${round}`;
      await s3.send(
        new PutObjectCommand({ Bucket: uploadBucket, Key: source, Body: Buffer.alloc(4096, round) }),
      );
      const copy = () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: imageBucket,
            Key: destination,
            CopySource: `${uploadBucket}/${source}`,
            ContentType: 'image/png',
            MetadataDirective: 'REPLACE',
          }),
        );
      await copy();
      // What ingest meets when two deliveries of one event overlap: one copies, the other deletes the upload.
      await Promise.allSettled([
        copy(),
        new Promise((resolve) => setTimeout(resolve, round % 5)).then(() =>
          s3.send(new DeleteObjectCommand({ Bucket: uploadBucket, Key: source })),
        ),
      ]);
      const object = await s3.send(new GetObjectCommand({ Bucket: imageBucket, Key: destination }));
      const bytes = Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      expect(bytes.equals(Buffer.alloc(4096, round)), destination).toBe(true);
      expect(object.ContentType).toBe('image/png');
    }
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: imageBucket, Prefix: 'originals/copy-race-' }),
    );
    expect(listed.KeyCount).toBe(rounds);
    // The run's twin is shared: leave no originals without an image behind.
    for (const { Key } of listed.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: imageBucket, Key }));
  });
});
