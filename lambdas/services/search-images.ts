import type { PaletteColour } from '../core/enrichment.js';
import { searchWords } from '../core/enrichment.js';
import { ValidationError } from '../core/errors.js';
import { indexTerm, indexTerms } from '../core/index-terms.js';
import { isSha256Hex } from '../core/keys.js';
import type { ImageLink, ImageRecord, RequestPathCatalog } from '../ports/catalog.js';
import { type Embedder, MAX_VECTOR_QUERY_TOP_K, type VectorIndex } from '../ports/enrichment.js';
import type { OwnerIndex } from '../ports/owner-index.js';

/** Ranking `q` by meaning: an embedder whose text and images share a space, and their vectors. */
export interface SemanticSearch {
  embedder: Embedder;
  vectorIndex: VectorIndex;
}

export interface SearchDependencies {
  catalog: RequestPathCatalog;
  ownerIndex: OwnerIndex;
  /** Absent, or with an embedder that is not `semantic`, `q` matches words. */
  search?: SemanticSearch | undefined;
}

export interface SearchQuery {
  /** Normalised tag names: an image must have every one. */
  tags: readonly string[];
  /** `q` as the caller wrote it: its words must all match, or it ranks by meaning. */
  text?: string | undefined;
  colour?: PaletteColour | undefined;
  /** Only the caller's images in this collection. */
  collection?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface SearchHit {
  image: ImageRecord;
  link: ImageLink;
}

export interface SearchResult {
  hits: SearchHit[];
  /** More entries remain: pass it back for the next page. Never with a semantic `q`. */
  cursor?: string | undefined;
  /** `q` ranks by meaning in this deployment, not by words. */
  semantic: boolean;
}

/**
 * Index entries one request checks at most (two reads each): a search whose criteria few images meet
 * answers a short page, even an empty one, with a cursor, rather than reading on for as long as it takes.
 */
export const MAX_CANDIDATES_PER_SEARCH = 100;

/**
 * The caller's images that meet every criterion. Word, tag and colour search walks the caller's
 * entries for one term (`OwnerIndex`) and checks each hit against the caller's link and the image's
 * own terms, so an entry another owner's link filed, or one left behind by a delete, shows nothing.
 * A semantic `q` takes the nearest of the caller's vectors instead and filters them the same way.
 */
export async function searchImages(
  deps: SearchDependencies,
  owner: string,
  query: SearchQuery,
): Promise<SearchResult> {
  const semantic = deps.search?.embedder.semantic === true;
  const tags = query.tags.map(indexTerm.tag);
  const colour = query.colour ? [indexTerm.colour(query.colour)] : [];
  if (deps.search && semantic && query.text !== undefined) {
    const criteria = { terms: [...tags, ...colour], collection: query.collection };
    return { hits: await rankByMeaning(deps, deps.search, owner, query.text, criteria, query), semantic };
  }
  // Walked by a tag, else a word, else the colour: a palette colour is shared by many images.
  const criteria = {
    terms: [...tags, ...wordsOf(query.text).map(indexTerm.word), ...colour],
    collection: query.collection,
  };
  return { ...(await walkEntries(deps, owner, criteria, query)), semantic };
}

/** What a hit must meet: every term among the image's own, and the collection on the caller's link. */
interface Criteria {
  terms: readonly string[];
  collection: string | undefined;
}

/**
 * Pages through the owner's entries for the first term, checking up to `limit` entries at a time,
 * until `limit` hits, the end of the entries, or `MAX_CANDIDATES_PER_SEARCH`.
 */
async function walkEntries(
  deps: SearchDependencies,
  owner: string,
  criteria: Criteria,
  query: SearchQuery,
): Promise<Omit<SearchResult, 'semantic'>> {
  const [walked] = criteria.terms;
  if (walked === undefined) throw new ValidationError('search by tag, q or colour', 'query');
  let after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, walked);
  const hits: SearchHit[] = [];
  let checked = 0;
  let more = true;
  while (more && hits.length < query.limit && checked < MAX_CANDIDATES_PER_SEARCH) {
    const page = await deps.ownerIndex.query(owner, walked, {
      limit: Math.min(query.limit, MAX_CANDIDATES_PER_SEARCH - checked),
      ...(after === undefined ? {} : { cursor: after }),
    });
    const found = await firstHits(deps, owner, page.items, query.limit - hits.length, criteria);
    hits.push(...found.hits);
    checked += found.used;
    after = page.items[found.used - 1] ?? after;
    more = found.used < page.items.length || (page.cursor !== undefined && page.items.length > 0);
  }
  return { hits, ...(more && after !== undefined ? { cursor: encodeCursor(walked, after) } : {}) };
}

/**
 * The caller's nearest images to the text, nearest first: at most `MAX_VECTOR_QUERY_TOP_K` are
 * considered, so this is one page, without a cursor.
 */
async function rankByMeaning(
  deps: SearchDependencies,
  search: SemanticSearch,
  owner: string,
  text: string,
  criteria: Criteria,
  query: SearchQuery,
): Promise<SearchHit[]> {
  if (query.cursor !== undefined) throw invalidCursor();
  const vector = await search.embedder.embedText(text);
  const matches = await search.vectorIndex.query(vector, {
    topK: MAX_VECTOR_QUERY_TOP_K,
    filter: { owner },
  });
  const ranked = [
    ...new Set(matches.filter((match) => match.metadata.owner === owner).map((m) => m.metadata.imageId)),
  ];
  const hits: SearchHit[] = [];
  for (let start = 0; start < ranked.length && hits.length < query.limit; start += query.limit) {
    const candidates = ranked.slice(start, start + query.limit);
    hits.push(...(await firstHits(deps, owner, candidates, query.limit - hits.length, criteria)).hits);
  }
  return hits;
}

/**
 * Reads the candidates (concurrently) and keeps, in order, those the owner links that meet every
 * criterion, up to `wanted`: those hits, and how many candidates it took to find them.
 */
async function firstHits(
  deps: SearchDependencies,
  owner: string,
  imageIds: readonly string[],
  wanted: number,
  criteria: Criteria,
): Promise<{ hits: SearchHit[]; used: number }> {
  const found = await Promise.all(imageIds.map((imageId) => ownImage(deps, owner, imageId)));
  const hits: SearchHit[] = [];
  let used = 0;
  for (const hit of found) {
    if (hits.length === wanted) break;
    used++;
    if (hit && meets(hit, criteria)) hits.push(hit);
  }
  return { hits, used };
}

/** The image through the owner's own link; without one (a stale entry), nothing, and the record unread. */
async function ownImage(
  deps: SearchDependencies,
  owner: string,
  imageId: string,
): Promise<SearchHit | undefined> {
  const link = await deps.catalog.findLink(owner, imageId);
  if (!link) return undefined;
  const image = await deps.catalog.getImage(imageId);
  return image && !image.deletingSince ? { image, link } : undefined;
}

/** Checked on the record, not the entries: an entry only says what the image was filed under once. */
function meets(hit: SearchHit, criteria: Criteria): boolean {
  if (criteria.collection !== undefined && hit.link.collection !== criteria.collection) return false;
  const filed = new Set(indexTerms(hit.image));
  return criteria.terms.every((term) => filed.has(term));
}

function wordsOf(text: string | undefined): string[] {
  if (text === undefined) return [];
  const words = searchWords(text);
  if (words.length === 0) throw new ValidationError('q has no words to search by', 'q');
  return words;
}

/**
 * The cursor names the term walked and the last entry checked. Only the entry's position is taken
 * from it (the partition is the caller's own, from the owner and the term), and it must be a hash, so
 * a forged cursor neither reaches another owner's entries nor DynamoDB malformed.
 */
function encodeCursor(term: string, after: string): string {
  return Buffer.from(JSON.stringify({ term, after })).toString('base64url');
}

function decodeCursor(cursor: string, term: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const { term: walked, after, ...rest } = (decoded ?? {}) as Record<string, unknown>;
  if (walked !== term || typeof after !== 'string' || !isSha256Hex(after) || Object.keys(rest).length > 0)
    throw invalidCursor();
  return after;
}

function invalidCursor(): ValidationError {
  return new ValidationError('the cursor is not one this API issued', 'cursor');
}
