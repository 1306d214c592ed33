/**
 * The analysis image (the ≤ `ANALYSIS_MAX_EDGE` px JPEG every enrichment model reads): made from an
 * original, and read back as pixels, with the colour arithmetic the descriptors share. Pure: sharp on
 * buffers, no I/O.
 */
import sharp from 'sharp';
import { ANALYSIS_MAX_EDGE } from '../enrichment.js';
import { ApertureError } from '../errors.js';
import { assertRenderable, type DecodeOptions, inputOptions, libvipsInput } from './original.js';

/** Enough for every model it is made for; the JPEG stays some 100–300 KB at 1024 px. */
const ANALYSIS_QUALITY = 85;

/**
 * The image the enrichment lane's models look at: the first page or frame, upright, at most
 * `ANALYSIS_MAX_EDGE` px on its long edge (within every managed model's input limits), flattened on
 * white, sRGB, baseline JPEG without metadata. Made from the original in the thumbnails lane, so
 * no model ever reads an original, and a HEIC or AVIF original needs no special case.
 */
export async function renderAnalysisImage(original: Buffer, options: DecodeOptions): Promise<Buffer> {
  const bytes = await libvipsInput(original, assertRenderable(original), options);
  return sharp(bytes, inputOptions(options))
    .rotate()
    .resize(ANALYSIS_MAX_EDGE, ANALYSIS_MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .jpeg({ quality: ANALYSIS_QUALITY })
    .toBuffer();
}

/**
 * The analysis image cannot be decoded, or is larger than an analysis image may be. Permanent: the
 * same bytes fail the same way, so enrichment records it (`analysis_unreadable`) rather than retry.
 */
export class UnreadableAnalysisImageError extends ApertureError {
  readonly code = 'analysis_unreadable';
}

/** Packed 8-bit sRGB, three bytes a pixel, rows top to bottom. */
export interface RgbPixels {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes the analysis image to sRGB pixels, scaled to `size` when given (`fill`: exactly that size,
 * the aspect ratio given up; `inside`: within it, the aspect ratio kept). A greyscale or CMYK JPEG
 * comes out as RGB like any other.
 */
export async function decodeAnalysisImage(
  jpeg: Buffer,
  size?: { width: number; height: number; fit: 'fill' | 'inside' },
): Promise<RgbPixels> {
  try {
    // No more pixels than a square analysis image: anything larger is not one, and is not decoded.
    let image = sharp(jpeg, { failOn: 'error', limitInputPixels: ANALYSIS_MAX_EDGE * ANALYSIS_MAX_EDGE });
    if (size) image = image.resize(size.width, size.height, { fit: size.fit });
    const { data, info } = await image
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UnreadableAnalysisImageError(
      `the analysis image cannot be read: ${detail}`,
      {},
      { cause: error },
    );
  }
}

/** sRGB channel value (0–255) → linear light (0–1), by the sRGB transfer function. */
const LINEAR = Float64Array.from({ length: 256 }, (_, value) => {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** D65 white: XYZ of sRGB's white point. */
const WHITE = [0.95047, 1, 1.08883] as const;

const labF = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);

/**
 * An sRGB colour in CIE L*a*b* (D65): L 0–100, a and b roughly ±100. Euclidean distance there
 * (ΔE76) is close to how different two colours look, which RGB distance is not.
 */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lr = LINEAR[r] as number;
  const lg = LINEAR[g] as number;
  const lb = LINEAR[b] as number;
  const x = labF((0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / WHITE[0]);
  const y = labF((0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb) / WHITE[1]);
  const z = labF((0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / WHITE[2]);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}
