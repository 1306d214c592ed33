/**
 * What the gallery is narrowed to, as the page holds it and as `GET /v1/search` reads it. Pure (no
 * DOM), so the rules are unit-tested in Node.
 */
import type { PaletteColour } from '../lambdas/core/palette.js';
import type { SearchQuery } from '../lib/api-client.js';

export interface SearchFilters {
  /** Free text (`q`): words every result's tags or caption has, or a meaning to rank by. */
  words: string;
  /** Tag names (`tag`): every result has all of them. */
  tags: readonly string[];
  /** A palette colour (`colour`): results have a dominant colour nearest to it. */
  colour?: PaletteColour | undefined;
}

export const NO_FILTERS: SearchFilters = { words: '', tags: [] };

/** Whether there is anything to search by; without, the gallery is the plain listing. */
export const hasFilters = (filters: SearchFilters): boolean =>
  filters.words.trim() !== '' || filters.tags.length > 0 || filters.colour !== undefined;

/**
 * A tag as typed, written as the API writes tag names (lowercase, single spaces), so a typed tag and
 * a clicked one are the same chip.
 */
const tagName = (text: string): string => text.trim().toLowerCase().replace(/\s+/g, ' ');

/** The filters with one more tag; a tag already there, or an empty one, changes nothing. */
export function withTag(filters: SearchFilters, tag: string): SearchFilters {
  const name = tagName(tag);
  if (name === '' || filters.tags.includes(name)) return filters;
  return { ...filters, tags: [...filters.tags, name] };
}

export function withoutTag(filters: SearchFilters, tag: string): SearchFilters {
  return { ...filters, tags: filters.tags.filter((name) => name !== tag) };
}

/** `tag:dog` or `tag:"traffic light"`, anywhere in the box, on a word boundary. */
const TAG_TOKEN = /(^|\s)tag:(?:"([^"]*)"|([^\s"]+))/gi;

/**
 * Reads the search box: each `tag:name` (quoted when the name has spaces) becomes a tag, the rest
 * are the words, their spacing tidied.
 */
export function parseSearchInput(text: string): { words: string; tags: string[] } {
  const tags: string[] = [];
  const rest = text.replace(TAG_TOKEN, (_token, before: string, quoted?: string, bare?: string) => {
    const name = tagName(quoted ?? bare ?? '');
    if (name !== '' && !tags.includes(name)) tags.push(name);
    return before;
  });
  return { words: rest.trim().replace(/\s+/g, ' '), tags };
}

/** `GET /v1/search`'s query: tags as one comma-separated `tag`, the filters not in use left out. */
export function searchQuery(
  filters: SearchFilters,
  page: { cursor?: string | undefined; limit: number },
): SearchQuery {
  const words = filters.words.trim();
  return {
    ...(words ? { q: words } : {}),
    ...(filters.tags.length > 0 ? { tag: filters.tags.join(',') } : {}),
    ...(filters.colour ? { colour: filters.colour } : {}),
    ...(page.cursor ? { cursor: page.cursor } : {}),
    limit: String(page.limit),
  };
}
