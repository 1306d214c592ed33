/**
 * Why an upload was refused or an image failed, as a stable machine-readable code with a human
 * message. The codes are part of the API (`reason`), so they only ever gain members.
 */
export const REJECTION_REASONS = [
  'empty',
  'too_large',
  'unrecognised_format',
  'markup_not_allowed',
  /** Given before HEIC was decoded (issue 16); uploads refused then still carry it. */
  'heic_not_supported',
  'format_not_allowed',
  'content_type_mismatch',
  'truncated',
  'undecodable',
  'too_many_pixels',
  'checksum_mismatch',
  'no_upload_record',
  /** The object is not of the size declared for the upload. */
  'size_mismatch',
  /** Its owner aborted the multipart upload before completing it. */
  'aborted',
  // Render failures, recorded on the image:
  'unsupported_format',
  'retries_exhausted',
  /** The stored original's bytes do not hash to the image: nothing ingest did not judge is rendered. */
  'original_mismatch',
  // Found by `aperture reconcile`:
  /** The image's original is gone from the bucket: it can never be rendered again. */
  'original_missing',
  /** The upload was never ingested and its bytes were removed long after its URL expired. */
  'abandoned',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  reason: RejectionReason;
  message: string;
}
