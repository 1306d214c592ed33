import { z } from 'zod';
import { linkView } from '../../core/image-views.js';
import { collectionSchema } from '../../core/uploads.js';
import type { RequestPathCatalog } from '../../ports/catalog.js';
import { type HttpResult, json, pageLimitSchema, parseQueryString } from '../http.js';

export interface ListImagesDependencies {
  catalog: RequestPathCatalog;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

/** The query string. Unknown parameters are refused so a misspelt filter never lists everything. */
export const listQuerySchema = z.strictObject({
  collection: collectionSchema.describe('Only the images filed under this collection.').optional(),
  cursor: z.string().min(1).max(2048).describe("The previous page's `cursor`.").optional(),
  limit: pageLimitSchema(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
});

/**
 * `GET /v1/images?collection=&cursor=&limit=`: the caller's own links, one page at a time. The catalog
 * checks that a cursor stays inside the caller's own partition, so a cursor replayed by someone else
 * is refused, not followed.
 */
export async function listImages(
  deps: ListImagesDependencies,
  owner: string,
  query: Record<string, string | undefined> | undefined,
): Promise<{ result: HttpResult }> {
  const { collection, cursor, limit } = parseQueryString(listQuerySchema, query);
  const page = await deps.catalog.listLinks(owner, {
    limit,
    ...(collection ? { collection } : {}),
    ...(cursor ? { cursor } : {}),
  });
  return {
    result: json(200, {
      items: page.items.map(linkView),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    }),
  };
}
