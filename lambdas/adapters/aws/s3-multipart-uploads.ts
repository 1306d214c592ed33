import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConflictError, type ErrorContext, ValidationError } from '../../core/errors.js';
import type { MultipartUploadGrant } from '../../core/uploads.js';
import type { MultipartTarget, MultipartUploads, StoredPart } from '../../ports/multipart-uploads.js';
import { toDomainError } from './dependency-errors.js';

/** What S3 says when the parts named at completion are not the ones it holds. */
const PART_REFUSALS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);

/** S3 multipart uploads into the upload bucket, each bound to the key and metadata its grant names. */
export class S3MultipartUploads implements MultipartUploads {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** Parts a ListParts page asks for; S3's own is 1,000 (tests ask for fewer to see the paging). */
    private readonly partsPerPage?: number,
  ) {}

  async create(grant: MultipartUploadGrant): Promise<string> {
    try {
      const { UploadId } = await this.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: grant.key,
          ContentType: grant.contentType,
          Metadata: grant.metadata,
        }),
      );
      if (!UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
      return UploadId;
    } catch (error) {
      throw toDomainError(error, 'create multipart upload', { uploadId: grant.uploadId });
    }
  }

  async presignPart(
    target: MultipartTarget,
    part: { partNumber: number; size: number },
    expiresAt: Date,
  ): Promise<{ url: string; headers: Record<string, string> }> {
    const expiresIn = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 1000));
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: target.key,
      UploadId: target.s3UploadId,
      PartNumber: part.partNumber,
      ContentLength: part.size,
    });
    try {
      // The upload id and part number are in the signed query; the length is a signed header, which
      // browsers set from the body themselves: nothing for the client to add.
      const url = await getSignedUrl(this.s3, command, {
        expiresIn,
        signableHeaders: new Set(['content-length']),
      });
      return { url, headers: {} };
    } catch (error) {
      throw toDomainError(error, 'presign upload part', { key: target.key });
    }
  }

  async listParts(target: MultipartTarget): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('list parts', target, () =>
        this.s3.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: target.key,
            UploadId: target.s3UploadId,
            PartNumberMarker: marker,
            MaxParts: this.partsPerPage,
          }),
        ),
      );
      for (const { PartNumber, Size, ETag } of page.Parts ?? []) {
        if (PartNumber !== undefined && ETag)
          parts.push({ partNumber: PartNumber, size: Size ?? 0, etag: ETag });
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  async complete(target: MultipartTarget, parts: readonly StoredPart[]): Promise<{ location?: string }> {
    const { Location } = await this.call('complete multipart upload', target, () =>
      this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: target.key,
          UploadId: target.s3UploadId,
          MultipartUpload: {
            Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
          },
        }),
      ),
    );
    return Location ? { location: Location } : {};
  }

  async abort(target: MultipartTarget): Promise<void> {
    await this.call('abort multipart upload', target, () =>
      this.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: target.key,
          UploadId: target.s3UploadId,
        }),
      ),
    );
  }

  /**
   * Runs one call on an upload. S3 no longer holding it is the caller's conflict to answer (409); parts
   * S3 refuses at completion are the request's fault (400); the rest as every dependency error.
   */
  private async call<T>(operation: string, target: MultipartTarget, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const name = (error as { name?: string } | undefined)?.name;
      const context: ErrorContext = { key: target.key, operation, sdkError: name };
      if (name === 'NoSuchUpload') {
        throw new ConflictError(
          'upload_not_in_progress',
          'the multipart upload is no longer in progress: it was completed, aborted or has expired',
          context,
          { cause: error },
        );
      }
      if (name && PART_REFUSALS.has(name)) {
        throw new ValidationError(`S3 refused the parts (${name}); nothing was completed`, 'parts', context);
      }
      throw toDomainError(error, operation, { key: target.key });
    }
  }
}
