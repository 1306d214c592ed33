import type { RequestPathCatalog } from '../ports/catalog.js';
import type { CdnCache } from '../ports/cdn-cache.js';
import type { ImageObjects } from '../ports/image-objects.js';
import type { OwnerIndex } from '../ports/owner-index.js';
import { unindexLink, type VectorFiling } from './owner-index-sync.js';

export interface DeleteImageDependencies {
  catalog: RequestPathCatalog;
  objects: ImageObjects;
  /** Absent where nothing caches derivatives (the local CDN). */
  cdn: CdnCache | undefined;
  /** The owner's lookups (and vector) of the image go with their link. */
  ownerIndex: OwnerIndex;
  vectors?: VectorFiling | undefined;
  now: () => Date;
}

export type DeleteImageOutcome =
  /** The owner had no link to the image: nothing changed. */
  | { outcome: 'not_linked'; imageId: string }
  /** The owner's link is gone; other owners still hold the image. */
  | { outcome: 'unlinked'; imageId: string }
  /** That was the last link: the image, its objects and its record are gone. */
  | { outcome: 'purged'; imageId: string; objects: number };

/**
 * Removes an owner's image: their link always, and everything else with the last link. Only the
 * owner's own link is ever consulted, so one owner's delete cannot touch another's library.
 */
export async function deleteImage(
  deps: DeleteImageDependencies,
  owner: string,
  imageId: string,
): Promise<DeleteImageOutcome> {
  const at = deps.now();
  const image = await deps.catalog.getImage(imageId);
  const unlinked = await deps.catalog.unlinkImage(owner, imageId, at);
  if (unlinked === 'not_linked') return { outcome: unlinked, imageId };
  if (image) await unindexLink(deps, owner, imageId, image);
  if (unlinked === 'unlinked') return { outcome: unlinked, imageId };
  return { outcome: 'purged', imageId, objects: await purgeImage(deps, imageId, at) };
}

/**
 * Removes an image marked for deletion (`deletingSince`): its objects, then the CDN's copies, then
 * the record. The record goes last because it is what holds back a new upload of the same bytes; if
 * any step fails, the mark stays and doing this again finishes the job.
 */
export async function purgeImage(
  deps: Omit<DeleteImageDependencies, 'now' | 'ownerIndex' | 'vectors'>,
  imageId: string,
  deletingSince: Date,
): Promise<number> {
  const objects = await deps.objects.deleteAll(imageId);
  await deps.cdn?.forgetImage(imageId, deletingSince.toISOString());
  await deps.catalog.deleteImageRecord(imageId);
  return objects;
}
