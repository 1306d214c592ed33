/** The catalog of uploads, images and who links to them. The DynamoDB adapter implements it. */

export type UploadStatus = 'pending' | 'processing' | 'ready' | 'rejected' | 'failed';

export interface UploadRecord {
  uploadId: string;
  owner: string;
  status: UploadStatus;
  contentType: string;
  size: number;
  sha256: string | undefined;
  filename: string | undefined;
  collection: string | undefined;
  createdAt: Date;
  /** When the presigned URL stops working; an upload still `pending` well after it is abandoned. */
  uploadExpiresAt: Date;
}

/** One owner's claim on a content-addressed image. */
export interface ImageLink {
  owner: string;
  imageId: string;
  uploadId: string;
  collection: string | undefined;
  filename: string | undefined;
  linkedAt: Date;
}

export interface Catalog {
  /** Stores a new upload; fails with ConflictError if the id is already taken. */
  recordUpload(upload: UploadRecord): Promise<void>;
  /** The owner's link to the image with this hash, if the owner has one. Other owners' links are invisible. */
  findLink(owner: string, imageId: string): Promise<ImageLink | undefined>;
}
