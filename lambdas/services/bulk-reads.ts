import { derivativesPrefix } from '../core/keys.js';
import type { Settings } from '../core/settings.js';
import type { Page } from '../ports/catalog.js';
import type { CatalogEntry, MaintenanceCatalog, ScanSegment } from '../ports/maintenance-catalog.js';
import type { BucketRole, ObjectInventory, StoredObject } from '../ports/object-inventory.js';

/**
 * Reading the whole catalog and whole buckets a page at a time, for operations (stats, reprocess,
 * reconcile), and working through what is read.
 */

/** Items read so far by a pass over the catalog and the buckets, for a progress line. */
export interface ReadCounts {
  catalogItems: number;
  objects: number;
}

/** What a pass over the whole catalog and both buckets reads with. */
export interface BulkReadDependencies {
  settings: Settings;
  catalog: MaintenanceCatalog;
  inventory: ObjectInventory;
  now: () => Date;
  /** Told as items are read. */
  onProgress?: (read: ReadCounts) => void;
}

/** Every item of a paged listing, asking for the next page only as the caller gets there. */
export async function* allItems<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

/** Every image, link, holder and upload of the catalog (one scan), or of one segment of it. */
export function catalogEntries(
  catalog: MaintenanceCatalog,
  segment?: ScanSegment,
): AsyncGenerator<CatalogEntry> {
  return allItems((cursor) => catalog.scanCatalog(cursor, segment));
}

/** Every object under a prefix, in key order. */
export function storedObjects(
  inventory: ObjectInventory,
  bucket: BucketRole,
  prefix: string,
): AsyncGenerator<StoredObject> {
  return allItems((cursor) => inventory.list(bucket, prefix, cursor));
}

/** Every derivative of one image, of every variant set it was ever rendered for. */
export async function derivativesOf(inventory: ObjectInventory, imageId: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for await (const object of storedObjects(inventory, 'images', derivativesPrefix(imageId)))
    objects.push(object);
  return objects;
}

/**
 * Runs `work` on every item, at most `limit` at once. The first failure stops the taking of new
 * items; the ones under way finish, then that failure is thrown.
 */
export async function forEachConcurrently<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  // An async generator queues concurrent next() calls, so the workers can share one iterator (a
  // plain iterator answers each call at once).
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let failed = false;
  const worker = async () => {
    while (!failed) {
      const next = await iterator.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: limit }, worker));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}
