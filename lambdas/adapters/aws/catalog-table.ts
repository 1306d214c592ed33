/**
 * The catalog's DynamoDB key design, shared by the construct that creates the table, the local twin
 * that recreates it, and the adapter that reads and writes it: one definition, no drift.
 *
 * Single table, items addressed by `pk`/`sk`:
 * - image   `IMAGE#{sha256}`   / `IMAGE`             the content-addressed record, with its reference count
 * - link    `OWNER#{owner}`    / `IMAGE#{sha256}`    one owner's claim on an image
 * - upload  `UPLOAD#{uploadId}`/ `UPLOAD`            one presigned upload and its fate
 * - lease   `LEASE#{name}`     / `LEASE`             a short claim on render work (expires by TTL)
 * The `byCollection` index lists an owner's links in one collection, newest first.
 */
export const CATALOG_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes the item some time after it passes (abandoned uploads). */
  timeToLiveAttribute: 'expiresAtEpoch',
  collectionIndex: { name: 'byCollection', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
} as const;

export const catalogKeys = {
  image: (sha256: string) => ({ pk: `IMAGE#${sha256}`, sk: 'IMAGE' }),
  link: (owner: string, sha256: string) => ({ pk: `OWNER#${owner}`, sk: `IMAGE#${sha256}` }),
  upload: (uploadId: string) => ({ pk: `UPLOAD#${uploadId}`, sk: 'UPLOAD' }),
  lease: (name: string) => ({ pk: `LEASE#${name}`, sk: 'LEASE' }),
  /** The `byCollection` partition of one owner's collection. */
  collection: (owner: string, collection: string) => `OWNER#${owner}#COLLECTION#${collection}`,
};
