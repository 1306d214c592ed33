import type { UploadGrant, UploadMethod } from '../core/uploads.js';

/** What a client needs to send the bytes itself: the shape Uppy's `getUploadParameters` expects. */
export interface PresignedUpload {
  method: UploadMethod;
  url: string;
  /** Form fields for a POST upload (the file goes last); empty for PUT. */
  fields: Record<string, string>;
  /** Headers the client must send with a PUT upload; empty for POST. */
  headers: Record<string, string>;
}

export interface UploadSigner {
  presign(grant: UploadGrant): Promise<PresignedUpload>;
}
