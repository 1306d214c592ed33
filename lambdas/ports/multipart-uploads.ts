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

// The routes' answers are defined with their schemas in core.
export type {
  CompletedUploadView,
  ListedPartView,
  MultipartGrantView,
  PartUrlView,
} from '../core/upload-views.js';
