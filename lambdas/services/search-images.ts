import { searchWords } from '../core/enrichment.js';
import { DependencyRefusedError, ValidationError } from '../core/errors.js';
import { indexTerm, indexTerms } from '../core/index-terms.js';
import type { PaletteColour } from '../core/palette.js';
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
 * Index entries one request checks at most (a read or two each), or index lookups a search of several
 * terms makes: a search whose criteria few images meet answers a short page, even an empty one, with a
 * cursor, rather than reading on for as long as it takes.
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
  const found =
    criteria.terms.length > 1
      ? await joinEntries(deps, owner, criteria, query)
      : await walkEntries(deps, owner, criteria, query);
  return { ...found, semantic };
}

/** What a hit must meet: every term among the image's own, and the collection on the caller's link. */
interface Criteria {
  terms: readonly string[];
  collection: string | undefined;
}

/**
 * Pages through the owner's entries for the first term, each page as many entries as hits are still
 * wanted (so a page is used whole, and its cursor is where the next request starts), until `limit`
 * hits, the end of the entries, or `MAX_CANDIDATES_PER_SEARCH`.
 */
async function walkEntries(
  deps: SearchDependencies,
  owner: string,
  criteria: Criteria,
  query: SearchQuery,
): Promise<Omit<SearchResult, 'semantic'>> {
  const [walked] = criteria.terms;
  if (walked === undefined) throw new ValidationError('search by tag, q or colour', 'query');
  let indexCursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, walked);
  const hits: SearchHit[] = [];
  let checked = 0;
  do {
    const page = await deps.ownerIndex.query(owner, walked, {
      limit: Math.min(query.limit - hits.length, MAX_CANDIDATES_PER_SEARCH - checked),
      ...(indexCursor === undefined ? {} : { cursor: indexCursor }),
    });
    hits.push(...(await ownHits(deps, owner, page.items, criteria)));
    checked += page.items.length;
    indexCursor = page.items.length > 0 ? page.cursor : undefined;
  } while (indexCursor !== undefined && hits.length < query.limit && checked < MAX_CANDIDATES_PER_SEARCH);
  return { hits, ...(indexCursor === undefined ? {} : { cursor: encodeCursor(walked, indexCursor) }) };
}

/**
 * Several terms: a leapfrog join of their entry lists, each sorted by image hash. The first term's
 * next image is the candidate; each other term is asked for its first image at or after it, and one
 * that holds a later image first moves the candidate there. So a common tag beside a rare one costs a
 * few lookups per image they share, never a read of every image with the common tag. Counted in
 * lookups against `MAX_CANDIDATES_PER_SEARCH`; the cursor is the last image passed over, which every
 * term lacked or which was answered already.
 */
async function joinEntries(
  deps: SearchDependencies,
  owner: string,
  criteria: Criteria,
  query: SearchQuery,
): Promise<Omit<SearchResult, 'semantic'>> {
  const [walked = '', ...others] = criteria.terms;
  let passed = query.cursor === undefined ? undefined : decodeCursor(query.cursor, walked);
  let lookups = 0;
  const after = async (hash: string | undefined) => {
    lookups += 1;
    const page = await deps.ownerIndex.query(owner, walked, { limit: 1, ...(hash ? { cursor: hash } : {}) });
    return page.items[0];
  };
  /** The candidate when every other term holds it; else the first image one holds after it, or `end`. */
  const agreed = async (candidate: string): Promise<string | 'end'> => {
    for (const term of others) {
      lookups += 1;
      const next = await deps.ownerIndex.seek(owner, term, candidate);
      if (next === undefined) return 'end';
      if (next !== candidate) return next;
    }
    return candidate;
  };

  const hits: SearchHit[] = [];
  let candidate = await after(passed);
  while (candidate !== undefined && hits.length < query.limit && lookups < MAX_CANDIDATES_PER_SEARCH) {
    const next = await agreed(candidate);
    if (next === 'end') return { hits };
    if (next === candidate) {
      hits.push(...(await ownHits(deps, owner, [candidate], criteria)));
      passed = candidate;
      candidate = await after(candidate);
    } else {
      passed = candidate;
      lookups += 1;
      candidate = await deps.ownerIndex.seek(owner, walked, next);
    }
  }
  return candidate === undefined || passed === undefined
    ? { hits }
    : { hits, cursor: encodeCursor(walked, passed) };
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
  const vector = await embedQuery(search.embedder, text);
  const matches = await search.vectorIndex.query(vector, {
    topK: MAX_VECTOR_QUERY_TOP_K,
    filter: { owner },
  });
  const ranked = [
    ...new Set(matches.filter((match) => match.metadata.owner === owner).map((m) => m.metadata.imageId)),
  ];
  const hits: SearchHit[] = [];
  for (let next = 0; next < ranked.length && hits.length < query.limit; ) {
    const candidates = ranked.slice(next, next + query.limit - hits.length);
    next += candidates.length;
    hits.push(...(await ownHits(deps, owner, candidates, criteria)));
  }
  return hits;
}

/**
 * The query's embedding. A model that will not take this text (too long in tokens, which 500
 * characters of some scripts are) refuses the caller's input: a 400 naming `q`, not a failure of ours.
 */
async function embedQuery(embedder: Embedder, text: string): Promise<Float32Array> {
  try {
    return await embedder.embedText(text);
  } catch (error) {
    if (error instanceof DependencyRefusedError && error.reason !== 'request_refused')
      throw new ValidationError(`q was refused by the text model: ${error.message}`, 'q');
    throw error;
  }
}

/** Reads the candidates (concurrently); keeps, in order, those the owner links that meet every criterion. */
async function ownHits(
  deps: SearchDependencies,
  owner: string,
  imageIds: readonly string[],
  criteria: Criteria,
): Promise<SearchHit[]> {
  const found = await Promise.all(imageIds.map((imageId) => ownImage(deps, owner, imageId)));
  return found.filter((hit): hit is SearchHit => hit !== undefined && meets(hit, criteria));
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
 * The cursor names the term walked and carries the owner index's own cursor, which the index checks
 * (the partition is the caller's, from the owner and the term alone), so a forged cursor neither
 * reaches another owner's entries nor DynamoDB malformed.
 */
function encodeCursor(term: string, index: string): string {
  return Buffer.from(JSON.stringify({ term, index })).toString('base64url');
}

function decodeCursor(cursor: string, term: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const { term: walked, index, ...rest } = (decoded ?? {}) as Record<string, unknown>;
  if (walked !== term || typeof index !== 'string' || Object.keys(rest).length > 0) throw invalidCursor();
  return index;
}

function invalidCursor(): ValidationError {
  return new ValidationError('the cursor is not one this API issued', 'cursor');
}
