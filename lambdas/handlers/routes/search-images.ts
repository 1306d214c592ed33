import { z } from 'zod';
import { normaliseTagName } from '../../core/enrichment.js';
import { PALETTE_COLOURS, paletteColourOf } from '../../core/palette.js';
import { collectionSchema } from '../../core/uploads.js';
import { type SearchDependencies, searchImages } from '../../services/search-images.js';
import { type HttpResult, json, pageLimitSchema, parseQueryString } from '../http.js';
import { type GetImageDependencies, ownerImageView } from './get-image.js';

export type SearchImagesRouteDependencies = SearchDependencies & GetImageDependencies;

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 50;
const MAX_TAGS = 10;
const MAX_TAG_LENGTH = 100;
const MAX_QUERY_LENGTH = 500;

/** `tag=a,b` (API Gateway also joins `tag=a&tag=b` so): each tag named as stored tags are. */
const tagsSchema = z
  .string()
  .transform((text) => text.split(',').map(normaliseTagName))
  .pipe(
    z
      .array(z.string().min(1, 'a tag may not be empty').max(MAX_TAG_LENGTH))
      .max(MAX_TAGS, `at most ${MAX_TAGS} tags`),
  );

const colourSchema = z.string().transform((text, context) => {
  const colour = paletteColourOf(text);
  if (!colour) {
    context.addIssue({
      code: 'custom',
      message: `a colour name (${PALETTE_COLOURS.join(', ')}) or #rrggbb`,
    });
    return z.NEVER;
  }
  return colour;
});

/** The query string. Unknown parameters are refused so a misspelt filter never widens a search. */
export const searchQuerySchema = z
  .strictObject({
    tag: tagsSchema
      .describe(`Tags, comma-separated (at most ${MAX_TAGS}); the image has every one.`)
      .optional(),
    q: z
      .string()
      .trim()
      .min(1)
      .max(MAX_QUERY_LENGTH)
      .describe('Words, ranked by meaning where the deployment searches semantically (`semantic` says).')
      .optional(),
    colour: colourSchema
      .describe('A palette colour name or `#rrggbb`: one of the dominant colours.')
      .optional(),
    collection: collectionSchema.describe('Only the images filed under this collection.').optional(),
    cursor: z.string().min(1).max(2048).describe("The previous page's `cursor`.").optional(),
    limit: pageLimitSchema(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
  })
  .refine((query) => query.tag || query.q || query.colour, 'search by tag, q or colour (one at least)');

/**
 * `GET /v1/search?tag=&q=&colour=&collection=&cursor=&limit=`: the caller's own images that meet every
 * criterion, as `GET /v1/images/{imageId}` shows them, and whether `q` was read for its meaning.
 */
export async function searchImagesRoute(
  deps: SearchImagesRouteDependencies,
  owner: string,
  query: Record<string, string | undefined> | undefined,
): Promise<{ result: HttpResult }> {
  const { tag, q, colour, collection, cursor, limit } = parseQueryString(searchQuerySchema, query);
  const found = await searchImages(deps, owner, {
    tags: tag ?? [],
    text: q,
    colour,
    collection,
    cursor,
    limit,
  });
  const items = await Promise.all(found.hits.map(({ image, link }) => ownerImageView(deps, image, link)));
  return {
    result: json(200, { items, ...(found.cursor ? { cursor: found.cursor } : {}), semantic: found.semantic }),
  };
}
