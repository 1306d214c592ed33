import { type IndexedImage, indexTerms, vectorKey } from '../core/index-terms.js';
import type { ImageLink, RequestPathCatalog } from '../ports/catalog.js';
import type { VectorIndex } from '../ports/enrichment.js';
import type { ImageEmbeddings } from '../ports/image-embeddings.js';
import type { OwnerIndex } from '../ports/owner-index.js';

export interface OwnerIndexDependencies {
  catalog: Pick<RequestPathCatalog, 'getImage' | 'listHolders'>;
  ownerIndex: OwnerIndex;
  /** Where embeddings are filed per owner; absent where embeddings are off. */
  vectors?: VectorFiling | undefined;
}

export interface VectorFiling {
  index: VectorIndex;
  embeddings: ImageEmbeddings;
}

/*
 * Two writers race: one records derived data on an image (enrichment, a fingerprint) and must file
 * it for every owner; an ingest links a new owner and must file what is already derived. Each writes
 * its fact first and then reads the other's (strongly consistent): the image before its holders, the
 * link before the image. Whichever reads second sees the other's write, so no owner goes unfiled;
 * both may file the same entries, which is harmless. What a race can leave behind (an owner's entry
 * filed just after the link went) is hidden by the lookups, which check each hit's link.
 */

/**
 * Files an image's entries for every owner after its derived data changed from `before` to `after`
 * (already written): terms it no longer has are removed, the rest written. Returns the owners' links
 * it filed for.
 */
export async function reindexImage(
  deps: OwnerIndexDependencies,
  imageId: string,
  before: IndexedImage | undefined,
  after: IndexedImage,
): Promise<ImageLink[]> {
  const terms = indexTerms(after);
  const current = new Set(terms);
  const dropped = before ? indexTerms(before).filter((term) => !current.has(term)) : [];
  const holders = await deps.catalog.listHolders(imageId);
  for (const { owner } of holders) {
    if (dropped.length > 0) await deps.ownerIndex.remove(owner, imageId, dropped);
    if (terms.length > 0) await deps.ownerIndex.put(owner, imageId, terms);
  }
  await fileVectors(
    deps,
    imageId,
    after,
    holders.map((holder) => holder.owner),
  );
  return holders;
}

/** Files an existing image's entries for an owner who has just linked it (the link already written). */
export async function indexNewLink(deps: OwnerIndexDependencies, link: ImageLink): Promise<void> {
  const image = await deps.catalog.getImage(link.imageId);
  if (!image) return;
  const terms = indexTerms(image);
  if (terms.length > 0) await deps.ownerIndex.put(link.owner, link.imageId, terms);
  await fileVectors(deps, link.imageId, image, [link.owner]);
}

/** Removes an owner's entries of an image whose link has just gone; `image` as it was read before. */
export async function unindexLink(
  deps: Pick<OwnerIndexDependencies, 'ownerIndex' | 'vectors'>,
  owner: string,
  imageId: string,
  image: IndexedImage,
): Promise<void> {
  const terms = indexTerms(image);
  if (terms.length > 0) await deps.ownerIndex.remove(owner, imageId, terms);
  if (deps.vectors && image.enrichment?.embedding)
    await deps.vectors.index.delete([vectorKey(owner, imageId)]);
}

/**
 * Files the image's stored embedding for each owner, when it is of the index's model: a vector of
 * another model (enriched before a model change, not yet again) belongs in no index.
 */
async function fileVectors(
  deps: OwnerIndexDependencies,
  imageId: string,
  image: IndexedImage,
  owners: readonly string[],
): Promise<void> {
  if (!deps.vectors || !image.enrichment?.embedding || owners.length === 0) return;
  const { index, embeddings } = deps.vectors;
  const embedding = await embeddings.get(imageId);
  if (embedding?.modelId !== index.modelId || embedding.vector.length !== index.dimensions) return;
  await index.put(
    owners.map((owner) => ({
      key: vectorKey(owner, imageId),
      vector: embedding.vector,
      metadata: { owner, imageId },
    })),
  );
}
