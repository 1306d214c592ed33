import { enrichmentVersion } from '../core/enrichment.js';
import { analysisKey } from '../core/keys.js';
import { renderAnalysisImage } from '../core/render/analysis-image.js';
import type { Settings } from '../core/settings.js';
import type { ImageRecord, RequestPathCatalog } from '../ports/catalog.js';
import type { DerivativeStore } from '../ports/derivative-store.js';
import type { EnrichmentQueue } from '../ports/enrichment-queue.js';

export interface QueueEnrichmentDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  store: Pick<DerivativeStore, 'putDerivative' | 'deleteDerivatives'>;
  /** Absent where enrichment is off. */
  enrichmentQueue?: EnrichmentQueue | undefined;
}

/**
 * What the thumbnails lane does for enrichment once an image's thumbnails are recorded: the analysis
 * image from the original it already holds, then the image marked `pending` and the job queued.
 * Nothing when enrichment is off or already done or failed on this version. The upload never waits
 * for any of it. Returns whether a job was queued.
 */
export async function queueEnrichment(
  deps: QueueEnrichmentDependencies,
  image: ImageRecord,
  original: Buffer,
): Promise<boolean> {
  const { settings, enrichmentQueue } = deps;
  if (!enrichmentQueue || !settings.enrichment.enabled) return false;
  const version = enrichmentVersion(settings.enrichment);
  const { imageId } = image;
  if (image.enrichment?.version === version && image.enrichment.status !== 'pending') return false;

  const key = analysisKey(imageId);
  const jpeg = await renderAnalysisImage(original, { maxInputPixels: settings.maxInputPixels });
  await deps.store.putDerivative({ key, bytes: jpeg, contentType: 'image/jpeg', metadata: {} });
  if (!(await deps.catalog.queueEnrichment(imageId, version))) {
    // Done by a racing delivery, or deleted meanwhile: a deleted image keeps nothing of ours.
    const current = await deps.catalog.getImage(imageId);
    if (!current || current.deletingSince) await deps.store.deleteDerivatives([key]);
    return false;
  }
  await enrichmentQueue.enqueue({ imageId, version });
  return true;
}
