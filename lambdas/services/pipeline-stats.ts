import { DERIVATIVES_PREFIX, ORIGINALS_PREFIX, UPLOADS_PREFIX } from '../contract.js';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from '../core/formats.js';
import { formatOfDerivativeKey } from '../core/stored-keys.js';
import { variantSetVersion } from '../core/variants.js';
import type { ImageRecord } from '../ports/catalog.js';
import type { BucketRole, StoredObject } from '../ports/object-inventory.js';
import {
  allItems,
  type BulkReadDependencies,
  catalogEntries,
  type ReadCounts,
  storedObjects,
} from './bulk-reads.js';
import { rendersQueuedSince } from './variant-renders.js';

export type StatsDependencies = BulkReadDependencies;

export interface ObjectTally {
  objects: number;
  bytes: number;
}

export interface PipelineStats {
  variantSetVersion: string;
  images: {
    total: number;
    processing: number;
    ready: number;
    failed: number;
    /** Marked for deletion (they also count under their status). */
    deleting: number;
    /** Not being deleted, and rendered for an older variant set: `aperture reprocess` brings them up. */
    outdated: number;
    /** `processing`, with render jobs queued (or the image created) longer than the threshold ago. */
    stuck: number;
  };
  links: number;
  uploads: {
    total: number;
    pending: number;
    accepted: number;
    rejected: number;
    /** `pending` past the expiry of their presigned URL: no bytes can come any more. */
    expired: number;
  };
  /** The current set's variants over all images not being deleted: how many there should be, how many are done. */
  variants: { expected: number; complete: number };
  storage: Record<'originals' | 'derived' | 'uploads', ObjectTally>;
  /**
   * Multipart uploads under `uploads/` neither completed nor aborted: their parts are billed until the
   * lifecycle rule aborts them (`settings.multipartUploadDays`).
   */
  incompleteMultipartUploads: number;
  /** `derived/` by the format a key's extension names; `other` for keys that name none. */
  derivedByFormat: Record<OutputFormat | 'other', ObjectTally>;
}

const tally = (): ObjectTally => ({ objects: 0, bytes: 0 });

/**
 * Counts the catalog and the buckets in one pass each: a consistent scan of the table and a listing
 * of `originals/`, `derived/` and `uploads/` (its objects and its incomplete multipart uploads), all
 * at once. A variant counts as complete when its
 * image is on the current variant set and it is `ready` or `skipped`.
 */
export async function gatherStats(
  deps: StatsDependencies,
  options: { stuckAfterMs: number },
): Promise<PipelineStats> {
  const version = variantSetVersion(deps.settings.variants);
  const stats: PipelineStats = {
    variantSetVersion: version,
    images: { total: 0, processing: 0, ready: 0, failed: 0, deleting: 0, outdated: 0, stuck: 0 },
    links: 0,
    uploads: { total: 0, pending: 0, accepted: 0, rejected: 0, expired: 0 },
    variants: { expected: 0, complete: 0 },
    storage: { originals: tally(), derived: tally(), uploads: tally() },
    incompleteMultipartUploads: 0,
    derivedByFormat: {
      ...Object.fromEntries(OUTPUT_FORMAT_NAMES.map((f) => [f, tally()])),
      other: tally(),
    } as Record<OutputFormat | 'other', ObjectTally>,
  };
  const now = deps.now();
  const read: ReadCounts = { catalogItems: 0, objects: 0 };
  const progress = () => deps.onProgress?.(read);

  const countImage = (image: ImageRecord) => {
    stats.images.total += 1;
    stats.images[image.status] += 1;
    if (
      image.status === 'processing' &&
      rendersQueuedSince(image).getTime() <= now.getTime() - options.stuckAfterMs
    )
      stats.images.stuck += 1;
    if (image.deletingSince) {
      stats.images.deleting += 1;
      return;
    }
    stats.variants.expected += deps.settings.variants.length;
    if (image.variantSetVersion !== version) {
      stats.images.outdated += 1;
      return;
    }
    stats.variants.complete += deps.settings.variants.filter((v) =>
      ['ready', 'skipped'].includes(image.variants[v.name] ?? 'pending'),
    ).length;
  };

  const scanCatalog = async () => {
    for await (const entry of catalogEntries(deps.catalog)) {
      read.catalogItems += 1;
      progress();
      if (entry.kind === 'image') countImage(entry.image);
      else if (entry.kind === 'link') stats.links += 1;
      else if (entry.kind === 'upload') {
        const { upload } = entry;
        stats.uploads.total += 1;
        stats.uploads[upload.state] += 1;
        if (upload.state === 'pending' && upload.uploadExpiresAt.getTime() < now.getTime())
          stats.uploads.expired += 1;
      }
    }
  };

  const listObjects = async (
    bucket: BucketRole,
    prefix: string,
    into: ObjectTally,
    each?: (object: StoredObject) => void,
  ) => {
    for await (const object of storedObjects(deps.inventory, bucket, prefix)) {
      read.objects += 1;
      progress();
      into.objects += 1;
      into.bytes += object.bytes;
      each?.(object);
    }
  };

  const countIncompleteUploads = async () => {
    for await (const _ of allItems((cursor) =>
      deps.inventory.listIncompleteUploads('uploads', UPLOADS_PREFIX, cursor),
    )) {
      stats.incompleteMultipartUploads += 1;
    }
  };

  await Promise.all([
    scanCatalog(),
    listObjects('images', ORIGINALS_PREFIX, stats.storage.originals),
    listObjects('images', DERIVATIVES_PREFIX, stats.storage.derived, (object) => {
      const format = stats.derivedByFormat[formatOfDerivativeKey(object.key) ?? 'other'];
      format.objects += 1;
      format.bytes += object.bytes;
    }),
    listObjects('uploads', UPLOADS_PREFIX, stats.storage.uploads),
    countIncompleteUploads(),
  ]);
  return stats;
}
