import { z } from 'zod';
import { sha256Hex } from './hashing.js';
import type { RejectionReason } from './rejections.js';
import { collectionSchema } from './uploads.js';

/**
 * A server-side import: a library already in S3 comes in through a Step Functions Distributed Map
 * over the source objects, each batch judged by the import function with ingest's own code
 * (`services/import-objects.ts`). These are the shapes both sides of that boundary agree on, and the
 * local runner feeds the function exactly the same.
 */

/** S3's rules for a bucket name (general purpose buckets): what `s3://…` may name. */
export const bucketNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"',
  );

/** Whose library it is: the same owner id the API takes from a token's `sub`. */
export const ownerSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

/** An import's id: the execution's name on AWS, the run's directory locally. */
export const importIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,80}$/, 'letters, digits, "_" and "-", at most 80');

/** What every batch of one import is told (the Distributed Map's `ItemBatcher.BatchInput`). */
export const importBatchInputSchema = z.strictObject({
  importId: importIdSchema,
  bucket: bucketNameSchema,
  owner: ownerSchema,
  collection: collectionSchema.optional(),
});
export type ImportBatchInput = z.infer<typeof importBatchInputSchema>;

/**
 * One source object as the Distributed Map's S3 ItemReader hands it over: a ListObjectsV2 entry
 * (`Key`, `Size`, `Etag`, `LastModified`, `StorageClass`), or an S3 Inventory row (sizes as strings,
 * `ETag` if the inventory has it). Other fields are ignored.
 */
export const importItemSchema = z.object({
  Key: z.string().min(1).max(1024),
  Size: z.coerce.number().int().nonnegative().optional(),
  Etag: z.string().optional(),
  ETag: z.string().optional(),
});
export type ImportItem = z.infer<typeof importItemSchema>;

/** A child execution's input: the Distributed Map's batch (`ItemBatcher`), as the import function receives it. */
export const importBatchSchema = z.object({
  Items: z.array(importItemSchema).min(1).max(1000),
  BatchInput: importBatchInputSchema,
});
export type ImportBatch = z.infer<typeof importBatchSchema>;

/**
 * What became of one source object:
 * - `new`: its bytes became a new image; `duplicate`: they joined an image already stored (the
 *   owner's own, from another key, or another owner's);
 * - `already_imported`: an earlier import of the same object (owner, bucket, key, ETag) accepted it;
 * - `rejected`: ingest's judgement refused it (`earlier` when an earlier import decided so);
 * - `skipped`: not a file (a folder marker) or gone since the listing;
 * - `failed`: a transient error; the batch fails so Step Functions retries it.
 */
export type ImportItemResult =
  | { key: string; outcome: 'new' | 'duplicate' | 'already_imported'; uploadId: string; imageId: string }
  | {
      key: string;
      outcome: 'rejected';
      uploadId: string;
      reason: RejectionReason;
      message: string;
      earlier: boolean;
    }
  | { key: string; outcome: 'skipped'; why: 'folder_marker' | 'object_gone' }
  | { key: string; outcome: 'failed'; error: string };

export type ImportOutcome = ImportItemResult['outcome'];

/** A decision an import made on an object: what its tally counts. */
export type ImportDecision =
  | { kind: 'new' }
  | { kind: 'duplicate' }
  | { kind: 'rejected'; reason: RejectionReason };

/** The decision a result reports, if the result is one this import made. */
export function decisionOf(result: ImportItemResult): ImportDecision | undefined {
  if (result.outcome === 'new' || result.outcome === 'duplicate') return { kind: result.outcome };
  if (result.outcome === 'rejected' && !result.earlier) return { kind: 'rejected', reason: result.reason };
  return undefined;
}

/**
 * The decisions one import made, each counted once (`ImportTallies.count`). What a rerun of the same
 * prefix found decided before is the map run's succeeded items less these.
 */
export interface ImportTally {
  new: number;
  duplicate: number;
  rejected: Partial<Record<RejectionReason, number>>;
}

export const emptyTally = (): ImportTally => ({ new: 0, duplicate: 0, rejected: {} });

/** All the tally's rejections, whatever their reason. */
export const rejectedCount = (tally: ImportTally): number =>
  Object.values(tally.rejected).reduce((sum, count) => sum + (count ?? 0), 0);

/** What a batch returns: a child execution's output, which the map's ResultWriter files. */
export interface ImportBatchResult {
  importId: string;
  results: ImportItemResult[];
}

/**
 * The upload id an import gives a source object: the same for the same owner, object and version
 * (its ETag), so a rerun, a retried batch or a redriven run finds the upload it decided and changes
 * nothing; a replaced object is a new upload. 32 hex digits, as every upload id.
 */
export function importUploadId(input: Pick<ImportBatchInput, 'owner' | 'bucket'>, item: ImportItem): string {
  const version = item.Etag ?? item.ETag ?? `size:${item.Size ?? ''}`;
  return sha256Hex(
    Buffer.from(JSON.stringify(['import', input.owner, input.bucket, item.Key, version])),
  ).slice(0, 32);
}

/** A key that names a folder, as consoles and sync tools create them: nothing to import. */
export const isFolderMarker = (item: ImportItem): boolean => item.Key.endsWith('/');

/** The filename an imported upload records: the key's last segment (shown, never used in a key). */
export function filenameOf(key: string): string | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1).replace(/\p{Cc}/gu, '');
  return name.length === 0 ? undefined : name.slice(0, 255);
}

/** `s3://bucket/prefix` as an import's source; the prefix may be empty (the whole bucket). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new RangeError(`not an s3:// URI: ${JSON.stringify(uri)}`);
  const bucket = bucketNameSchema.safeParse(match[1]);
  if (!bucket.success) throw new RangeError(`not an S3 bucket name: ${JSON.stringify(match[1])}`);
  return { bucket: bucket.data, prefix: match[2] ?? '' };
}
