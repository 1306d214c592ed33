import { createHash } from 'node:crypto';
import { z } from 'zod';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from './formats.js';

/** Variant names become path segments of derivative keys and URLs, so they are kept to a safe alphabet. */
export const VARIANT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_EDGE = 8192;

const encodingSchema = z.strictObject({
  format: z.enum(OUTPUT_FORMAT_NAMES),
  quality: z.number().int().min(1).max(100),
});

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
});

export const variantSetSchema = z
  .array(variantSpecSchema)
  .min(1)
  .refine((variants) => new Set(variants.map((v) => v.name)).size === variants.length, {
    message: 'variant names must be unique',
  });

export type VariantSpec = z.infer<typeof variantSpecSchema>;
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

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * A short fingerprint of everything that decides one encoded variant's bytes. It is part of the
 * derivative's key, so changing a spec yields new keys instead of overwriting immutable-cached objects.
 */
export function encodingRevision(variant: VariantSpec, format: OutputFormat): string {
  const encoding = variant.formats.find((e) => e.format === format);
  if (!encoding) throw new RangeError(`variant ${variant.name} has no ${format} encoding`);
  return digest([variant.fit, variant.width, variant.height, encoding.format, encoding.quality]).slice(0, 8);
}

/** A fingerprint of the whole variant set, recorded on images so reprocessing can find stale ones. */
export function variantSetVersion(variants: readonly VariantSpec[]): string {
  const canonical = variants
    .map(
      (v) => [v.name, v.fit, v.width, v.height, v.formats.map((e) => [e.format, e.quality]).sort()] as const,
    )
    .sort(([a], [b]) => a.localeCompare(b));
  return digest(canonical).slice(0, 12);
}
