import sharp from 'sharp';
import type { InputFormat } from '../../lambdas/core/formats.js';
import { renderAnalysisImage } from '../../lambdas/core/render/analysis-image.js';
import { buildHeif, QUADRANTS } from './heif-builder.js';

/** Photo-like pixels (two gradients and a seed-dependent tint), so every seed gives different bytes. */
export function gradient(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      pixels[offset] = (x * 255) / width;
      pixels[offset + 1] = (y * 255) / height;
      pixels[offset + 2] = (seed * 37) % 256;
    }
  }
  // The tint alone repeats every 256 seeds: the seed's 32 bits, black or white along the first row,
  // keep every seed's image distinct even through lossy encoders (tests share one twin, where equal
  // bytes are one image).
  for (let bit = 0; bit < 32 && bit < width; bit++) {
    pixels.fill((seed >>> bit) & 1 ? 255 : 0, bit * 3, bit * 3 + 3);
  }
  return pixels;
}

/**
 * A HEIC as phones write one: a grid of tiles. Nothing here encodes HEVC, so every tile is the
 * fixture's 64 px quadrants; the seed goes in an Exif item, which keeps every seed's bytes distinct.
 * At most 1,024 tiles (`MAX_GRID_TILES`): about 2048 x 2048.
 */
function makeHeic(width: number, height: number, seed: number): Buffer {
  const exif = Buffer.alloc(18);
  exif.write('II*\0', 0, 'latin1');
  exif.writeUInt32LE(8, 4); // the first directory: no entries, no next directory
  exif.writeUInt32LE(seed >>> 0, 14); // after the directory, where no reader looks
  const grid = {
    rows: Math.ceil(height / QUADRANTS.height),
    columns: Math.ceil(width / QUADRANTS.width),
    width,
    height,
  };
  return buildHeif({ grid, exif });
}

/** An image of the given format made in code, so tests never depend on files nobody checked in. */
export async function makeImage(
  format: InputFormat,
  options: { width?: number; height?: number; seed?: number } = {},
): Promise<Buffer> {
  const { width = 64, height = 48, seed = 0 } = options;
  if (format === 'heic') return makeHeic(width, height, seed);
  const image = sharp(gradient(width, height, seed), { raw: { width, height, channels: 3 } });
  return image.toFormat(format, format === 'avif' ? { effort: 0 } : {}).toBuffer();
}

export function makeJpeg(width = 64, height = 48): Promise<Buffer> {
  return makeImage('jpeg', { width, height });
}

/** A multi-page TIFF, as scanners and fax servers write documents: one solid colour per page. */
export async function makeDocument(
  pageColours: readonly string[],
  options: { width?: number; height?: number } = {},
): Promise<Buffer> {
  const { width = 120, height = 160 } = options;
  const pages = await Promise.all(
    pageColours.map((background) =>
      sharp({ create: { width, height, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(pages, { join: { animated: true } })
    .tiff()
    .toBuffer();
}

/** An analysis image of `original`, made as the thumbnails lane makes one. */
export function analysisJpeg(original: Buffer): Promise<Buffer> {
  return renderAnalysisImage(original, { maxInputPixels: 100_000_000 });
}

/** A seeded source of numbers in [0, 1) (mulberry32): the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A JPEG (q90) with what perceptual hashes see in a photo: a gradient at a seed-dependent angle,
 * overlapping shapes in seed-dependent places and colours, and grain. Two seeds give two pictures,
 * not one picture in two tints (as `makeImage` does).
 */
export async function makePhotoLike(options: {
  width: number;
  height: number;
  seed: number;
}): Promise<Buffer> {
  const { width, height, seed } = options;
  const random = seededRandom(seed);
  const angle = random() * 2 * Math.PI;
  const [from, to] = [0, 1].map(() => [0, 1, 2].map(() => 40 + random() * 175));
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const along =
        ((x / width - 0.5) * Math.cos(angle) + (y / height - 0.5) * Math.sin(angle)) / Math.SQRT2 + 0.5;
      for (let c = 0; c < 3; c++) {
        const grain = (random() - 0.5) * 24;
        pixels[(y * width + x) * 3 + c] = (from?.[c] ?? 0) * (1 - along) + (to?.[c] ?? 0) * along + grain;
      }
    }
  }
  const colour = () => `rgb(${[0, 1, 2].map(() => Math.floor(random() * 256)).join(',')})`;
  const shapes = Array.from({ length: 7 }, (_, i) => {
    const [x, y] = [random() * width, random() * height];
    const [w, h] = [(0.1 + random() * 0.3) * width, (0.1 + random() * 0.3) * height];
    const opacity = (0.6 + random() * 0.4).toFixed(2);
    return i % 2 === 0
      ? `<ellipse cx="${x}" cy="${y}" rx="${w / 2}" ry="${h / 2}" fill="${colour()}" opacity="${opacity}"/>`
      : `<rect x="${x - w / 2}" y="${y - h / 2}" width="${w}" height="${h}" fill="${colour()}" opacity="${opacity}"/>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg) }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * What SHA-256 dedup misses and near-duplicate search must find: the same JPEG re-encoded at q60,
 * resized to half its width, and cropped by 1% of its width and height (from the right and bottom
 * edges, so what remains also shifts against the frame).
 */
export async function nearCopiesOf(
  jpeg: Buffer,
): Promise<Record<'reencoded' | 'resized' | 'cropped', Buffer>> {
  const { width = 0, height = 0 } = await sharp(jpeg).metadata();
  return {
    reencoded: await sharp(jpeg).jpeg({ quality: 60 }).toBuffer(),
    resized: await sharp(jpeg)
      .resize(Math.round(width / 2))
      .jpeg({ quality: 90 })
      .toBuffer(),
    cropped: await sharp(jpeg)
      .extract({ left: 0, top: 0, width: Math.round(width * 0.99), height: Math.round(height * 0.99) })
      .jpeg({ quality: 90 })
      .toBuffer(),
  };
}
