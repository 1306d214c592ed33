import { describe, expect, it } from 'vitest';
import type { InputFormat } from '../../../lambdas/core/formats.js';
import {
  hasVariantPage,
  MAX_RENDERED_PAGES,
  type PagedImage,
  renderedPageCount,
} from '../../../lambdas/core/render/pages.js';

const image = (format: InputFormat, pages: number): PagedImage => ({ format, pages });
const inside = { fit: 'inside' } as const;
const cover = { fit: 'cover' } as const;

describe('rendered pages', () => {
  it.each([
    ['a photo', image('jpeg', 1), 0],
    ['a one-page TIFF', image('tiff', 1), 0],
    ['a three-page TIFF', image('tiff', 3), 3],
    ['a TIFF at the limit', image('tiff', MAX_RENDERED_PAGES), MAX_RENDERED_PAGES],
    ['a 500-page fax', image('tiff', 500), MAX_RENDERED_PAGES],
    ['an animated GIF (frames, not pages)', image('gif', 40), 0],
    ['an animated WebP', image('webp', 40), 0],
    ['an AVIF with alternatives', image('avif', 2), 0],
  ])('%s: %i pages of their own', (_, paged, expected) => {
    expect(renderedPageCount(paged)).toBe(expected);
  });
});

describe('whether an image has a derivative at a page', () => {
  it.each([
    // Anything but a multi-page TIFF has one derivative per variant, without a page.
    ['a photo, no page', image('jpeg', 1), inside, undefined, true],
    ['a photo, page 1', image('jpeg', 1), inside, 1, false],
    ['a photo, page 999', image('jpeg', 1), inside, 999, false],
    ['a photo thumbnail, page 1', image('jpeg', 1), cover, 1, false],
    ['a one-page TIFF, page 1', image('tiff', 1), inside, 1, false],
    ['an animation, frame 2 as a page', image('gif', 40), inside, 2, false],
    ['an animation, no page', image('gif', 40), inside, undefined, true],
    // A document's inside variants are per page, up to the rendered limit.
    ['a document, page 1', image('tiff', 3), inside, 1, true],
    ['a document, its last page', image('tiff', 3), inside, 3, true],
    ['a document, past its last page', image('tiff', 3), inside, 4, false],
    ['a document, no page', image('tiff', 3), inside, undefined, false],
    ['a document, page 0', image('tiff', 3), inside, 0, false],
    ['a document, page 1.5', image('tiff', 3), inside, 1.5, false],
    ['a long document, the last rendered page', image('tiff', 500), inside, MAX_RENDERED_PAGES, true],
    ['a long document, past the rendered pages', image('tiff', 500), inside, MAX_RENDERED_PAGES + 1, false],
    // A document's thumbnail stands for the whole: no page.
    ['a document thumbnail, no page', image('tiff', 3), cover, undefined, true],
    ['a document thumbnail, page 1', image('tiff', 3), cover, 1, false],
  ] as const)('%s: %s', (_, paged, variant, page, expected) => {
    expect(hasVariantPage(paged, variant, page)).toBe(expected);
  });
});
