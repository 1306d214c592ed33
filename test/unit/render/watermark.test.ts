import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Frames } from '../../../lambdas/core/render/frames.js';
import { type RenderedObject, renderVariants } from '../../../lambdas/core/render/render-variants.js';
import { applyWatermark } from '../../../lambdas/core/render/watermark.js';
import { parseSettings } from '../../../lambdas/core/settings.js';
import {
  APERTURE_MARK_SVG,
  encodingRevision,
  type VariantSpec,
  variantSetVersion,
  variantSpecSchema,
  watermarkedPreview,
} from '../../../lambdas/core/variants.js';
import { channelDelta, decode, pixelAt, type RawImage, solid } from '../../support/pixels.js';

const LIMIT = { maxInputPixels: 100_000_000 };
const GREY = '#808080';
const GREY_VALUE = 128;

const plain = (name: string, width: number): VariantSpec => ({
  name,
  fit: 'inside',
  width,
  height: width,
  formats: [{ format: 'webp', quality: 100 }],
});

const find = (objects: readonly RenderedObject[], name: string, format = 'webp') => {
  const object = objects.find((o) => o.variant === name && o.format === format);
  if (!object) throw new Error(`no ${name}.${format} among the outputs`);
  return object;
};

/** How far each pixel of one quarter of the picture is from mid grey, at most and on how many pixels. */
function departures(image: RawImage, quarter: 0 | 1 | 2 | 3) {
  const halfW = Math.floor(image.width / 2);
  const halfH = Math.floor(image.height / 2);
  const [x0, y0] = [(quarter % 2) * halfW, Math.floor(quarter / 2) * halfH];
  let marked = 0;
  let largest = 0;
  for (let y = y0; y < y0 + halfH; y++) {
    for (let x = x0; x < x0 + halfW; x++) {
      const delta = channelDelta(pixelAt(image, x, y).slice(0, 3), [GREY_VALUE, GREY_VALUE, GREY_VALUE]);
      if (delta > 8) marked++;
      largest = Math.max(largest, delta);
    }
  }
  return { share: marked / (halfW * halfH), largest };
}

describe('the watermarked preview', () => {
  it('is off by default', () => {
    expect(parseSettings().variants.some((v) => v.watermark)).toBe(false);
  });

  it('tiles a semi-transparent mark over the whole preview, light and dark parts alike', async () => {
    const original = await solid(2400, 1600, GREY).jpeg({ quality: 95 }).toBuffer();
    const preview = watermarkedPreview({ opacity: 0.3 });
    const { objects } = await renderVariants(original, [plain('large', 1920), preview], LIMIT);

    const marked = await decode(find(objects, 'preview').bytes);
    expect([marked.width, marked.height]).toEqual([1200, 800]);
    for (const quarter of [0, 1, 2, 3] as const) {
      expect(departures(marked, quarter).share, `quarter ${quarter} carries marks`).toBeGreaterThan(0.03);
    }
  });

  it('lets the picture show through the mark, lighter and darker by the opacity at most', async () => {
    const grey: Frames = {
      data: Buffer.alloc(600 * 400 * 3, GREY_VALUE),
      width: 600,
      height: 400,
      channels: 3,
      frames: 1,
    };
    const marked = await applyWatermark(grey, { svg: APERTURE_MARK_SVG, opacity: 0.3 });
    expect(marked.channels).toBe(3);
    // 30% of white over mid grey gives 128 + 0.3 x 127, of black 128 - 0.3 x 128 (to 8-bit rounding).
    const lightest = marked.data.reduce((a, b) => Math.max(a, b));
    const darkest = marked.data.reduce((a, b) => Math.min(a, b));
    expect(Math.abs(lightest - (GREY_VALUE + 0.3 * 127))).toBeLessThanOrEqual(1);
    expect(Math.abs(darkest - (GREY_VALUE - 0.3 * 128))).toBeLessThanOrEqual(1);
  });

  it('marks no other variant, even those resized after it', async () => {
    const original = await solid(2400, 1600, GREY).jpeg({ quality: 95 }).toBuffer();
    const { objects } = await renderVariants(
      original,
      [plain('large', 1920), watermarkedPreview(), plain('small', 640)],
      LIMIT,
    );
    for (const name of ['large', 'small']) {
      const image = await decode(find(objects, name).bytes);
      for (const quarter of [0, 1, 2, 3] as const) expect(departures(image, quarter).share).toBe(0);
    }
  });

  it('is rendered for an original smaller than every box, beside the unmarked variant of that size', async () => {
    const original = await solid(500, 300, GREY).png().toBuffer();
    const { objects, skipped } = await renderVariants(
      original,
      [plain('small', 640), plain('large', 1920), watermarkedPreview()],
      LIMIT,
    );
    expect(skipped.map((s) => s.variant)).toEqual(['large']);
    expect(find(objects, 'preview')).toMatchObject({ width: 500, height: 300 });
    expect(find(objects, 'small')).toMatchObject({ width: 500, height: 300 });
    expect(find(objects, 'preview').bytes.equals(find(objects, 'small').bytes)).toBe(false);
  });

  it('is a still of an animation, and keeps transparency in WebP only', async () => {
    const frames = await Promise.all(
      ['#ff000080', '#0000ff80'].map((colour) => solid(400, 300, colour).png().toBuffer()),
    );
    const original = await sharp(frames, { join: { animated: true } })
      .webp({ delay: [100, 100], lossless: true })
      .toBuffer();
    const { objects } = await renderVariants(original, [plain('small', 640), watermarkedPreview()], LIMIT);

    expect((await sharp(find(objects, 'small').bytes, { animated: true }).metadata()).pages).toBe(2);
    const webp = await sharp(find(objects, 'preview').bytes, { animated: true }).metadata();
    expect([webp.pages ?? 1, webp.hasAlpha]).toEqual([1, true]);
    expect((await sharp(find(objects, 'preview', 'jpeg').bytes).metadata()).hasAlpha).toBe(false);
  });

  it('adds no alpha channel to an opaque picture', async () => {
    const original = await solid(800, 600, GREY).jpeg().toBuffer();
    const { objects } = await renderVariants(original, [watermarkedPreview()], LIMIT);
    expect((await sharp(find(objects, 'preview').bytes).metadata()).hasAlpha).toBe(false);
  });
});

describe('a watermark in the settings', () => {
  const withMark = (watermark: unknown) =>
    variantSpecSchema.safeParse({ ...plain('preview', 1200), watermark }).success;

  it('takes SVG shapes and an opacity', () => {
    expect(withMark({})).toBe(true);
    expect(withMark({ svg: '<svg viewBox="0 0 10 10"><rect width="10" height="10"/></svg>' })).toBe(true);
    expect(withMark({ svg: '<?xml version="1.0"?>\n<svg><use href="#a"/></svg>', opacity: 1 })).toBe(true);
  });

  it.each([
    ['text, which needs fonts Lambda lacks', { svg: '<svg><text>Proof</text></svg>' }],
    ['an embedded image', { svg: '<svg><image href="https://example.com/a.png"/></svg>' }],
    ['an external reference', { svg: '<svg><use xlink:href="file:///etc/passwd"/></svg>' }],
    ['a script', { svg: '<svg><script>alert(1)</script></svg>' }],
    ['something other than SVG', { svg: '<html><svg></svg></html>' }],
    ['a mark too large for the environment', { svg: `<svg>${'<g/>'.repeat(600)}</svg>` }],
    ['an invisible mark', { opacity: 0 }],
  ])('refuses %s', (_, watermark) => {
    expect(withMark(watermark)).toBe(false);
  });

  it('changes the keys and version of the marked variant only', () => {
    const unmarked = plain('preview', 1200);
    const marked = {
      ...unmarked,
      watermark: { svg: watermarkedPreview().watermark?.svg ?? '', opacity: 0.3 },
    };
    const fainter = { ...marked, watermark: { ...marked.watermark, opacity: 0.2 } };
    const revisions = [unmarked, marked, fainter].map((v) => encodingRevision(v, 'webp'));
    expect(new Set(revisions).size).toBe(3);
    expect(variantSetVersion([unmarked])).not.toBe(variantSetVersion([marked]));
    expect(encodingRevision({ ...unmarked, watermark: undefined }, 'webp')).toBe(revisions[0]);
  });
});
