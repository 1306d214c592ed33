import {
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DerivativeStore } from '../../ports/derivative-store.js';
import { toDomainError } from './dependency-errors.js';

/** The most keys one DeleteObjects request takes. */
const DELETE_BATCH = 1000;

/** Derivatives never change under their key (the key carries the spec revision), so caches keep them for good. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export class S3DerivativeStore implements DerivativeStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  readOriginal(key: string): Promise<Buffer | undefined> {
    return this.read(key, 'read original');
  }

  readDerivative(key: string): Promise<Buffer | undefined> {
    return this.read(key, 'read derivative');
  }

  private async read(key: string, operation: string): Promise<Buffer | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Body ? Buffer.from(await Body.transformToByteArray()) : undefined;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw toDomainError(error, operation, { key });
    }
  }

  async putDerivative(derivative: {
    key: string;
    bytes: Buffer;
    contentType: string;
    metadata: Record<string, string>;
  }): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: derivative.key,
          Body: derivative.bytes,
          ContentType: derivative.contentType,
          CacheControl: IMMUTABLE_CACHE_CONTROL,
          Metadata: derivative.metadata,
        }),
      );
    } catch (error) {
      throw toDomainError(error, 'put derivative', { key: derivative.key });
    }
  }

  async deleteDerivatives(keys: readonly string[]): Promise<void> {
    try {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH).map((key) => ({ Key: key }));
        const { Errors = [] } = await this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }),
        );
        if (Errors.length > 0) throw new Error(`S3 kept ${Errors.length} derivatives: ${Errors[0]?.Code}`);
      }
    } catch (error) {
      throw toDomainError(error, 'delete derivatives', { keys: keys.length });
    }
  }
}
