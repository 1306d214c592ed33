import { z } from 'zod';
import { INPUT_FORMAT_NAMES } from './formats.js';
import { describeIssues } from './validation.js';
import { DEFAULT_VARIANTS, variantSetSchema } from './variants.js';

const MIB = 1024 * 1024;

/**
 * The pipeline's policy: what it accepts and what it makes. The construct validates these at synth
 * time and hands them to every function in one environment variable, so both sides read one schema.
 */
export const settingsSchema = z.strictObject({
  /** Input formats accepted, judged from the bytes; any other is rejected as `format_not_allowed`. */
  allowedFormats: z
    .array(z.enum(INPUT_FORMAT_NAMES))
    .min(1)
    .default([...INPUT_FORMAT_NAMES]),
  /** Largest upload accepted, in bytes. S3 single PUT/POST uploads stop at 5 GiB. */
  maxUploadBytes: z
    .number()
    .int()
    .min(1)
    .max(5 * 1024 * MIB)
    .default(50 * MIB),
  /** Largest decoded image accepted, in pixels (width x height x pages): the guard against pixel floods. */
  maxInputPixels: z.number().int().min(1).default(100_000_000),
  /** How long a presigned upload stays usable. Short by design: a leaked URL soon stops working. */
  presignTtlSeconds: z.number().int().min(10).max(3600).default(300),
  /** The variant set: what every image is rendered to (see `variants.ts`). */
  variants: variantSetSchema.default(() => structuredClone([...DEFAULT_VARIANTS])),
  /** Keep GPS coordinates in the technical metadata stored on image records. Outputs never carry any. */
  keepGpsMetadata: z.boolean().default(false),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** Validates and fills defaults; throws naming every offending field. */
export function parseSettings(input: SettingsInput = {}): Settings {
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) throw new RangeError(`invalid Aperture settings: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
