import { ConflictError } from '../../core/errors.js';
import { originalKey } from '../../core/keys.js';
import type { RenderJob } from '../../core/render-jobs.js';
import { storedVariants } from '../../core/variant-set-plan.js';
import { variantSetVersion } from '../../core/variants.js';
import type { ObjectInventory } from '../../ports/object-inventory.js';
import { derivativesOf } from '../bulk-reads.js';
import { type DeleteImageDependencies, purgeImage } from '../delete-image.js';
import {
  pendingVariants,
  queueVariantRenders,
  stalledVariants,
  type VariantRenderDependencies,
} from '../variant-renders.js';
import type { Finding } from './findings.js';

export interface RepairDependencies
  extends VariantRenderDependencies,
    Omit<DeleteImageDependencies, 'now' | 'catalog' | 'ownerIndex' | 'vectors'> {
  inventory: ObjectInventory;
}

/** What a repair did: fixed it, or found on a second look that it no longer holds (nothing done). */
export type RepairOutcome = { repaired: true; jobs: RenderJob[] } | { repaired: false };

const fixed: RepairOutcome = { repaired: true, jobs: [] };
const cleared: RepairOutcome = { repaired: false };

/**
 * Repairs one finding, after checking with fresh, consistent reads that it still holds: the scan
 * that found it is no snapshot, and the pipeline kept working meanwhile. Every repair is a
 * conditional write or a removal of what nothing refers to, so running it twice changes nothing more.
 * `linkCounts` is a second, later count of the links of the images whose counts were found wrong.
 */
export async function repairFinding(
  deps: RepairDependencies,
  finding: Finding,
  context: { stuckAfterMs: number; linkCounts: ReadonlyMap<string, number> },
): Promise<RepairOutcome> {
  switch (finding.kind) {
    case 'orphan_original':
    case 'orphan_derivatives': {
      // Read right before the delete. Ingest writes the record before the original, so only an
      // ingest that does both in the instant between this read and the delete is missed; S3 cannot
      // close that instant, as a conditional delete compares ETags and bytes stored again keep theirs.
      if (await deps.catalog.getImage(finding.imageId)) return cleared;
      const keys = finding.kind === 'orphan_original' ? [finding.key] : finding.keys;
      await deps.inventory.remove('images', keys);
      return fixed;
    }
    case 'dangling_link':
      return (await deps.catalog.deleteDanglingLink(finding.owner, finding.imageId)) ? fixed : cleared;
    case 'ref_count_mismatch': {
      // Both scans must agree: a link added or removed during the first would skew its count.
      if (context.linkCounts.get(finding.imageId) !== finding.links) return cleared;
      const corrected = await deps.catalog.correctRefCount(finding.imageId, finding.refCount, finding.links);
      return corrected ? fixed : cleared;
    }
    case 'unlinked_image': {
      if (context.linkCounts.has(finding.imageId)) return cleared;
      const at = deps.now();
      if (!(await deps.catalog.markUnlinkedImageForDeletion(finding.imageId, finding.refCount, at)))
        return cleared;
      await purgeImage(deps, finding.imageId, at);
      return fixed;
    }
    case 'stuck_deletion': {
      const image = await deps.catalog.getImage(finding.imageId);
      if (!image?.deletingSince) return cleared;
      await purgeImage(deps, finding.imageId, image.deletingSince);
      return fixed;
    }
    case 'missing_original': {
      const image = await deps.catalog.getImage(finding.imageId);
      if (!image || image.deletingSince || image.status === 'failed') return cleared;
      if (await deps.inventory.exists('images', originalKey(finding.imageId))) return cleared;
      // Even a `ready` image: what it serves stays, but it can never be rendered again.
      await deps.catalog.failImage(
        finding.imageId,
        { reason: 'original_missing', message: 'the original is gone from the image bucket' },
        { evenIfReady: true },
      );
      return fixed;
    }
    case 'missing_variants':
      return queueMissingVariants(deps, finding.imageId, context.stuckAfterMs);
    case 'unmarked_ready':
      return markReady(deps, finding.imageId);
    case 'abandoned_upload':
      return removeAbandonedUpload(deps, finding);
  }
}

/** Renders again what is still missing now: variants gone from the bucket, and stalled ones. */
async function queueMissingVariants(
  deps: RepairDependencies,
  imageId: string,
  stuckAfterMs: number,
): Promise<RepairOutcome> {
  const image = await deps.catalog.getImage(imageId);
  const current = variantSetVersion(deps.settings.variants);
  if (!image || image.deletingSince || image.status === 'failed' || image.variantSetVersion !== current)
    return cleared;
  const keys = (await derivativesOf(deps.inventory, imageId)).map((object) => object.key);
  const stored = storedVariants(imageId, deps.settings.variants, keys);
  const stalled = stalledVariants(image, deps.settings, deps.now(), stuckAfterMs);
  const render = deps.settings.variants
    .map((v) => v.name)
    .filter((name) => (image.variants[name] === 'ready' && !stored.has(name)) || stalled.includes(name));
  if (render.length === 0) return cleared;
  const variants = {
    ...image.variants,
    ...Object.fromEntries(render.map((name) => [name, 'pending' as const])),
  };
  const jobs = await queueVariantRenders(deps, image, variants, render);
  return jobs ? { repaired: true, jobs } : cleared;
}

/** Marks `ready` an image still `processing` with every variant done (as the last render would have). */
async function markReady(deps: RepairDependencies, imageId: string): Promise<RepairOutcome> {
  const image = await deps.catalog.getImage(imageId);
  const current = variantSetVersion(deps.settings.variants);
  if (
    image?.status !== 'processing' ||
    image.variantSetVersion !== current ||
    pendingVariants(image, deps.settings).length > 0
  )
    return cleared;
  return (await queueVariantRenders(deps, image, image.variants, [])) ? fixed : cleared;
}

/**
 * Removes upload bytes no ingest will take any more, deciding a still `pending` upload as
 * `abandoned` first. An accepted upload's bytes stay while its image has no jobs queued: its
 * ingest may not have copied the original yet.
 */
async function removeAbandonedUpload(
  deps: RepairDependencies,
  finding: Extract<Finding, { kind: 'abandoned_upload' }>,
): Promise<RepairOutcome> {
  const { uploadId } = finding;
  if (uploadId && (await deps.catalog.getUpload(uploadId))?.state === 'pending') {
    try {
      await deps.catalog.rejectUpload(uploadId, {
        reason: 'abandoned',
        message: 'the upload was never ingested; its bytes were removed',
      });
    } catch (error) {
      if (!(error instanceof ConflictError && error.reason === 'upload_not_pending')) throw error;
    }
  }
  const upload = uploadId ? await deps.catalog.getUpload(uploadId) : undefined;
  if (upload?.state === 'pending') return cleared;
  if (upload?.state === 'accepted' && upload.imageId) {
    const image = await deps.catalog.getImage(upload.imageId);
    if (image && !image.jobsQueuedAt) return cleared;
  }
  await deps.inventory.remove('uploads', [finding.key]);
  return fixed;
}
