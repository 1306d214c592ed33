import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { analysisKey, derivativesPrefix, originalKey } from '../../core/keys.js';
import type { ImageObjects } from '../../ports/image-objects.js';
import { toDomainError } from './dependency-errors.js';

export class S3ImageObjects implements ImageObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /**
   * Lists the image's derivative prefix (keys of older variant sets included, which no spec names
   * any more) a page at a time and deletes each page in one request, then the analysis image (there
   * or not); the original goes last.
   */
  async deleteAll(imageId: string): Promise<number> {
    let removed = 0;
    try {
      let continuationToken: string | undefined;
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: derivativesPrefix(imageId),
            ContinuationToken: continuationToken,
          }),
        );
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
        if (keys.length > 0) {
          const { Errors = [] } = await this.s3.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          if (Errors.length > 0) throw new Error(`S3 kept ${Errors.length} derivatives: ${Errors[0]?.Code}`);
          removed += keys.length;
        }
        continuationToken = page.NextContinuationToken;
      } while (continuationToken);
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: analysisKey(imageId) }));
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: originalKey(imageId) }));
      return removed + 1;
    } catch (error) {
      throw toDomainError(error, 'delete image objects', { imageId, removed });
    }
  }
}
