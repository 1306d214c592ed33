import type { InputFormat } from '../formats.js';
import type { VariantSpec } from '../variants.js';

/**
 * Which pages of an image are rendered as pages of their own. Free of sharp, so that the API (image
 * views) and the on-demand renderer's key check decide from the catalog record exactly what the
 * render does with the bytes.
 */

/**
 * Pages of a multi-page TIFF rendered at most. Each page costs a decode and every `inside` variant
 * in every format (a few seconds at AVIF's effort 4), so a 500-page fax stops here rather than at
 * the function's timeout; the rest of the document stays in the original.
 */
export const MAX_RENDERED_PAGES = 100;

/** What decides an image's pages: the facts ingest stored, or the original's own header. */
export interface PagedImage {
  format: InputFormat;
  pages: number;
}

/**
 * How many pages of the image are rendered one by one: a multi-page TIFF's, up to
 * `MAX_RENDERED_PAGES`; 0 for anything else (an animation's frames are not pages, nor are the
 * alternatives of other containers).
 */
export function renderedPageCount(image: PagedImage): number {
  return image.format === 'tiff' && image.pages > 1 ? Math.min(image.pages, MAX_RENDERED_PAGES) : 0;
}

/** A document's `inside` variants are rendered per page; its thumbnails (`cover`) stand for the whole. */
export function rendersPerPage(variant: Pick<VariantSpec, 'fit'>): boolean {
  return variant.fit === 'inside';
}

/**
 * Whether the image has a derivative of `variant` at `page` (undefined: the key names no page). A
 * variant rendered per page has pages 1 to the rendered count and nothing without a page; any other
 * has only its one page-less derivative. Both inputs are fixed for a key (the image by its hash, the
 * variant's fit by the key's revision), so a no stays a no.
 */
export function hasVariantPage(
  image: PagedImage,
  variant: Pick<VariantSpec, 'fit'>,
  page: number | undefined,
): boolean {
  const pages = rendersPerPage(variant) ? renderedPageCount(image) : 0;
  return page === undefined ? pages === 0 : Number.isInteger(page) && page >= 1 && page <= pages;
}
