import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UnreadableHeifError } from '../../../lambdas/core/heif/container.js';
import { readHeif } from '../../../lambdas/core/heif/readable.js';
import { openOriginal } from '../../../lambdas/core/render/original.js';
import { makePlaceholder } from '../../../lambdas/core/render/placeholder.js';
import { renderVariants } from '../../../lambdas/core/render/render-variants.js';
import { readTechnicalMetadata } from '../../../lambdas/core/render/technical-metadata.js';
import { DEFAULT_VARIANTS } from '../../../lambdas/core/variants.js';
import { buildHeif, cutInside, type HeifOptions } from '../../support/heif-builder.js';

const MAX_PIXELS = { maxInputPixels: 100_000_000 };

type Rgb = [number, number, number];
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const YELLOW: Rgb = [255, 255, 0];

/** The decoded picture, as the renderer gets it from the original. */
async function decoded(heic: Buffer) {
  const [source] = (await openOriginal(heic, MAX_PIXELS)).sources;
  if (!source) throw new Error('nothing to render');
  return source.decode(source.size);
}

const colourAt = (frames: Awaited<ReturnType<typeof decoded>>, x: number, y: number) => {
  const offset = (y * frames.width + x) * frames.channels;
  return [...frames.data.subarray(offset, offset + 3)];
};

/** The colour at the centre of each quadrant of the decoded picture: top-left, top-right, bottom-left, bottom-right. */
async function quadrants(heic: Buffer): Promise<{ size: [number, number]; colours: number[][] }> {
  const frames = await decoded(heic);
  const [w, h] = [frames.width, frames.height];
  const points = [
    [w / 4, h / 4],
    [(3 * w) / 4, h / 4],
    [w / 4, (3 * h) / 4],
    [(3 * w) / 4, (3 * h) / 4],
  ];
  return {
    size: [w, h],
    colours: points.map(([x, y]) => colourAt(frames, Math.floor(x ?? 0), Math.floor(y ?? 0))),
  };
}

/** Each colour within a coding loss of the expected one. */
function expectColours(actual: number[][], expected: Rgb[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((colour, i) => {
    colour.forEach((value, channel) => {
      expect(
        Math.abs(value - (expected[i] as Rgb)[channel as 0 | 1 | 2]),
        `quadrant ${i}: ${colour}`,
      ).toBeLessThan(40);
    });
  });
}

/** EXIF (from its TIFF header on) saying what a camera says, orientation included. */
async function cameraExif(orientation: number): Promise<Uint8Array> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .withExif({ IFD0: { Make: 'Apple', Model: 'iPhone 15 Pro', Orientation: String(orientation) } })
    .jpeg()
    .toBuffer();
  const { exif } = await sharp(jpeg).metadata();
  if (!exif) throw new Error('sharp wrote no EXIF');
  return exif.subarray(6); // past `Exif\0\0`
}

const heic = (options: HeifOptions = {}) => buildHeif(options);

describe('HEIC originals', () => {
  it('decode to their pixels, upright as stored', async () => {
    const { size, colours } = await quadrants(heic());
    expect(size).toEqual([64, 64]);
    expectColours(colours, [RED, GREEN, BLUE, YELLOW]);
  });

  it.each([
    [90, [GREEN, YELLOW, RED, BLUE]],
    [180, [YELLOW, BLUE, GREEN, RED]],
    [270, [BLUE, RED, YELLOW, GREEN]],
  ] as const)('turn by irot %i° (anticlockwise), once', async (rotation, expected) => {
    expectColours((await quadrants(heic({ rotation }))).colours, [...expected]);
  });

  it.each([
    ['horizontal', [GREEN, RED, YELLOW, BLUE]],
    ['vertical', [BLUE, YELLOW, RED, GREEN]],
  ] as const)('mirror by imir (%s)', async (mirror, expected) => {
    expectColours((await quadrants(heic({ mirror }))).colours, [...expected]);
  });

  it("never apply their EXIF orientation on top of the container's: iPhones write both", async () => {
    const both = await quadrants(heic({ rotation: 270, exif: await cameraExif(6) }));
    expectColours(both.colours, [BLUE, RED, YELLOW, GREEN]);
  });

  it('render a grid of tiles as one picture, the size the grid says', async () => {
    // Six 64 px tiles of quadrants, the last column cropped to 52 px by the grid's size.
    const grid = heic({ grid: { rows: 2, columns: 3, width: 180, height: 128 } });
    const frames = await decoded(grid);
    expect([frames.width, frames.height]).toEqual([180, 128]);
    const tile = (column: number, row: number, x: number, y: number) =>
      colourAt(frames, column * 64 + x, row * 64 + y);
    expectColours(
      [tile(0, 0, 16, 16), tile(1, 0, 48, 48), tile(2, 1, 16, 48), tile(2, 1, 40, 16)],
      [RED, YELLOW, BLUE, GREEN],
    );
    const { objects } = await renderVariants(grid, DEFAULT_VARIANTS, MAX_PIXELS);
    expect(objects.map((o) => `${o.variant}.${o.format}`)).toContain('thumb.avif');
  });

  it('convert Display P3 named by nclx alone to sRGB, and take BT.709 as sRGB', async () => {
    const nclx = (colourPrimaries: number) => ({
      colourPrimaries,
      transferCharacteristics: 13,
      matrixCoefficients: 6,
      fullRange: true,
    });
    const p3 = await quadrants(heic({ nclx: nclx(12) }));
    const bt709 = await quadrants(heic({ nclx: nclx(1) }));
    expectColours(bt709.colours, [RED, GREEN, BLUE, YELLOW]);
    // P3 red is redder than sRGB can show: converted, it clips to full red, where P3 green loses its
    // red and blue floor, so the pictures differ where colours are saturated.
    expect(p3.colours).not.toEqual(bt709.colours);
  });

  it('keep their alpha', async () => {
    const [source] = (await openOriginal(heic({ alpha: true }), MAX_PIXELS)).sources;
    const frames = await source?.decode(source.size);
    expect(frames?.channels).toBe(4);
    const alphas = new Set<number>();
    for (let i = 3; i < (frames?.data.length ?? 0); i += 4) alphas.add(frames?.data[i] as number);
    expect(Math.min(...alphas)).toBeLessThan(64);
    expect(Math.max(...alphas)).toBeGreaterThan(192);
  });

  it('render their primary image only, not their thumbnail', async () => {
    const { size } = await quadrants(heic({ grid: { rows: 2, columns: 2 }, thumbnail: true }));
    expect(size).toEqual([128, 128]);
  });

  it('are decoded once however often one original is read (variants, placeholder, analysis image)', async () => {
    const bytes = heic();
    const first = await readHeif(bytes, MAX_PIXELS);
    await makePlaceholder(bytes, MAX_PIXELS);
    expect(await readHeif(bytes, MAX_PIXELS)).toBe(first);
    expect(await readHeif(Buffer.from(bytes), MAX_PIXELS)).not.toBe(first);
  });

  it('give their camera facts from their Exif item', async () => {
    const facts = await readTechnicalMetadata(heic({ exif: await cameraExif(1) }), { includeGps: false });
    expect(facts).toMatchObject({ cameraMake: 'Apple', cameraModel: 'iPhone 15 Pro' });
  });

  it('cut short, are refused as truncated before anything is decoded', async () => {
    const cut = cutInside(heic(), 'mdat');
    await expect(readHeif(cut, MAX_PIXELS)).rejects.toMatchObject({ reason: 'truncated' });
    await expect(readHeif(cut, MAX_PIXELS)).rejects.toBeInstanceOf(UnreadableHeifError);
    await expect(openOriginal(cut, MAX_PIXELS)).rejects.toMatchObject({ reason: 'undecodable' });
  });
});
