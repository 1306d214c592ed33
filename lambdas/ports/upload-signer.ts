import type { SingleUploadGrant, SingleUploadMethod } from '../core/uploads.js';

/** What a client needs to send the bytes itself: what Uppy's `@uppy/aws-s3` signer returns. */
export interface PresignedUpload {
  method: SingleUploadMethod;
  url: string;
  /** Form fields for a POST upload (the file goes last); empty for PUT. */
  fields: Record<string, string>;
  /** Headers the client must send with a PUT upload; empty for POST. */
  headers: Record<string, string>;
}

export interface UploadSigner {
  presign(grant: SingleUploadGrant): Promise<PresignedUpload>;
}

// The route's answer is defined with its schema in core.
export type { UploadGrantView } from '../core/upload-views.js';
