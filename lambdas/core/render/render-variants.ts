import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { type EncoderSettings, PRODUCTION_ENCODERS } from '../encoder-settings.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../formats.js';
import { type Fingerprint, fingerprintOf } from '../near-duplicates.js';
import type { VariantSpec } from '../variants.js';
import { encodeFrames } from './encode.js';
import { unrenderable } from './errors.js';
import { cropFrames, dropOpaqueAlpha, type Frames, firstFrame, readFrames } from './frames.js';
import { area, type PlannedVariant, planVariants, type Size } from './geometry.js';
import { type OpenOptions, openOriginal, type Source } from './original.js';
import { rendersPerPage } from './pages.js';
import { applyWatermark } from './watermark.js';

export interface RenderedObject {
  variant: string;
  format: OutputFormat;
  /** 1-based page of a multi-page TIFF; undefined for every other image and for thumbnails. */
  page: number | undefined;
  /** Of the picture (one frame of an animation). */
  width: number;
  height: number;
  contentType: string;
  bytes: Buffer;
}

export interface SkippedVariant {
  variant: string;
  /** As `RenderedObject.page`: pages of one document can differ in size. */
  page: number | undefined;
  /** Another variant of the set already renders the original at its own size (`planVariants`). */
  reason: 'original_too_small';
}

export interface RenderResult {
  objects: RenderedObject[];
  skipped: SkippedVariant[];
  /** With `options.fingerprint`: the first picture's, when any variant of it was rendered. */
  fingerprint?: Fingerprint;
}

export interface RenderOptions extends OpenOptions {
  /**
   * The whole configured variant set, when `variants` is part of it (one render lane): variants are
   * skipped as duplicates of others in the set, so one lane must know the other's.
   * @default variants
   */
  variantSet?: readonly VariantSpec[];
  /**
   * Also fingerprint the first picture (page or frame) for near-duplicate search, from the whole
   * pixels decoded for its variants: no decode of its own.
   */
  fingerprint?: boolean;
  /**
   * Other encoders than production's, to measure them (the render bench): the derivatives' keys carry
   * the production encoders' revision, so nothing rendered otherwise may be stored under them.
   * @default PRODUCTION_ENCODERS
   */
  encoders?: EncoderSettings;
}

/**
 * Renders every variant of an original in every format of its spec, from the bytes to the bytes.
 *
 * - Upright (EXIF orientation applied), 8-bit sRGB (embedded profiles, CMYK and 16-bit converted),
 *   with no metadata at all in the outputs.
 * - Never enlarged: `inside` keeps the aspect ratio within the box, `cover` crops to the box around
 *   what draws the eye (libvips' attention strategy). Duplicates are skipped (see `planVariants`).
 * - Alpha kept in AVIF and WebP, flattened onto white in JPEG; an alpha channel with nothing
 *   transparent is dropped.
 * - Animated GIF and WebP stay animated in WebP (each frame resized, timing kept); AVIF and JPEG get
 *   the first frame. A multi-page TIFF gets its `inside` variants for each page (up to
 *   `MAX_RENDERED_PAGES`; with `page`, that page alone) and its thumbnails of the first page.
 * - A variant with a `watermark` gets the mark tiled over its pixels (see `applyWatermark`).
 *
 * Each picture is decoded once, scaled on load to the largest size any variant needs (JPEG and WebP
 * decode straight to a fraction of their size); each smaller variant is resized from the smallest
 * whole-frame pixels already made, largest first, and each format encodes those pixels.
 *
 * Throws `UnrenderableImageError` (permanent) when the bytes are not an input format, are over
 * `maxInputPixels` or do not decode.
 */
export async function renderVariants(
  original: Buffer,
  variants: readonly VariantSpec[],
  options: RenderOptions,
): Promise<RenderResult> {
  const { sources } = await openOriginal(original, options);
  const variantSet = options.variantSet ?? variants;
  const encoders = options.encoders ?? PRODUCTION_ENCODERS;
  const result: RenderResult = { objects: [], skipped: [] };
  for (const source of sources) {
    // Thumbnails are of the document, so only its first page gets them.
    const wanted = (source.page ?? 1) === 1 ? variants : variants.filter(rendersPerPage);
    const plan = planVariants(wanted, source.size, variantSet);
    result.skipped.push(
      ...plan.skipped.map(
        (v): SkippedVariant => ({ variant: v.name, page: pageOf(source, v), reason: 'original_too_small' }),
      ),
    );
    const fingerprint = options.fingerprint === true && result.fingerprint === undefined;
    const rendered = await renderSource(source, plan.planned, fingerprint, encoders);
    result.objects.push(...rendered.objects);
    if (rendered.fingerprint) result.fingerprint = rendered.fingerprint;
  }
  const order = (name: string) => variants.findIndex((v) => v.name === name);
  result.objects.sort((a, b) => order(a.variant) - order(b.variant) || (a.page ?? 0) - (b.page ?? 0));
  return result;
}

/** A page's thumbnail stands for the whole document, so it names no page. */
const pageOf = (source: Source, variant: VariantSpec): number | undefined =>
  rendersPerPage(variant) ? source.page : undefined;

/**
 * Renders planned variants of one picture: one decode, then a cascade largest to smallest. With
 * `fingerprint`, the decoded first frame is fingerprinted too (nothing is decoded when nothing is
 * planned).
 */
async function renderSource(
  source: Source,
  planned: readonly PlannedVariant[],
  fingerprint: boolean,
  encoders: EncoderSettings,
): Promise<{ objects: RenderedObject[]; fingerprint?: Fingerprint }> {
  if (planned.length === 0) return { objects: [] };
  const ordered = [...planned].sort((a, b) => area(b.placement.scaled) - area(a.placement.scaled));
  const decodeSize = {
    width: Math.max(...ordered.map((p) => p.placement.scaled.width)),
    height: Math.max(...ordered.map((p) => p.placement.scaled.height)),
  };
  // Whole (uncropped) frames made so far: any can be the source of a smaller size.
  let wholeFrames: Frames[] = [dropOpaqueAlpha(await source.decode(decodeSize))];
  const hashed = fingerprint ? { fingerprint: fingerprintOf(firstFrame(wholeFrames[0] as Frames)) } : {};
  const objects: RenderedObject[] = [];
  for (const [index, { variant, placement }] of ordered.entries()) {
    const whole = smallestHolding(wholeFrames, placement.scaled);
    // A watermarked variant is a still, and its marked pixels are never cascaded.
    const from = variant.watermark ? firstFrame(whole) : whole;
    const made =
      variant.fit === 'inside' ? await resize(from, placement.output) : await crop(from, placement);
    if (variant.fit === 'inside' && !variant.watermark) wholeFrames.push(made);
    const frames = variant.watermark ? await applyWatermark(made, variant.watermark) : made;
    // Let go of frames larger than what is left needs (an animation's can be hundreds of MB).
    const rest = ordered.slice(index + 1).map((p) => p.placement.scaled);
    if (rest.length > 0) {
      const keep = smallestHolding(wholeFrames, {
        width: Math.max(...rest.map((size) => size.width)),
        height: Math.max(...rest.map((size) => size.height)),
      });
      wholeFrames = wholeFrames.filter((f) => area(f) <= area(keep));
    }
    for (const encoding of variant.formats) {
      let bytes: Buffer;
      try {
        bytes = await encodeFrames(frames, encoding, source.animation, encoders);
      } catch (error) {
        throw unrenderable(error, { variant: variant.name, format: encoding.format });
      }
      objects.push({
        variant: variant.name,
        format: encoding.format,
        page: pageOf(source, variant),
        width: frames.width,
        height: frames.height,
        contentType: OUTPUT_FORMATS[encoding.format].mime,
        bytes,
      });
    }
  }
  return { objects, ...hashed };
}

function smallestHolding(candidates: readonly Frames[], size: Size): Frames {
  let best: Frames | undefined;
  for (const frames of candidates) {
    if (frames.width < size.width || frames.height < size.height) continue;
    if (!best || area(frames) < area(best)) best = frames;
  }
  // Only rounding can leave none holding `size`: the largest is then within a pixel of it.
  return best ?? candidates.reduce((a, b) => (area(b) > area(a) ? b : a));
}

async function run(image: Sharp, frames: number): Promise<Frames> {
  try {
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    return {
      data,
      width: info.width,
      height: info.height / frames,
      channels: info.channels as 3 | 4,
      frames,
    };
  } catch (error) {
    throw unrenderable(error);
  }
}

/** The whole frames scaled to `size` exactly (its aspect ratio is the source's, to rounding). */
async function resize(frames: Frames, size: Size): Promise<Frames> {
  if (frames.width === size.width && frames.height === size.height) return frames;
  const image = readFrames(frames).resize(size.width, size.height, { fit: 'fill', withoutEnlargement: true });
  return run(image, frames.frames);
}

/**
 * Scales to cover the box and crops it to the region libvips' attention strategy picks (skin tones,
 * saturated colours, edges). An animation's crop is chosen on its first frame and cut from every
 * frame, as libvips' crop strategies are for single frames only.
 */
async function crop(frames: Frames, { output, scaled }: PlannedVariant['placement']): Promise<Frames> {
  const cover = { fit: 'cover', position: sharp.strategy.attention, withoutEnlargement: true } as const;
  if (frames.frames === 1) return run(readFrames(frames).resize(output.width, output.height, cover), 1);
  const whole = await resize(frames, scaled);
  const image = readFrames(firstFrame(whole)).resize(output.width, output.height, cover);
  let info: OutputInfo;
  try {
    ({ info } = await image.raw().toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw unrenderable(error);
  }
  return cropFrames(whole, -(info.cropOffsetLeft ?? 0), -(info.cropOffsetTop ?? 0), output);
}
