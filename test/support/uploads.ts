import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { uploadKey } from '../../lambdas/core/keys.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import type { RequestPathCatalog } from '../../lambdas/ports/catalog.js';

/** What a client does with a grant: the API's pending upload record, then the bytes at its key. */
export async function seedUpload(
  target: { catalog: RequestPathCatalog; s3: S3Client; uploadBucket: string },
  bytes: Buffer,
  options: {
    owner?: string;
    contentType?: string;
    sha256?: string;
    collection?: string;
    filename?: string;
  } = {},
) {
  const uploadId = newUploadId();
  const contentType = options.contentType ?? 'image/jpeg';
  await target.catalog.recordUpload({
    uploadId,
    owner: options.owner ?? 'owner-a',
    state: 'pending',
    contentType,
    size: bytes.length,
    sha256: options.sha256,
    filename: options.filename ?? 'photo.jpg',
    collection: options.collection,
    createdAt: new Date(),
    uploadExpiresAt: new Date(Date.now() + 300_000),
  });
  const key = uploadKey(uploadId);
  await target.s3.send(
    new PutObjectCommand({ Bucket: target.uploadBucket, Key: key, Body: bytes, ContentType: contentType }),
  );
  return { uploadId, key, size: bytes.length };
}
