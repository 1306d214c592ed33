import sharp from 'sharp';
import type { InputFormat } from '../../lambdas/core/formats.js';
import { renderAnalysisImage } from '../../lambdas/core/render/analysis-image.js';

/** Photo-like pixels (two gradients and a seed-dependent tint), so every seed gives different bytes. */
function gradient(width: number, height: number, seed: number): Buffer {
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

/** An image of the given format made in code, so tests never depend on files nobody checked in. */
export async function makeImage(
  format: InputFormat,
  options: { width?: number; height?: number; seed?: number } = {},
): Promise<Buffer> {
  const { width = 64, height = 48, seed = 0 } = options;
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
