import type { MultipartUploadGrant } from '../core/uploads.js';

/** Which S3 multipart upload: the object key and S3's id for the upload (never shown to the client). */
export interface MultipartTarget {
  key: string;
  s3UploadId: string;
}

/** One part S3 holds. */
export interface StoredPart {
  partNumber: number;
  size: number;
  /** As S3 gives it, quoted. */
  etag: string;
}

/**
 * S3 multipart uploads as the API drives them. Asking about an upload S3 no longer has (completed,
 * aborted, or expired by the lifecycle rule) is a ConflictError (`upload_not_in_progress`).
 */
export interface MultipartUploads {
  /** Starts the upload with the grant's type and metadata, as a single upload's object has; S3's upload id. */
  create(grant: MultipartUploadGrant): Promise<string>;
  /** A URL that uploads exactly `size` bytes as part `partNumber`, and nothing else, until `expiresAt`. */
  presignPart(
    target: MultipartTarget,
    part: { partNumber: number; size: number },
    expiresAt: Date,
  ): Promise<{ url: string; headers: Record<string, string> }>;
  /** Every part S3 holds, by part number (all pages). */
  listParts(target: MultipartTarget): Promise<StoredPart[]>;
  /** Assembles the object from these parts; S3's location for it, when it tells one. */
  complete(target: MultipartTarget, parts: readonly StoredPart[]): Promise<{ location?: string }>;
  abort(target: MultipartTarget): Promise<void>;
}

/** `POST /v1/uploads` with `method: "MULTIPART"` answered 201. */
export interface MultipartGrantView {
  uploadId: string;
  method: 'MULTIPART';
  key: string;
  /** Bytes of every part but the last, which is the rest. */
  partSize: number;
  partCount: number;
  /** ISO 8601: when the upload as a whole is abandoned (the lifecycle rule's age). */
  expiresAt: string;
}

/** `POST /v1/uploads/{uploadId}/parts/{partNumber}`: what `@uppy/aws-s3`'s `signPart` returns. */
export interface PartUrlView {
  url: string;
  /** Headers the client must send with the part; may be empty. */
  headers: Record<string, string>;
  /** ISO 8601. */
  expiresAt: string;
}

/** One entry of `GET /v1/uploads/{uploadId}/parts`, in AWS's own field names, as `listParts` expects. */
export interface ListedPartView {
  PartNumber: number;
  Size: number;
  ETag: string;
}

/** `POST /v1/uploads/{uploadId}/complete` answered 200. */
export interface CompletedUploadView {
  uploadId: string;
  location?: string;
}
