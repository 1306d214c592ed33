import type { Fingerprint } from '../core/near-duplicates.js';
import type { Rejection } from '../core/rejections.js';
import { UnrenderableImageError } from '../core/render/errors.js';
import { makePlaceholder } from '../core/render/placeholder.js';
import { type RenderResult, renderVariants } from '../core/render/render-variants.js';
import { readTechnicalMetadata } from '../core/render/technical-metadata.js';
import type { RenderJob } from '../core/render-jobs.js';
import type { Settings } from '../core/settings.js';
import type { ImageRecord, RenderExtras, RequestPathCatalog, VariantStatus } from '../ports/catalog.js';
import type { DerivativeStore } from '../ports/derivative-store.js';
import type { OwnerIndex } from '../ports/owner-index.js';
import { noteNearDuplicate } from './near-duplicates.js';
import { reindexImage } from './owner-index-sync.js';
import { type QueueEnrichmentDependencies, queueEnrichment } from './queue-enrichment.js';
import { readTrustedOriginal, storeDerivatives, toDerivative } from './render-io.js';
import { fileIfSettled } from './variant-renders.js';

export interface RenderDependencies extends QueueEnrichmentDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  store: DerivativeStore;
  /** Where the thumbnails lane files an image's fingerprint for each of its owners. */
  ownerIndex: OwnerIndex;
}

export type RenderOutcome =
  | { outcome: 'rendered'; imageId: string; objects: number; ready: boolean }
  /** Nothing to do: the image is gone, or on another variant set than the job was planned for. */
  | { outcome: 'stale'; imageId: string; why: 'image_gone' | 'other_variant_set' }
  /** The original cannot be rendered, now or ever; the image is `failed` with the reason. */
  | { outcome: 'failed'; imageId: string; failure: Rejection };

/**
 * Renders one lane's variants of one image and records them. Safe to repeat: keys are
 * content-addressed (same spec, same bytes, same key) and the record update only ever moves
 * variants forward on the job's own variant set.
 */
export async function renderJob(deps: RenderDependencies, job: RenderJob): Promise<RenderOutcome> {
  const { imageId } = job;
  const image = await deps.catalog.getImage(imageId);
  if (!image || image.deletingSince) return { outcome: 'stale', imageId, why: 'image_gone' };
  if (image.status === 'failed' && image.failure)
    return { outcome: 'failed', imageId, failure: image.failure };
  if (image.variantSetVersion !== job.variantSetVersion)
    return { outcome: 'stale', imageId, why: 'other_variant_set' };

  const variantSet = deps.settings.variants;
  const specs = variantSet.filter((variant) => job.variants.includes(variant.name));
  let rendered: RenderResult;
  let extras: RenderExtras = {};
  let original: Buffer | undefined;
  try {
    original = await readTrustedOriginal(deps.store, imageId, job.originalKey);
    if (!original) return { outcome: 'stale', imageId, why: 'image_gone' };
    const thumbnails = job.lane === 'thumbnails';
    rendered = await renderVariants(original, specs, {
      maxInputPixels: deps.settings.maxInputPixels,
      variantSet,
      fingerprint: thumbnails && deps.settings.nearDuplicates,
    });
    if (thumbnails) extras = await describe(original, rendered, deps.settings);
  } catch (error) {
    if (!(error instanceof UnrenderableImageError)) throw error;
    const failure: Rejection = { reason: error.reason, message: error.message };
    await deps.catalog.failImage(imageId, failure);
    return { outcome: 'failed', imageId, failure };
  }

  const derivatives = rendered.objects.map((object) => {
    const spec = specs.find((variant) => variant.name === object.variant);
    if (!spec) throw new RangeError(`rendered a variant nobody asked for: ${object.variant}`);
    return toDerivative(imageId, spec, object);
  });
  if (!(await storeDerivatives(deps, imageId, derivatives))) {
    return { outcome: 'stale', imageId, why: 'image_gone' };
  }

  const renderedNames = new Set(rendered.objects.map((object) => object.variant));
  const statuses: Record<string, Exclude<VariantStatus, 'pending'>> = Object.fromEntries(
    specs.map((variant) => [variant.name, renderedNames.has(variant.name) ? 'ready' : 'skipped']),
  );
  const updated = await deps.catalog.recordVariants(imageId, job.variantSetVersion, statuses, extras);
  if (!updated) return { outcome: 'stale', imageId, why: 'other_variant_set' };
  try {
    if (extras.fingerprint) await fileFingerprint(deps, image, updated, extras.fingerprint);
    if (job.lane === 'thumbnails') await queueEnrichment(deps, updated, original);
    // The render that finishes the image takes it out of what the upkeep reads; with enrichment on,
    // the enrichment does (the one just queued is still pending).
    await fileIfSettled(deps.catalog, deps.settings, updated);
  } catch (error) {
    throw new DerivedFilingError(
      `image ${imageId}: its variants are recorded, filing what they yield failed`,
      {
        cause: error,
      },
    );
  }
  return { outcome: 'rendered', imageId, objects: derivatives.length, ready: updated.status === 'ready' };
}

/**
 * The variants are rendered and recorded; filing what the thumbnails lane derives (the fingerprint's
 * lookups, the enrichment job) failed. The job is retried like any other, but this never marks the
 * image failed: what it serves is complete.
 */
export class DerivedFilingError extends Error {
  override readonly name = 'DerivedFilingError';
}

/**
 * Files the image's fingerprint for each of its owners, then notes on each owner's link which of
 * their earlier images it looks like. On every delivery, not only when the fingerprint is new: the
 * delivery that recorded it may have stopped before filing it.
 */
async function fileFingerprint(
  deps: RenderDependencies,
  before: ImageRecord,
  after: ImageRecord,
  fingerprint: Fingerprint,
): Promise<void> {
  const holders = await reindexImage(deps, after.imageId, before, after);
  for (const holder of holders) await noteNearDuplicate(deps, holder, fingerprint);
}

/**
 * What the thumbnails lane adds to the record: a placeholder to paint first, camera facts, and the
 * fingerprint the render made (when asked to).
 */
async function describe(original: Buffer, rendered: RenderResult, settings: Settings): Promise<RenderExtras> {
  const [placeholder, technicalMetadata] = await Promise.all([
    makePlaceholder(original, { maxInputPixels: settings.maxInputPixels }),
    readTechnicalMetadata(original, { includeGps: settings.keepGpsMetadata }),
  ]);
  return {
    placeholder,
    technicalMetadata,
    ...(rendered.fingerprint ? { fingerprint: rendered.fingerprint } : {}),
  };
}
