import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type EncoderSettings, encoderRevisionPart, PRODUCTION_ENCODERS } from './encoder-settings.js';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from './formats.js';

/** Variant names become path segments of derivative keys and URLs, so they are kept to a safe alphabet. */
export const VARIANT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_EDGE = 8192;

const encodingSchema = z.strictObject({
  format: z.enum(OUTPUT_FORMAT_NAMES),
  quality: z.number().int().min(1).max(100),
});

/** Aperture's mark: an iris ring around a hexagon, white edged in black so it shows on any picture. */
export const APERTURE_MARK_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">' +
  '<circle cx="50" cy="50" r="38" fill="none" stroke="#000" stroke-width="14"/>' +
  '<circle cx="50" cy="50" r="38" fill="none" stroke="#fff" stroke-width="8"/>' +
  '<polygon points="50,28 69,39 69,61 50,72 31,61 31,39" fill="#fff" stroke="#000" stroke-width="3"/>' +
  '</svg>';

/**
 * The settings travel in one Lambda environment variable (4 KB for all of them), so a mark is small.
 * It is shapes only: `<text>` needs fonts that Lambda does not have (it would render as nothing), and
 * nothing may be fetched while rendering (no `<image>`, no external `href`), nor scripted.
 */
const MAX_MARK_SVG_CHARS = 2048;
const FORBIDDEN_IN_MARK = /<\s*(text|image|script|foreignObject|style)\b|\bhref\s*=\s*["'](?!#)/i;

const watermarkSchema = z.strictObject({
  /** SVG shapes tiled across the picture. @default the Aperture mark */
  svg: z
    .string()
    .max(MAX_MARK_SVG_CHARS)
    .regex(/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/, 'an SVG document')
    .refine((svg) => !FORBIDDEN_IN_MARK.test(svg), {
      message: 'shapes only: no text, images, scripts, styles or external references',
    })
    .default(APERTURE_MARK_SVG),
  /** Of the mark, from barely visible to opaque. */
  opacity: z.number().min(0.05).max(1).default(0.3),
});

export type Watermark = z.output<typeof watermarkSchema>;

export const variantSpecSchema = z.strictObject({
  name: z
    .string()
    .regex(VARIANT_NAME_PATTERN, 'lowercase letters, digits and dashes, starting with a letter'),
  /** `inside` keeps the aspect ratio within the box; `cover` fills the box and crops. */
  fit: z.enum(['inside', 'cover']),
  width: z.number().int().min(1).max(MAX_EDGE),
  height: z.number().int().min(1).max(MAX_EDGE),
  formats: z
    .array(encodingSchema)
    .min(1)
    .refine((encodings) => new Set(encodings.map((e) => e.format)).size === encodings.length, {
      message: 'each format may appear once per variant',
    }),
  /**
   * Tiles a mark over this variant's pixels only; no other variant is made from them. A watermarked
   * variant is a still: an animation's is its first frame.
   */
  watermark: watermarkSchema.optional(),
});

export const variantSetSchema = z
  .array(variantSpecSchema)
  .min(1)
  .refine((variants) => new Set(variants.map((v) => v.name)).size === variants.length, {
    message: 'variant names must be unique',
  });

export type VariantSpec = z.output<typeof variantSpecSchema>;
export type VariantEncoding = z.infer<typeof encodingSchema>;

const everyFormat = (quality: { avif: number; webp: number; jpeg: number }): VariantEncoding[] => [
  { format: 'avif', quality: quality.avif },
  { format: 'webp', quality: quality.webp },
  { format: 'jpeg', quality: quality.jpeg },
];

const standardQuality = { avif: 50, webp: 80, jpeg: 80 };

export const DEFAULT_VARIANTS: readonly VariantSpec[] = [
  { name: 'thumb', fit: 'cover', width: 300, height: 300, formats: everyFormat(standardQuality) },
  { name: 'small', fit: 'inside', width: 640, height: 640, formats: everyFormat(standardQuality) },
  { name: 'medium', fit: 'inside', width: 1024, height: 1024, formats: everyFormat(standardQuality) },
  { name: 'large', fit: 'inside', width: 1920, height: 1920, formats: everyFormat(standardQuality) },
];

/**
 * A preview to show before a sale or a sign-in: 1200 px on the long edge with a tiled mark, off by
 * default (add it to `settings.variants`).
 */
export function watermarkedPreview(watermark: z.input<typeof watermarkSchema> = {}): VariantSpec {
  return variantSpecSchema.parse({
    name: 'preview',
    fit: 'inside',
    width: 1200,
    height: 1200,
    formats: [
      { format: 'webp', quality: 75 },
      { format: 'jpeg', quality: 75 },
    ],
    watermark,
  });
}

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * A short fingerprint of everything that decides one encoded variant's bytes, the encoder's settings
 * included. It is part of the derivative's key, so changing a spec or an encoder yields new keys
 * instead of overwriting immutable-cached objects.
 */
export function encodingRevision(
  variant: VariantSpec,
  format: OutputFormat,
  encoders: EncoderSettings = PRODUCTION_ENCODERS,
): string {
  const encoding = variant.formats.find((e) => e.format === format);
  if (!encoding) throw new RangeError(`variant ${variant.name} has no ${format} encoding`);
  const pixels: unknown[] = [variant.fit, variant.width, variant.height, encoding.format, encoding.quality];
  // Unwatermarked variants keep the revisions they had before watermarks existed, and every variant
  // those it had before encoder settings were part of them, while its encoder is the baseline's.
  if (variant.watermark) pixels.push(variant.watermark);
  const encoder = encoderRevisionPart(encoders, format);
  return digest(encoder ? [...pixels, encoder] : pixels).slice(0, 8);
}

/**
 * A fingerprint of the whole variant set and its formats' encoders, recorded on images so
 * reprocessing can find stale ones: a changed encoder re-renders them as a changed spec does.
 */
export function variantSetVersion(
  variants: readonly VariantSpec[],
  encoders: EncoderSettings = PRODUCTION_ENCODERS,
): string {
  const canonical: unknown[] = [...variants]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((v) => {
      const spec = [v.name, v.fit, v.width, v.height, v.formats.map((e) => [e.format, e.quality]).sort()];
      return v.watermark ? [...spec, v.watermark] : spec;
    });
  const used = new Set(variants.flatMap((v) => v.formats.map((e) => e.format)));
  const changed = OUTPUT_FORMAT_NAMES.filter((format) => used.has(format)).flatMap((format) => {
    const encoder = encoderRevisionPart(encoders, format);
    return encoder ? [[format, encoder]] : [];
  });
  return digest(changed.length > 0 ? [...canonical, changed] : canonical).slice(0, 12);
}
