import { originalKey } from './keys.js';
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
 */
export interface RenderJob {
  imageId: string;
  originalKey: string;
  lane: WorkLane;
  /** The variant set the job was planned against; a worker on a newer set re-plans instead. */
  variantSetVersion: string;
  variants: string[];
}

export function planRenderJobs(imageId: string, settings: Settings): RenderJob[] {
  const version = variantSetVersion(settings.variants);
  return WORK_LANES.flatMap((lane) => {
    const variants = settings.variants.filter((v) => laneOf(v) === lane).map((v) => v.name);
    return variants.length === 0
      ? []
      : [{ imageId, originalKey: originalKey(imageId), lane, variantSetVersion: version, variants }];
  });
}
