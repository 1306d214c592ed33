import type { Sharp } from 'sharp';
import type { OutputFormat } from '../formats.js';
import type { VariantEncoding } from '../variants.js';
import { type Frames, firstFrame, readFrames } from './frames.js';
import type { Animation } from './original.js';

/** Whether a format keeps an alpha channel; the others get the picture flattened onto white. */
export const KEEPS_ALPHA: Readonly<Record<OutputFormat, boolean>> = { avif: true, webp: true, jpeg: false };

/** Only WebP outputs stay animated: AVIF sequences are poorly supported, JPEG has none. */
export const KEEPS_ANIMATION: Readonly<Record<OutputFormat, boolean>> = {
  avif: false,
  webp: true,
  jpeg: false,
};

export const FLATTEN_BACKGROUND = '#ffffff';

/**
 * The production encoders. Effort 4 is the middle of AVIF's and WebP's speed/size range; JPEG is
 * mozjpeg-tuned (trellis quantisation, optimised scans) and progressive. Nothing of the original's
 * metadata is written: pixels come in raw, so there is no EXIF, XMP or GPS to keep, and they are
 * already sRGB, which every browser assumes of an untagged image, so no profile is embedded either.
 */
function encoder(image: Sharp, encoding: VariantEncoding, animation: Animation | undefined): Sharp {
  switch (encoding.format) {
    case 'avif':
      return image.avif({ quality: encoding.quality, effort: 4 });
    case 'webp':
      return image.webp({ quality: encoding.quality, effort: 4, ...animation });
    case 'jpeg':
      return image.jpeg({ quality: encoding.quality, mozjpeg: true, progressive: true });
  }
}

/** Encodes one variant's pixels in one format: animated WebP keeps every frame, the rest the first. */
export async function encodeFrames(
  frames: Frames,
  encoding: VariantEncoding,
  animation: Animation | undefined,
): Promise<Buffer> {
  const animated = frames.frames > 1 && KEEPS_ANIMATION[encoding.format];
  let image = readFrames(animated ? frames : firstFrame(frames));
  if (frames.channels === 4 && !KEEPS_ALPHA[encoding.format]) {
    image = image.flatten({ background: FLATTEN_BACKGROUND });
  }
  return encoder(image, encoding, animated ? animation : undefined).toBuffer();
}
