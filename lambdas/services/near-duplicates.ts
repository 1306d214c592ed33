import {
  type Fingerprint,
  fingerprintDistance,
  lookupTerms,
  NEAR_DUPLICATE_MAX_DISTANCE,
} from '../core/near-duplicates.js';
import type { ImageLink, ImageRecord, RequestPathCatalog } from '../ports/catalog.js';
import type { OwnerIndex } from '../ports/owner-index.js';
import { allItems, forEachConcurrently } from './bulk-reads.js';

export interface NearDuplicateDependencies {
  catalog: Pick<RequestPathCatalog, 'getImage' | 'findLink'>;
  ownerIndex: Pick<OwnerIndex, 'query'>;
}

/** One of the owner's images that looks like the one asked about. */
export interface NearDuplicate {
  image: ImageRecord;
  link: ImageLink;
  /** Bits between the two fingerprints, 0 to `NEAR_DUPLICATE_MAX_DISTANCE`. */
  distance: number;
}

/** Reads in flight at once: enough to overlap DynamoDB's latency, few enough to bound a request. */
const PARALLEL_READS = 8;
/** Entries read per page of one term: a band value is shared by few images unless they look alike. */
const ENTRIES_PER_PAGE = 100;

/**
 * The owner's images whose fingerprint is within `NEAR_DUPLICATE_MAX_DISTANCE` bits of this one
 * (with `linkedBefore`, of those the owner linked before then), nearest first (ties by image id), at
 * most `limit`. Only the owner's own entries are read (`lookupTerms`: 68 queries), each candidate's
 * full distance is checked on its record, and only an image the owner still links is returned: an
 * entry can outlive its link in a race with a delete.
 */
export async function findNearDuplicates(
  deps: NearDuplicateDependencies,
  owner: string,
  fingerprint: Fingerprint,
  options: { limit: number; excluding?: string; linkedBefore?: Date },
): Promise<NearDuplicate[]> {
  const candidates = new Set<string>();
  await forEachConcurrently(lookupTerms(fingerprint), PARALLEL_READS, async (term) => {
    const entries = allItems((cursor) =>
      deps.ownerIndex.query(owner, term, { cursor, limit: ENTRIES_PER_PAGE }),
    );
    for await (const imageId of entries) candidates.add(imageId);
  });
  if (options.excluding) candidates.delete(options.excluding);

  const found: NearDuplicate[] = [];
  await forEachConcurrently(candidates, PARALLEL_READS, async (imageId) => {
    const image = await deps.catalog.getImage(imageId);
    const distance = image?.fingerprint && fingerprintDistance(image.fingerprint, fingerprint);
    if (!image || distance === undefined || distance > NEAR_DUPLICATE_MAX_DISTANCE) return;
    const link = await deps.catalog.findLink(owner, imageId);
    if (link && !(options.linkedBefore && link.linkedAt >= options.linkedBefore)) {
      found.push({ image, link, distance });
    }
  });
  return found
    .sort((a, b) => a.distance - b.distance || (a.image.imageId < b.image.imageId ? -1 : 1))
    .slice(0, options.limit);
}

/**
 * Notes on the owner's link the nearest of their images linked before it that looks like it (the
 * image view's `nearDuplicateOf`), if there is one. A hint, not a guarantee: an earlier image whose
 * own fingerprint is filed only after this runs goes unnoticed.
 */
export async function noteNearDuplicate(
  deps: NearDuplicateDependencies & { catalog: Pick<RequestPathCatalog, 'recordNearDuplicate'> },
  link: ImageLink,
  fingerprint: Fingerprint,
): Promise<void> {
  const [nearest] = await findNearDuplicates(deps, link.owner, fingerprint, {
    limit: 1,
    excluding: link.imageId,
    linkedBefore: link.linkedAt,
  });
  if (nearest) await deps.catalog.recordNearDuplicate(link.owner, link.imageId, nearest.image.imageId);
}
