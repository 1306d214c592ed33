import type { Page } from './catalog.js';

/**
 * Lookups filed per owner: for every owner who links an image, one entry per term derived from the
 * image (a tag, a caption word, a colour, a near-duplicate hash band; `lambdas/core/index-terms.ts`).
 * A lookup reads one owner's entries for one term, so it cannot reach another owner's images.
 *
 * Entries are derived data, written after the facts they come from: a lookup still checks each hit
 * against the owner's link, so an entry left behind by a race (a delete while enrichment wrote) shows
 * nothing.
 */
export interface OwnerIndex {
  /** Files the image under each term for the owner; writing an entry again is harmless. */
  put(owner: string, imageId: string, terms: readonly string[]): Promise<void>;
  /** Removes the owner's entries of the image under these terms; entries already gone are fine. */
  remove(owner: string, imageId: string, terms: readonly string[]): Promise<void>;
  /** The owner's images filed under the term, in the order of their hashes, a page at a time. */
  query(owner: string, term: string, options: { cursor?: string; limit: number }): Promise<Page<string>>;
  /** The owner's first image filed under the term whose hash is `from` or after it: a skip ahead. */
  seek(owner: string, term: string, from: string): Promise<string | undefined>;
}
