import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
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
      if (error instanceof NoSuchKey) return undefined;
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

  async storeOriginal(original: {
    key: string;
    bytes: Buffer;
    sha256: string;
    contentType: string;
  }): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.buckets.images,
          Key: original.key,
          Body: original.bytes,
          // S3 refuses the write unless the body hashes to this, and keeps it for readers to check.
          ChecksumSHA256: Buffer.from(original.sha256, 'hex').toString('base64'),
          // The sniffed type; nothing of the uploader's (metadata, tags) comes along.
          ContentType: original.contentType,
        }),
      );
    } catch (error) {
      throw toDomainError(error, 'store original', { key: original.key });
    }
  }
}
