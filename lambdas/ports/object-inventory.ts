import type { Page } from './catalog.js';

/** The pipeline's two buckets: uploads as they arrive, and images (originals and derivatives). */
export type BucketRole = 'uploads' | 'images';

export interface StoredObject {
  key: string;
  bytes: number;
  lastModified: Date;
}

/** A multipart upload started and neither completed nor aborted yet: its parts are stored, and billed. */
export interface IncompleteUpload {
  key: string;
  initiated: Date;
}

/** Objects by key across whole buckets, for operations (stats, reprocess, reconcile). The S3 adapter implements it. */
export interface ObjectInventory {
  /** One page of the objects under `prefix`, in key order (so one image's derivatives come together). */
  list(bucket: BucketRole, prefix: string, cursor?: string): Promise<Page<StoredObject>>;
  /** One page of the incomplete multipart uploads under `prefix`, in key order. */
  listIncompleteUploads(bucket: BucketRole, prefix: string, cursor?: string): Promise<Page<IncompleteUpload>>;
  exists(bucket: BucketRole, key: string): Promise<boolean>;
  /** Removes the objects; ones already gone are not an error. */
  remove(bucket: BucketRole, keys: readonly string[]): Promise<void>;
}
