import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMAT_NAMES, OUTPUT_FORMATS, type OutputFormat } from '../../../lambdas/core/formats.js';
import { UnrenderableImageError } from '../../../lambdas/core/render/errors.js';
import { MAX_RENDERED_PAGES } from '../../../lambdas/core/render/pages.js';
import { type RenderedObject, renderVariants } from '../../../lambdas/core/render/render-variants.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../../lambdas/core/variants.js';
import { makeDocument, makeImage, makeJpeg } from '../../support/images.js';
import {
  BLUE,
  channelDelta,
  decode,
  decodeFrames,
  fromRaw,
  hexToRgb,
  pixelAt,
  quadrantPicture,
  RED,
  type Rgb,
  solid,
  storedForOrientation,
} from '../../support/pixels.js';

const LIMIT = { maxInputPixels: 100_000_000 };

const variant = (
  name: string,
  fit: VariantSpec['fit'],
  width: number,
  height: number,
  formats: readonly OutputFormat[] = OUTPUT_FORMAT_NAMES,
): VariantSpec => ({
  name,
  fit,
  width,
  height,
  formats: formats.map((format) => ({ format, quality: format === 'avif' ? 60 : 90 })),
});

const find = (objects: readonly RenderedObject[], name: string, format: OutputFormat, page?: number) => {
  const object = objects.find((o) => o.variant === name && o.format === format && o.page === page);
  if (!object) throw new Error(`no ${name}.${format}${page ? ` page ${page}` : ''} among the outputs`);
  return object;
};

/** Colour of the centre of an encoded output. */
async function centre(bytes: Buffer): Promise<number[]> {
  const image = await decode(bytes);
  return pixelAt(image, Math.floor(image.width / 2), Math.floor(image.height / 2));
}

describe('rendering variants', () => {
  describe('orientation', () => {
    // 240x160 upright; the stored file is turned or mirrored so that its EXIF tag turns it back.
    const upright = quadrantPicture(240, 160);
    const variants = [
      variant('small', 'inside', 120, 120, ['jpeg']),
      variant('thumb', 'cover', 60, 60, ['webp']),
    ];

    const expectUpright = async (bytes: Buffer, width: number, height: number) => {
      const image = await decode(bytes);
      expect([image.width, image.height]).toEqual([width, height]);
      const sample = (fx: number, fy: number) =>
        pixelAt(image, Math.floor(width * fx), Math.floor(height * fy)).slice(0, 3);
      expect(channelDelta(sample(0.25, 0.25), RED)).toBeLessThan(40);
      for (const [fx, fy] of [
        [0.75, 0.25],
        [0.25, 0.75],
        [0.75, 0.75],
      ] as const) {
        expect(channelDelta(sample(fx, fy), BLUE)).toBeLessThan(40);
      }
    };

    it.each([1, 2, 3, 4, 5, 6, 7, 8])(
      'shows a JPEG tagged with orientation %i upright',
      async (orientation) => {
        const stored = storedForOrientation(upright, orientation);
        const original = await fromRaw(stored).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
        const { objects } = await renderVariants(original, variants, LIMIT);
        await expectUpright(find(objects, 'small', 'jpeg').bytes, 120, 80);
        const thumb = await decode(find(objects, 'thumb', 'webp').bytes);
        expect([thumb.width, thumb.height]).toEqual([60, 60]);
        // The red quadrant is 45 of the 90 scaled columns: whatever the crop, its left edge stays red.
        expect(channelDelta(pixelAt(thumb, 3, 10).slice(0, 3), RED)).toBeLessThan(40);
        expect(channelDelta(pixelAt(thumb, 3, 50).slice(0, 3), BLUE)).toBeLessThan(40);
      },
    );

    it('applies orientation from PNG and WebP EXIF too', async () => {
      const stored = storedForOrientation(upright, 6);
      for (const format of ['png', 'webp'] as const) {
        const original = await fromRaw(stored).withMetadata({ orientation: 6 }).toFormat(format).toBuffer();
        const { objects } = await renderVariants(original, variants, LIMIT);
        await expectUpright(find(objects, 'small', 'jpeg').bytes, 120, 80);
      }
    });
  });

  describe('colour', () => {
    const variants = [variant('small', 'inside', 32, 32)];

    // Colours well inside a press gamut survive the trip through CMYK and back within a few levels;
    // CMYK numbers read as RGB would be off by a hundred or more.
    it.each([
      ['without a profile', false, '#d2b48c'],
      ['without a profile', false, '#5a6e8c'],
      ['with an embedded CMYK profile', true, '#d2b48c'],
      ['with an embedded CMYK profile', true, '#5a6e8c'],
    ])('turns a CMYK JPEG %s into sRGB (%s)', async (_, embedded, colour) => {
      let image = solid(48, 48, colour).removeAlpha().toColourspace('cmyk');
      if (embedded) image = image.withIccProfile('cmyk');
      const original = await image.jpeg({ quality: 95 }).toBuffer();
      const metadata = await sharp(original).metadata();
      expect([metadata.space, Boolean(metadata.icc)]).toEqual(['cmyk', embedded]);
      const { objects } = await renderVariants(original, variants, LIMIT);
      expect(objects).toHaveLength(3);
      for (const object of objects) {
        const output = await sharp(object.bytes).metadata();
        expect([output.space, output.channels]).toEqual(['srgb', 3]);
        expect(channelDelta(await centre(object.bytes), hexToRgb(colour))).toBeLessThanOrEqual(10);
      }
    });

    it.each([
      ['no profile', undefined],
      ['a Display P3 profile', 'p3'],
    ])('renders a 16-bit PNG with %s as 8-bit sRGB of the same colour', async (_, profile) => {
      const colour = '#c81e3c';
      let image = solid(48, 48, colour).removeAlpha().toColourspace('rgb16');
      if (profile) image = image.withIccProfile(profile);
      const original = await image.png().toBuffer();
      expect((await sharp(original).metadata()).depth).toBe('ushort');
      const { objects } = await renderVariants(original, variants, LIMIT);
      for (const object of objects) {
        const metadata = await sharp(object.bytes).metadata();
        expect([metadata.depth, metadata.space]).toEqual(['uchar', 'srgb']);
        expect(channelDelta(await centre(object.bytes), hexToRgb(colour))).toBeLessThanOrEqual(6);
      }
    });

    it('converts a wide-gamut 8-bit original to sRGB', async () => {
      const colour = '#3c8c50';
      const original = await solid(48, 48, colour).removeAlpha().withIccProfile('p3').png().toBuffer();
      const { objects } = await renderVariants(
        original,
        [variant('small', 'inside', 32, 32, ['jpeg'])],
        LIMIT,
      );
      expect(
        channelDelta(await centre(find(objects, 'small', 'jpeg').bytes), hexToRgb(colour)),
      ).toBeLessThanOrEqual(4);
    });
  });

  describe('alpha', () => {
    // Left half transparent, right half half-transparent red.
    const seeThrough = () =>
      fromRaw({
        data: Buffer.from(
          Array.from({ length: 80 * 40 }, (_, i) => (i % 80 < 40 ? [0, 0, 0, 0] : [255, 0, 0, 128])).flat(),
        ),
        width: 80,
        height: 40,
        channels: 4,
      })
        .png()
        .toBuffer();

    it('keeps alpha in WebP and AVIF and flattens JPEG onto white', async () => {
      const { objects } = await renderVariants(
        await seeThrough(),
        [variant('small', 'inside', 40, 40)],
        LIMIT,
      );
      for (const format of ['webp', 'avif'] as const) {
        const image = await decode(find(objects, 'small', format).bytes);
        expect(image.channels).toBe(4);
        expect(pixelAt(image, 5, 10)[3]).toBeLessThanOrEqual(2);
        expect(channelDelta(pixelAt(image, 35, 10), [255, 0, 0, 128])).toBeLessThanOrEqual(12);
      }
      const jpeg = await decode(find(objects, 'small', 'jpeg').bytes);
      expect(jpeg.channels).toBe(3);
      expect(channelDelta(pixelAt(jpeg, 5, 10), [255, 255, 255])).toBeLessThanOrEqual(4);
      expect(channelDelta(pixelAt(jpeg, 35, 10), [255, 127, 127])).toBeLessThanOrEqual(12);
    });

    it('drops an alpha channel that hides nothing', async () => {
      const original = await solid(40, 40, '#20408080').png().toBuffer();
      const opaque = await solid(40, 40, '#204080').png().toBuffer();
      expect((await sharp(opaque).metadata()).hasAlpha).toBe(true);
      const formats = ['webp', 'avif'] as const;
      const withAlpha = await renderVariants(original, [variant('small', 'inside', 20, 20, formats)], LIMIT);
      const without = await renderVariants(opaque, [variant('small', 'inside', 20, 20, formats)], LIMIT);
      for (const format of formats) {
        expect((await sharp(find(withAlpha.objects, 'small', format).bytes).metadata()).hasAlpha).toBe(true);
        expect((await sharp(find(without.objects, 'small', format).bytes).metadata()).hasAlpha).toBe(false);
      }
    });
  });

  describe('animation', () => {
    const colours: Rgb[] = [
      [220, 30, 30],
      [30, 200, 30],
      [30, 30, 220],
      [230, 210, 30],
    ];
    const delay = [100, 200, 300, 400];

    /** Four 80x60 frames of different colours, with a white dot top left so each frame has a shape. */
    async function animation(format: 'gif' | 'webp', orientation?: number): Promise<Buffer> {
      const frames = await Promise.all(
        colours.map((rgb) =>
          sharp({
            create: { width: 80, height: 60, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
          })
            .png()
            .toBuffer(),
        ),
      );
      const joined = sharp(frames, { join: { animated: true } });
      const encoded = format === 'gif' ? joined.gif({ delay, loop: 2 }) : joined.webp({ delay, loop: 2 });
      return (orientation ? encoded.withMetadata({ orientation }) : encoded).toBuffer();
    }

    const variants = [variant('small', 'inside', 40, 40), variant('thumb', 'cover', 20, 20)];

    it.each(['gif', 'webp'] as const)('keeps an animated %s animated in WebP only', async (format) => {
      const { objects } = await renderVariants(await animation(format), variants, LIMIT);
      for (const [name, width, height] of [
        ['small', 40, 30],
        ['thumb', 20, 20],
      ] as const) {
        const webp = find(objects, name, 'webp');
        const metadata = await sharp(webp.bytes, { animated: true }).metadata();
        expect(metadata).toMatchObject({ pages: 4, pageHeight: height, width, loop: 2, delay });
        expect([webp.width, webp.height]).toEqual([width, height]);
        const frames = await decodeFrames(webp.bytes);
        colours.forEach((rgb, frame) => {
          expect(channelDelta(pixelAt(frames, width / 2, height / 2, frame).slice(0, 3), rgb)).toBeLessThan(
            16,
          );
        });
        for (const still of ['avif', 'jpeg'] as const) {
          const bytes = find(objects, name, still).bytes;
          const stillMetadata = await sharp(bytes, { animated: true }).metadata();
          expect(stillMetadata.pages ?? 1).toBe(1);
          expect([stillMetadata.width, stillMetadata.height]).toEqual([width, height]);
          expect(channelDelta(await centre(bytes), colours[0] as Rgb)).toBeLessThan(16);
        }
      }
    });

    it('turns every frame of an animation its EXIF orientation asks to turn', async () => {
      const original = await animation('webp', 6);
      expect((await sharp(original).metadata()).orientation).toBe(6);
      const { objects } = await renderVariants(
        original,
        [variant('small', 'inside', 40, 40, ['webp'])],
        LIMIT,
      );
      const metadata = await sharp(find(objects, 'small', 'webp').bytes, { animated: true }).metadata();
      expect(metadata).toMatchObject({ pages: 4, width: 30, pageHeight: 40 });
    });
  });

  describe('multi-page TIFF', () => {
    const pageColours = ['#c03030', '#30a030', '#3030c0'];
    it('renders the inside variants of every page and the thumbnail of the first', async () => {
      const original = await makeDocument(pageColours);
      expect((await sharp(original).metadata()).pages).toBe(3);
      const { objects, skipped } = await renderVariants(
        original,
        [variant('thumb', 'cover', 40, 40, ['jpeg']), variant('small', 'inside', 60, 60, ['jpeg', 'webp'])],
        LIMIT,
      );
      expect(skipped).toEqual([]);
      expect(objects.map((o) => [o.variant, o.page, o.format])).toEqual([
        ['thumb', undefined, 'jpeg'],
        ['small', 1, 'jpeg'],
        ['small', 1, 'webp'],
        ['small', 2, 'jpeg'],
        ['small', 2, 'webp'],
        ['small', 3, 'jpeg'],
        ['small', 3, 'webp'],
      ]);
      expect(
        channelDelta(await centre(find(objects, 'thumb', 'jpeg').bytes), hexToRgb('#c03030')),
      ).toBeLessThan(8);
      for (const [index, colour] of pageColours.entries()) {
        const page = find(objects, 'small', 'jpeg', index + 1);
        expect([page.width, page.height]).toEqual([45, 60]);
        expect(channelDelta(await centre(page.bytes), hexToRgb(colour))).toBeLessThan(8);
      }
    });

    it(`stops after ${MAX_RENDERED_PAGES} pages`, async () => {
      const original = await makeDocument(Array.from({ length: MAX_RENDERED_PAGES + 2 }, () => '#808080'));
      const { objects } = await renderVariants(original, [variant('tiny', 'inside', 4, 4, ['jpeg'])], LIMIT);
      expect(objects.map((o) => o.page)).toEqual(Array.from({ length: MAX_RENDERED_PAGES }, (_, i) => i + 1));
    });

    it('renders only the page asked for, and no thumbnail unless it is the first', async () => {
      const original = await makeDocument(pageColours);
      const variants = [variant('thumb', 'cover', 40, 40, ['jpeg']), variant('small', 'inside', 60, 60)];
      const { objects } = await renderVariants(original, variants, { ...LIMIT, page: 2 });
      expect(objects.map((o) => [o.variant, o.page, o.format])).toEqual(
        OUTPUT_FORMAT_NAMES.map((format) => ['small', 2, format]),
      );
      const jpeg = find(objects, 'small', 'jpeg', 2);
      expect(channelDelta(await centre(jpeg.bytes), hexToRgb(pageColours[1] ?? ''))).toBeLessThan(8);

      const first = await renderVariants(original, variants, { ...LIMIT, page: 1 });
      expect(first.objects.map((o) => [o.variant, o.page, o.format])).toEqual([
        ['thumb', undefined, 'jpeg'],
        ...OUTPUT_FORMAT_NAMES.map((format) => ['small', 1, format]),
      ]);
    });

    it.each([
      ['past the last page of a document', 'document', 4],
      ['a page of a single picture', 'photo', 1],
    ] as const)('renders nothing for %s', async (_, kind, page) => {
      const original = kind === 'document' ? await makeDocument(pageColours) : await makeJpeg(120, 160);
      const small = variant('small', 'inside', 60, 60, ['jpeg']);
      expect(await renderVariants(original, [small], { ...LIMIT, page })).toEqual({
        objects: [],
        skipped: [],
      });
    });
  });

  describe('sizes', () => {
    it('renders the default variants of a large photo within their boxes', async () => {
      const original = await makeJpeg(2400, 1600);
      const { objects, skipped } = await renderVariants(original, DEFAULT_VARIANTS, LIMIT);
      expect(skipped).toEqual([]);
      const sizes = Object.fromEntries(objects.map((o) => [`${o.variant}.${o.format}`, [o.width, o.height]]));
      expect(sizes).toEqual({
        'thumb.avif': [300, 300],
        'thumb.webp': [300, 300],
        'thumb.jpeg': [300, 300],
        'small.avif': [640, 427],
        'small.webp': [640, 427],
        'small.jpeg': [640, 427],
        'medium.avif': [1024, 683],
        'medium.webp': [1024, 683],
        'medium.jpeg': [1024, 683],
        'large.avif': [1920, 1280],
        'large.webp': [1920, 1280],
        'large.jpeg': [1920, 1280],
      });
      for (const object of objects) {
        const metadata = await sharp(object.bytes).metadata();
        expect([metadata.width, metadata.height]).toEqual([object.width, object.height]);
        expect(metadata.format).toBe(object.format === 'avif' ? 'heif' : object.format);
        expect(object.contentType).toBe(OUTPUT_FORMATS[object.format].mime);
      }
    });

    it('never enlarges a small original, and reports the sizes it skips', async () => {
      const original = await makeImage('png', { width: 500, height: 200 });
      const variants = DEFAULT_VARIANTS.map((v) => ({
        ...v,
        formats: v.formats.filter((f) => f.format === 'webp'),
      }));
      const { objects, skipped } = await renderVariants(original, variants, LIMIT);
      expect(objects.map((o) => [o.variant, o.width, o.height])).toEqual([
        ['thumb', 200, 200],
        ['small', 500, 200],
      ]);
      expect(skipped).toEqual([
        { variant: 'medium', page: undefined, reason: 'original_too_small' },
        { variant: 'large', page: undefined, reason: 'original_too_small' },
      ]);
    });

    it('skips against the whole variant set when rendering one lane of it', async () => {
      const original = await makeImage('png', { width: 500, height: 200 });
      const lane = DEFAULT_VARIANTS.filter((v) => v.name === 'large');
      const alone = await renderVariants(original, lane, { ...LIMIT, variantSet: DEFAULT_VARIANTS });
      expect(alone).toEqual({
        objects: [],
        skipped: [{ variant: 'large', page: undefined, reason: 'original_too_small' }],
      });
    });
  });

  it('writes no EXIF, GPS, XMP or ICC profile', async () => {
    const original = await solid(300, 200, '#336699')
      .removeAlpha()
      .withExif({
        IFD0: { Make: 'Canon', Model: 'EOS', Copyright: 'someone' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '48/1 51/1 2964/100',
          GPSLongitudeRef: 'E',
          GPSLongitude: '2/1 17/1 40/1',
        },
      })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>')
      .withIccProfile('p3')
      .jpeg()
      .toBuffer();
    const before = await sharp(original).metadata();
    expect([Boolean(before.exif), Boolean(before.xmp), Boolean(before.icc)]).toEqual([true, true, true]);
    const { objects } = await renderVariants(
      original,
      [variant('thumb', 'cover', 50, 50), variant('small', 'inside', 100, 100)],
      LIMIT,
    );
    expect(objects).toHaveLength(6);
    for (const object of objects) {
      const after = await sharp(object.bytes).metadata();
      expect(after.exif).toBeUndefined();
      expect(after.xmp).toBeUndefined();
      expect(after.icc).toBeUndefined();
      expect(after.orientation).toBeUndefined();
      expect(object.bytes.includes('GPS')).toBe(false);
      expect(object.bytes.includes('Canon')).toBe(false);
    }
  });

  describe('refusals', () => {
    const small = [variant('small', 'inside', 10, 10, ['jpeg'])];
    const reason = (promise: Promise<unknown>) =>
      promise.then(
        () => 'rendered',
        (error: unknown) => (error instanceof UnrenderableImageError ? error.reason : String(error)),
      );

    it('refuses markup and unknown bytes without decoding them', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
      expect(await reason(renderVariants(svg, small, LIMIT))).toBe('unsupported_format');
      expect(await reason(renderVariants(Buffer.from('not an image at all'), small, LIMIT))).toBe(
        'unsupported_format',
      );
    });

    it('refuses an original over the pixel limit', async () => {
      await expect(renderVariants(await makeJpeg(64, 48), small, { maxInputPixels: 1000 })).rejects.toThrow(
        UnrenderableImageError,
      );
      expect(await reason(renderVariants(await makeJpeg(64, 48), small, { maxInputPixels: 1000 }))).toBe(
        'too_many_pixels',
      );
    });

    it('refuses pixel data that does not decode, naming the cause', async () => {
      const jpeg = await makeJpeg(640, 480);
      const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
      await expect(renderVariants(truncated, small, LIMIT)).rejects.toMatchObject({
        name: 'UnrenderableImageError',
        reason: 'undecodable',
        message: expect.stringMatching(/cannot be rendered: .+/),
      });
    });
  });
});
