import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../ports/object-store.js';
import { toDomainError } from './dependency-errors.js';

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly buckets: { uploads: string; images: string },
  ) {}

  async readUpload(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.buckets.uploads, Key: key }));
      return Body as AsyncIterable<Uint8Array> | undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw toDomainError(error, 'read upload', { key });
    }
  }

  async deleteUpload(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.buckets.uploads, Key: key }));
    } catch (error) {
      throw toDomainError(error, 'delete upload', { key });
    }
  }

  async storeOriginal(uploadKey: string, originalKey: string, contentType: string): Promise<void> {
    try {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.buckets.images,
          Key: originalKey,
          CopySource: `${this.buckets.uploads}/${uploadKey}`,
          // The original's type is the sniffed one; the uploader's metadata and any tags stay behind
          // (copying tags would also need a tagging permission the function does not have).
          ContentType: contentType,
          MetadataDirective: 'REPLACE',
          TaggingDirective: 'REPLACE',
        }),
      );
    } catch (error) {
      throw toDomainError(error, 'store original', { uploadKey, originalKey });
    }
  }
}
