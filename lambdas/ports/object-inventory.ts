import type { Page } from './catalog.js';

/** The pipeline's two buckets: uploads as they arrive, and images (originals and derivatives). */
export type BucketRole = 'uploads' | 'images';

export interface StoredObject {
  key: string;
  bytes: number;
  lastModified: Date;
}

/** Objects by key across whole buckets, for operations (stats, reprocess, reconcile). The S3 adapter implements it. */
export interface ObjectInventory {
  /** One page of the objects under `prefix`, in key order (so one image's derivatives come together). */
  list(bucket: BucketRole, prefix: string, cursor?: string): Promise<Page<StoredObject>>;
  exists(bucket: BucketRole, key: string): Promise<boolean>;
  /** Removes the objects; ones already gone are not an error. */
  remove(bucket: BucketRole, keys: readonly string[]): Promise<void>;
}
