import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import type { InputFormat } from '../formats.js';
import { UnreadableHeifError } from '../heif/container.js';
import { readHeif } from '../heif/readable.js';
import { exceedsInputBounds } from '../input-bounds.js';
import { SNIFF_BYTES, sniff } from '../sniff.js';
import { UnrenderableImageError, unrenderable } from './errors.js';
import { type Frames, orientFrames } from './frames.js';
import { orientedSize, type Size } from './geometry.js';
import { renderedPageCount } from './pages.js';

/**
 * Frames of an animation rendered at most. The pixel budget bounds the pixels, not the frames, and
 * each frame costs time of its own: libwebp's animation encoder takes time growing with the square of
 * the frame count (a 460 KB GIF of 20,000 1x1 frames took 30 s to render, 100,000 frames 11 minutes).
 * Animated outputs stop here; the rest of the animation stays in the original.
 */
export const MAX_RENDERED_FRAMES = 3000;

export interface DecodeOptions {
  /** Width x height (x frames) above which nothing is decoded: the guard against pixel floods. */
  maxInputPixels: number;
}

export interface OpenOptions extends DecodeOptions {
  /**
   * Only this page (1-based) of a multi-page document: no other page's header is read. An original
   * without that page (past the rendered pages, or no document at all) has nothing to render.
   * @default every rendered page (`renderedPageCount`)
   */
  page?: number | undefined;
}

/** An animation's timing, carried over to animated outputs. */
export interface Animation {
  /** 0 loops for ever. */
  loop: number;
  /** Milliseconds per frame, one entry per frame. */
  delay: number[];
}

/** One picture in an original to render: the image, one page of a document, or an animation. */
export interface Source {
  /** 1-based page of a multi-page document; undefined otherwise. */
  page: number | undefined;
  /** Of one frame, as displayed (EXIF orientation applied). */
  size: Size;
  frames: number;
  animation: Animation | undefined;
  /** Decodes the whole picture scaled to `size` (at most its own), upright, as 8-bit sRGB. */
  decode(size: Size): Promise<Frames>;
}

export interface Original {
  format: InputFormat;
  sources: Source[];
  /** Pages the original has, when more than `sources` renders. */
  pages: number;
}

/** Options every decode of an untrusted original gets. */
export const inputOptions = (options: DecodeOptions): SharpOptions => ({
  limitInputPixels: options.maxInputPixels,
  failOn: 'error',
});

/**
 * libvips converts a 16-bit RGB image with an embedded profile to Display P3, not sRGB, and a plain
 * cast to 8-bit sRGB afterwards would keep P3 numbers (desaturated colours). Asking for an sRGB
 * output profile makes it convert P3 to sRGB properly; for any other input the profile is left alone
 * (it would assume P3 where there is none).
 */
const needsP3ToSrgb = (metadata: Metadata): boolean => metadata.space === 'rgb16' && Boolean(metadata.icc);

/** The input format the bytes are, or `UnrenderableImageError`: markup never reaches libvips. */
export function assertRenderable(bytes: Buffer): InputFormat {
  const sniffed = sniff(bytes.subarray(0, SNIFF_BYTES));
  if (sniffed.kind !== 'image') {
    throw new UnrenderableImageError(
      'unsupported_format',
      `not an image format the pipeline renders (${sniffed.kind})`,
    );
  }
  return sniffed.format;
}

/**
 * The bytes libvips reads for an original: a HEIC's primary image decoded to a TIFF (`readHeif`,
 * decoded once however often this is asked of the same bytes), any other format's own bytes.
 */
export async function libvipsInput(
  bytes: Buffer,
  format: InputFormat,
  options: DecodeOptions,
): Promise<Buffer> {
  if (format !== 'heic') return bytes;
  try {
    return (await readHeif(bytes, options)).tiff;
  } catch (error) {
    if (!(error instanceof UnreadableHeifError)) throw error;
    const reason = error.reason === 'too_many_pixels' ? 'too_many_pixels' : 'undecodable';
    throw new UnrenderableImageError(reason, error.message, {}, error);
  }
}

async function readMetadata(bytes: Buffer, options: SharpOptions): Promise<Metadata> {
  try {
    return await sharp(bytes, options).metadata();
  } catch (error) {
    throw unrenderable(error);
  }
}

function toFrames(data: Buffer, info: OutputInfo, frames: number): Frames {
  const { width, height, channels } = info;
  const eightBit = data.length === width * height * channels;
  if ((channels !== 3 && channels !== 4) || !eightBit || height % frames !== 0) {
    throw new UnrenderableImageError(
      'undecodable',
      `decoded to ${width}x${height}x${channels} in ${data.length} bytes, not 8-bit sRGB in ${frames} frames`,
    );
  }
  return { data, width, height: height / frames, channels, frames };
}

/** A still picture: the image, or one page of a document. libvips orients it while decoding. */
function stillSource(bytes: Buffer, metadata: Metadata, options: SharpOptions, page?: number): Source {
  const load: SharpOptions = { ...options, autoOrient: true, ...(page === undefined ? {} : { page }) };
  const p3ToSrgb = needsP3ToSrgb(metadata);
  return {
    page: page === undefined ? undefined : page + 1,
    size: { width: metadata.autoOrient.width, height: metadata.autoOrient.height },
    frames: 1,
    animation: undefined,
    async decode(size) {
      try {
        let image = sharp(bytes, load).resize(size.width, size.height, {
          fit: 'fill',
          withoutEnlargement: true,
        });
        if (p3ToSrgb) image = image.withIccProfile('srgb');
        const { data, info } = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
        return toFrames(data, info, 1);
      } catch (error) {
        throw unrenderable(error, { page });
      }
    },
  };
}

/**
 * The first `frames` frames of an animated GIF or WebP, decoded together. libvips cannot turn several
 * frames a quarter, so the frames are scaled as stored and oriented afterwards.
 */
function animatedSource(bytes: Buffer, metadata: Metadata, options: SharpOptions, frames: number): Source {
  const stored = { width: metadata.width, height: metadata.pageHeight ?? metadata.height };
  const { orientation } = metadata;
  const delay =
    metadata.delay && metadata.delay.length >= frames
      ? metadata.delay.slice(0, frames)
      : Array.from({ length: frames }, () => 100);
  const p3ToSrgb = needsP3ToSrgb(metadata);
  return {
    page: undefined,
    size: orientedSize(stored, orientation),
    frames,
    animation: { loop: metadata.loop ?? 0, delay },
    async decode(size) {
      const target = orientedSize(size, orientation);
      try {
        let image = sharp(bytes, { ...options, pages: frames }).resize(target.width, target.height, {
          fit: 'fill',
          withoutEnlargement: true,
        });
        if (p3ToSrgb) image = image.withIccProfile('srgb');
        const { data, info } = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
        return orientFrames(toFrames(data, info, frames), orientation);
      } catch (error) {
        throw unrenderable(error);
      }
    },
  };
}

/**
 * Reads an original's header and names what there is to render in it (with `page`, that page). Throws
 * `UnrenderableImageError` for anything but the pipeline's input formats (sniffed from the bytes:
 * SVG and other markup are never handed to libvips), an unreadable header, or input beyond the
 * bounds ingest judges by (too many pixels over all pages or frames, a JPEG scan flood).
 */
export async function openOriginal(original: Buffer, decode: OpenOptions): Promise<Original> {
  const format = assertRenderable(original);
  const bytes = await libvipsInput(original, format, decode);
  const options = inputOptions(decode);
  const metadata = await readMetadata(bytes, options);
  const outOfBounds = exceedsInputBounds(bytes, format, metadata, decode.maxInputPixels);
  if (outOfBounds) throw new UnrenderableImageError(outOfBounds.reason, outOfBounds.message);
  const pages = metadata.pages ?? 1;
  const documentPages = renderedPageCount({ format, pages });
  if (decode.page !== undefined && documentPages === 0) return { format, sources: [], pages };
  if (pages > 1 && (format === 'gif' || format === 'webp')) {
    const frames = Math.min(pages, MAX_RENDERED_FRAMES);
    const animation = await readMetadata(bytes, { ...options, pages: frames });
    return { format, sources: [animatedSource(bytes, animation, options, frames)], pages };
  }
  if (documentPages > 0) {
    const sources: Source[] = [];
    for (let page = 0; page < documentPages; page++) {
      if (decode.page !== undefined && page + 1 !== decode.page) continue;
      const pageMetadata = page === 0 ? metadata : await readMetadata(bytes, { ...options, page });
      sources.push(stillSource(bytes, pageMetadata, options, page));
    }
    return { format, sources, pages };
  }
  // Other formats' extra pages (an AVIF collection's alternatives) are not pages of a document:
  // libvips decodes the primary image, as `readHeif` does for a HEIC.
  return { format, sources: [stillSource(bytes, metadata, options)], pages: 1 };
}
