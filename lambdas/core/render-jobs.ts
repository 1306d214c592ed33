import { z } from 'zod';
import { isSha256Hex, originalKey } from './keys.js';
import type { Settings } from './settings.js';
import { type VariantSpec, variantSetVersion } from './variants.js';

/**
 * Render work goes through two lanes so that cheap thumbnails never wait behind large AVIF encodes:
 * an image's small variants are on screen within a second or two whatever the backlog of big ones.
 */
export const WORK_LANES = ['thumbnails', 'variants'] as const;
export type WorkLane = (typeof WORK_LANES)[number];

/** A record with one entry per lane. */
export function mapLanes<T>(value: (lane: WorkLane) => T): Record<WorkLane, T> {
  return Object.fromEntries(WORK_LANES.map((lane) => [lane, value(lane)])) as Record<WorkLane, T>;
}

/** Variants whose box fits within this edge are thumbnails: fast to make, needed first. */
export const THUMBNAIL_MAX_EDGE = 480;

export function laneOf(variant: VariantSpec): WorkLane {
  return Math.max(variant.width, variant.height) <= THUMBNAIL_MAX_EDGE ? 'thumbnails' : 'variants';
}

/**
 * One message per image and lane: the worker decodes the original once and cascades every size of
 * its lane from it (ADR 5). It names what to make and where to read; never the bytes themselves.
 * Checked on arrival, since anything can be sent to a queue.
 */
export const renderJobSchema = z.strictObject({
  imageId: z.string().refine(isSha256Hex, 'a lowercase SHA-256 hex digest'),
  originalKey: z.string().min(1),
  lane: z.enum(WORK_LANES),
  /** The variant set the job was planned against; a job for an older set changes nothing. */
  variantSetVersion: z.string().min(1),
  variants: z.array(z.string()).min(1),
});

export type RenderJob = z.infer<typeof renderJobSchema>;

export function planRenderJobs(imageId: string, settings: Settings): RenderJob[] {
  return planVariantJobs(
    imageId,
    settings,
    settings.variants.map((v) => v.name),
  );
}

/**
 * The jobs that render only the named variants of an image (a reprocess, a repair), one per lane
 * that has any of them, as ingest plans every variant.
 */
export function planVariantJobs(
  imageId: string,
  settings: Settings,
  variantNames: readonly string[],
): RenderJob[] {
  const unknown = variantNames.filter((name) => !settings.variants.some((v) => v.name === name));
  if (unknown.length > 0) throw new RangeError(`variants not in the variant set: ${unknown.join(', ')}`);
  const version = variantSetVersion(settings.variants);
  return WORK_LANES.flatMap((lane) => {
    const variants = settings.variants
      .filter((v) => laneOf(v) === lane && variantNames.includes(v.name))
      .map((v) => v.name);
    return variants.length === 0
      ? []
      : [{ imageId, originalKey: originalKey(imageId), lane, variantSetVersion: version, variants }];
  });
}
