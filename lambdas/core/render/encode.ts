import type { Sharp } from 'sharp';
import { type EncoderSettings, PRODUCTION_ENCODERS } from '../encoder-settings.js';
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
 * sharp's encoder for one format, as `settings` say (`PRODUCTION_ENCODERS` and ADR 10 say why these).
 * Nothing of the original's metadata is written: pixels come in raw, so there is no EXIF, XMP or GPS
 * to keep, and they are already sRGB, which every browser assumes of an untagged image, so no profile
 * is embedded either.
 */
export function encoder(
  image: Sharp,
  encoding: VariantEncoding,
  animation: Animation | undefined,
  settings: EncoderSettings,
): Sharp {
  const { quality } = encoding;
  switch (encoding.format) {
    case 'avif':
      return image.avif({ quality, ...settings.avif });
    case 'webp':
      return image.webp({ quality, ...settings.webp, ...animation });
    case 'jpeg':
      return image.jpeg({ quality, ...settings.jpeg });
  }
}

/** Encodes one variant's pixels in one format: animated WebP keeps every frame, the rest the first. */
export async function encodeFrames(
  frames: Frames,
  encoding: VariantEncoding,
  animation: Animation | undefined,
  settings: EncoderSettings = PRODUCTION_ENCODERS,
): Promise<Buffer> {
  const animated = frames.frames > 1 && KEEPS_ANIMATION[encoding.format];
  let image = readFrames(animated ? frames : firstFrame(frames));
  if (frames.channels === 4 && !KEEPS_ALPHA[encoding.format]) {
    image = image.flatten({ background: FLATTEN_BACKGROUND });
  }
  return encoder(image, encoding, animated ? animation : undefined, settings).toBuffer();
}
