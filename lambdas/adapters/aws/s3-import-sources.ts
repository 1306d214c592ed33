import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import type { ImportSources } from '../../ports/import-sources.js';
import { toDomainError } from './dependency-errors.js';

/** Reads a source bucket's objects; the import function's role may do nothing else there. */
export class S3ImportSources implements ImportSources {
  constructor(private readonly s3: S3Client) {}

  async read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Body as AsyncIterable<Uint8Array> | undefined;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw toDomainError(error, 'read import source', { bucket, key });
    }
  }
}
