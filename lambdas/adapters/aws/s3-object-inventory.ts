import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  NotFound,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Page } from '../../ports/catalog.js';
import type {
  BucketRole,
  IncompleteUpload,
  ObjectInventory,
  StoredObject,
} from '../../ports/object-inventory.js';
import { toDomainError } from './dependency-errors.js';

/** DeleteObjects takes at most this many keys a request. */
const DELETE_BATCH = 1000;

export class S3ObjectInventory implements ObjectInventory {
  constructor(
    private readonly s3: S3Client,
    private readonly buckets: Readonly<Record<BucketRole, string>>,
  ) {}

  async list(bucket: BucketRole, prefix: string, cursor?: string): Promise<Page<StoredObject>> {
    try {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.buckets[bucket], Prefix: prefix, ContinuationToken: cursor }),
      );
      return {
        items: (page.Contents ?? []).flatMap((object) =>
          object.Key
            ? [{ key: object.Key, bytes: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) }]
            : [],
        ),
        cursor: page.NextContinuationToken,
      };
    } catch (error) {
      throw toDomainError(error, 'list objects', { bucket, prefix });
    }
  }

  async listIncompleteUploads(
    bucket: BucketRole,
    prefix: string,
    cursor?: string,
  ): Promise<Page<IncompleteUpload>> {
    // ListMultipartUploads pages by two markers; the cursor carries both.
    const markers = cursor ? (JSON.parse(cursor) as { key?: string; uploadId?: string }) : {};
    try {
      const page = await this.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: this.buckets[bucket],
          Prefix: prefix,
          KeyMarker: markers.key,
          UploadIdMarker: markers.uploadId,
        }),
      );
      return {
        items: (page.Uploads ?? []).flatMap((upload) =>
          upload.Key ? [{ key: upload.Key, initiated: upload.Initiated ?? new Date(0) }] : [],
        ),
        cursor: page.IsTruncated
          ? JSON.stringify({ key: page.NextKeyMarker, uploadId: page.NextUploadIdMarker })
          : undefined,
      };
    } catch (error) {
      throw toDomainError(error, 'list multipart uploads', { bucket, prefix });
    }
  }

  async exists(bucket: BucketRole, key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.buckets[bucket], Key: key }));
      return true;
    } catch (error) {
      if (error instanceof NotFound) return false;
      throw toDomainError(error, 'head object', { bucket, key });
    }
  }

  async remove(bucket: BucketRole, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH).map((key) => ({ Key: key }));
      try {
        const { Errors = [] } = await this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.buckets[bucket], Delete: { Objects: batch, Quiet: true } }),
        );
        if (Errors.length > 0) throw new Error(`S3 kept ${Errors.length} objects: ${Errors[0]?.Code}`);
      } catch (error) {
        throw toDomainError(error, 'delete objects', { bucket, removed: i });
      }
    }
  }
}
