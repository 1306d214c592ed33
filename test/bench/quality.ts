import sharp from 'sharp';
import { ssim } from 'ssim.js';
import type { OutputFormat } from '../../lambdas/core/formats.js';
import type { VariantSpec } from '../../lambdas/core/variants.js';

/**
 * SSIM of one output against its reference, plane by plane: luma (Y) and the two chroma planes (Cb,
 * Cr) of JPEG's full-range BT.601 YCbCr. Luma SSIM alone cannot see chroma subsampling (4:2:0 keeps
 * every luma sample), which is one of the settings the sweep varies; per-plane SSIM can.
 */
export interface PlaneSsim {
  y: number;
  cb: number;
  cr: number;
}

export const QUALITY_MEASURE =
  'SSIM (ssim.js 3.5, Bezkrovny’s 8 px blocks, no downsampling: the output as delivered, pixel for ' +
  'pixel) of Y, Cb and Cr (full-range BT.601) against the decoded original resized to the output’s ' +
  'exact size (Lanczos 3, never encoded; the thumbnail cropped by attention); 1 is identical.';

/** The original decoded, upright and resized to exactly `width` x `height` (cropped like `cover` when asked), as raw sRGB. */
export async function referencePixels(
  original: Buffer,
  maxInputPixels: number,
  width: number,
  height: number,
  cover: boolean,
): Promise<Buffer> {
  return sharp(original, { limitInputPixels: maxInputPixels })
    .autoOrient()
    .resize(width, height, cover ? { fit: 'cover', position: sharp.strategy.attention } : { fit: 'fill' })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer();
}

/** One plane of interleaved RGB as the grey RGBA image ssim.js reads (its integer grey conversion gives the plane back exactly). */
function plane(rgb: Buffer, weights: readonly [number, number, number], offset: number): Uint8ClampedArray {
  const pixels = rgb.length / 3;
  const out = new Uint8ClampedArray(pixels * 4);
  for (let i = 0, o = 0; i < rgb.length; i += 3, o += 4) {
    const value =
      offset + weights[0] * (rgb[i] ?? 0) + weights[1] * (rgb[i + 1] ?? 0) + weights[2] * (rgb[i + 2] ?? 0);
    out[o] = value;
    out[o + 1] = value;
    out[o + 2] = value;
    out[o + 3] = 255;
  }
  return out;
}

const PLANES = {
  y: [[0.299, 0.587, 0.114], 0],
  cb: [[-0.168736, -0.331264, 0.5], 128],
  cr: [[0.5, -0.418688, -0.081312], 128],
} as const;

/** Per-plane SSIM of encoded `output` against raw sRGB `reference`; null when its size is not `width` x `height`. */
export async function planeSsim(
  reference: Buffer,
  output: Buffer,
  width: number,
  height: number,
): Promise<PlaneSsim | null> {
  const { data, info } = await sharp(output)
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || data.length !== reference.length) return null;
  const score = ([weights, offset]: (typeof PLANES)[keyof typeof PLANES]): number => {
    const a = { data: plane(reference, weights, offset), width, height };
    const b = { data: plane(data, weights, offset), width, height };
    // Within 0.001 of the Gaussian-window SSIM on these photos, at a fifth of its time.
    return Number(ssim(a, b, { downsample: false, ssim: 'bezkrovny' }).mssim.toFixed(4));
  };
  return { y: score(PLANES.y), cb: score(PLANES.cb), cr: score(PLANES.cr) };
}

export interface ScoredOutput {
  variant: string;
  format: OutputFormat;
  width: number;
  height: number;
  bytes: number;
  /** Null when the output's size is not the one it reports. */
  ssim: PlaneSsim | null;
}

/**
 * Per-plane SSIM of every output, each against a reference of its own size; `references` caches
 * them across calls on the same original.
 */
export async function scoreOutputs(
  original: Buffer,
  outputs: readonly { variant: string; format: OutputFormat; width: number; height: number; data: Buffer }[],
  variants: readonly VariantSpec[],
  maxInputPixels: number,
  references: Map<string, Buffer> = new Map(),
): Promise<ScoredOutput[]> {
  const scored: ScoredOutput[] = [];
  for (const { variant, format, width, height, data } of outputs) {
    const cover = variants.find((v) => v.name === variant)?.fit === 'cover';
    const key = `${width}x${height}${cover ? ' cover' : ''}`;
    let reference = references.get(key);
    if (!reference) {
      reference = await referencePixels(original, maxInputPixels, width, height, cover);
      references.set(key, reference);
    }
    const ssim = await planeSsim(reference, data, width, height);
    scored.push({ variant, format, width, height, bytes: data.length, ssim });
  }
  return scored;
}

/** The smallest (most negative) SSIM change of any one output against the same output of `base`, per plane. */
export function worstSsimDelta(outputs: readonly ScoredOutput[], base: readonly ScoredOutput[]): PlaneSsim {
  const worst = { y: 0, cb: 0, cr: 0 };
  for (const o of outputs) {
    const before = base.find((b) => b.variant === o.variant && b.format === o.format)?.ssim;
    if (!o.ssim || !before) continue;
    for (const plane of ['y', 'cb', 'cr'] as const) {
      worst[plane] = Math.min(worst[plane], Number((o.ssim[plane] - before[plane]).toFixed(4)));
    }
  }
  return worst;
}
