import sharp, { type Metadata } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { unrenderable } from './errors.js';
import { assertRenderable, type DecodeOptions, inputOptions, libvipsInput } from './original.js';

export interface Placeholder {
  /** ThumbHash of the upright picture, standard base64 (about 25–35 characters). */
  thumbHash: string;
  /** The most common colour, `#rrggbb`, ignoring transparent pixels. */
  dominantColour: string;
}

/** ThumbHash encodes at most 100x100 pixels. */
const THUMBHASH_EDGE = 100;
/** Pixels less opaque than this do not count towards the dominant colour. */
const OPAQUE_ENOUGH = 128;

/**
 * What a page shows while an image loads: a ThumbHash (a blurred sketch, with alpha, in a few bytes)
 * and one colour for places too small for it. Both come from one small, upright, sRGB RGBA copy of
 * the first page or frame; JPEG decodes straight to about that size.
 */
export async function makePlaceholder(
  original: Buffer,
  options: Partial<DecodeOptions> = {},
): Promise<Placeholder> {
  const decode = { maxInputPixels: options.maxInputPixels ?? 100_000_000 };
  const bytes = await libvipsInput(original, assertRenderable(original), decode);
  const load = { ...inputOptions(decode), autoOrient: true };
  let data: Buffer;
  let width: number;
  let height: number;
  try {
    const metadata: Metadata = await sharp(bytes, load).metadata();
    let image = sharp(bytes, load)
      .resize(THUMBHASH_EDGE, THUMBHASH_EDGE, { fit: 'inside', withoutEnlargement: true })
      .ensureAlpha();
    // As for variants: libvips leaves 16-bit RGB with a profile in P3 unless asked for sRGB.
    if (metadata.space === 'rgb16' && metadata.icc) image = image.withIccProfile('srgb');
    ({
      data,
      info: { width, height },
    } = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw unrenderable(error);
  }
  return {
    thumbHash: Buffer.from(rgbaToThumbHash(width, height, data)).toString('base64'),
    dominantColour: dominantColour(data),
  };
}

const hex = (value: number) => Math.round(value).toString(16).padStart(2, '0');

/**
 * The mean of the fullest cell of a 16x16x16 RGB histogram, as sharp's `stats().dominant` bins it,
 * but counting only pixels that are mostly opaque (a logo's transparent surround is often stored as
 * black) and giving the cell's mean rather than its centre (so white stays #ffffff, not #f8f8f8).
 * A picture with nothing opaque is white, as it would look on a page.
 */
export function dominantColour(rgba: Uint8Array): string {
  const counts = new Uint32Array(4096);
  const sums = new Float64Array(4096 * 3);
  let best = -1;
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    if ((rgba[i + 3] as number) < OPAQUE_ENOUGH) continue;
    const r = rgba[i] as number;
    const g = rgba[i + 1] as number;
    const b = rgba[i + 2] as number;
    const cell = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    counts[cell] = (counts[cell] as number) + 1;
    sums[cell * 3] = (sums[cell * 3] as number) + r;
    sums[cell * 3 + 1] = (sums[cell * 3 + 1] as number) + g;
    sums[cell * 3 + 2] = (sums[cell * 3 + 2] as number) + b;
    if (best < 0 || (counts[cell] as number) > (counts[best] as number)) best = cell;
  }
  if (best < 0) return '#ffffff';
  const n = counts[best] as number;
  const mean = (channel: number) => (sums[best * 3 + channel] as number) / n;
  return `#${hex(mean(0))}${hex(mean(1))}${hex(mean(2))}`;
}
