import { enrichmentVersion } from '../core/enrichment.js';
import { needsFingerprint } from '../core/near-duplicates.js';
import { planVariantJobs, type RenderJob } from '../core/render-jobs.js';
import type { Settings } from '../core/settings.js';
import { upkeepVersion } from '../core/upkeep.js';
import { variantSetVersion } from '../core/variants.js';
import type { ImageRecord, RequestPathCatalog, VariantStatus } from '../ports/catalog.js';
import type { MaintenanceCatalog, VariantPlan } from '../ports/maintenance-catalog.js';
import type { WorkQueue } from '../ports/work-queue.js';

/**
 * Queuing renders of chosen variants outside ingest (reprocess, reconcile), and telling when queued
 * renders have stalled or an image is settled. Shared so that both commands, and the render and
 * enrichment lanes, judge images the same way.
 */

export interface VariantRenderDependencies {
  settings: Settings;
  catalog: MaintenanceCatalog;
  queue: WorkQueue;
  now: () => Date;
  /** Waits until `jobs` more jobs may be queued (the operator's rate); absent, nothing waits. */
  pace?: (jobs: number) => Promise<void>;
}

/**
 * How long queued renders may take before they are taken for lost and queued again, unless the
 * operator says otherwise: far beyond a render's retries (three visibility timeouts of the variants
 * lane, 36 minutes), so only a backlog longer than this queues work twice.
 */
export const DEFAULT_STUCK_AFTER_MS = 60 * 60 * 1000;

/** The part of an image record that says what it is rendered as. */
export function variantPlanOf(image: ImageRecord): VariantPlan {
  return {
    variantSetVersion: image.variantSetVersion,
    status: image.status,
    variants: image.variants,
    jobsQueuedAt: image.jobsQueuedAt,
  };
}

/** When the image's render jobs were last queued or, before its ingest queued any, when it was created. */
export function rendersQueuedSince(image: ImageRecord): Date {
  return image.jobsQueuedAt ?? image.createdAt;
}

/** The current set's variants the image has not rendered (or skipped) yet; a variant it lacks counts. */
export function pendingVariants(image: ImageRecord, settings: Settings): string[] {
  return settings.variants
    .map((v) => v.name)
    .filter((name) => (image.variants[name] ?? 'pending') === 'pending');
}

/**
 * The current set's variants still `pending` on an image whose jobs were queued longer than
 * `stuckAfterMs` ago: their jobs were lost (a run interrupted before queuing them, a purged queue)
 * or gave up, so they are due again. None for a failed image or one being deleted.
 */
export function stalledVariants(
  image: ImageRecord,
  settings: Settings,
  now: Date,
  stuckAfterMs: number,
): string[] {
  const current = image.variantSetVersion === variantSetVersion(settings.variants);
  const stalled = rendersQueuedSince(image).getTime() <= now.getTime() - stuckAfterMs;
  if (!current || !stalled || image.status === 'failed' || image.deletingSince) return [];
  return pendingVariants(image, settings);
}

/**
 * Nothing left to do for the image under `settings`: ready, every variant of the current set
 * rendered (or skipped), its fingerprint and enrichment made by the versions asked for (a failed
 * enrichment is final too). The upkeep stops looking at an image once it is, until the upkeep
 * version changes (core/upkeep.ts).
 */
export function isSettled(image: ImageRecord, settings: Settings): boolean {
  if (image.status !== 'ready' || image.deletingSince) return false;
  if (image.variantSetVersion !== variantSetVersion(settings.variants)) return false;
  if (pendingVariants(image, settings).length > 0 || needsFingerprint(image, settings)) return false;
  if (!settings.enrichment.enabled) return true;
  const { enrichment } = image;
  return enrichment?.version === enrichmentVersion(settings.enrichment) && enrichment.status !== 'pending';
}

/** Settled, but not yet filed as settled on the settings' upkeep version. */
export function awaitsFiling(image: ImageRecord, settings: Settings): boolean {
  return image.settledOn !== upkeepVersion(settings) && isSettled(image, settings);
}

/**
 * Files the image as settled if it is and is not filed so yet: called with the image as written by
 * whatever may have finished its last outstanding work (a render, an enrichment), so that the
 * upkeep never has to read it. True when it filed it.
 */
export async function fileIfSettled(
  catalog: Pick<RequestPathCatalog, 'settleImage'>,
  settings: Settings,
  image: ImageRecord,
): Promise<boolean> {
  return awaitsFiling(image, settings) && (await catalog.settleImage(image, upkeepVersion(settings)));
}

/**
 * Moves the image to `variants` on the current variant set and queues the jobs that render
 * `render`. The record moves first, so the worker (which drops jobs of any other variant set)
 * takes the jobs; were they lost after it, the variants stay `pending` and `stalledVariants` finds
 * them. A `ready` image stays `ready` while its new variants render, so it is served throughout.
 * Returns the jobs queued, or undefined when the image changed since it was read (nothing done).
 */
export async function queueVariantRenders(
  deps: VariantRenderDependencies,
  image: ImageRecord,
  variants: Record<string, VariantStatus>,
  render: readonly string[],
): Promise<RenderJob[] | undefined> {
  const jobs = planVariantJobs(image.imageId, deps.settings, render);
  if (jobs.length > 0) await deps.pace?.(jobs.length);
  const now = deps.now();
  const done = pendingVariants({ ...image, variants }, deps.settings).length === 0;
  const moved = await deps.catalog.replaceVariantPlan(image.imageId, variantPlanOf(image), {
    variantSetVersion: variantSetVersion(deps.settings.variants),
    status: image.status === 'ready' || done ? 'ready' : 'processing',
    variants,
    jobsQueuedAt: jobs.length > 0 ? now : (image.jobsQueuedAt ?? now),
  });
  if (!moved) return undefined;
  if (jobs.length > 0) await deps.queue.enqueue(jobs);
  return jobs;
}
