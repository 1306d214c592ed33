import { dominantColours } from '../core/dominant-colours.js';
import {
  type Enrichment,
  type EnrichmentFailureReason,
  type EnrichmentJob,
  type Moderation,
  normaliseTags,
  type Tag,
} from '../core/enrichment.js';
import { DependencyRefusedError } from '../core/errors.js';
import { analysisKey } from '../core/keys.js';
import { UnreadableAnalysisImageError } from '../core/render/analysis-image.js';
import type { EnrichmentSettings, Settings } from '../core/settings.js';
import type { RequestPathCatalog } from '../ports/catalog.js';
import type { DerivativeStore } from '../ports/derivative-store.js';
import type { Captioner, Embedder, Moderator, Tagger } from '../ports/enrichment.js';
import type { ImageEmbeddings } from '../ports/image-embeddings.js';
import { type OwnerIndexDependencies, reindexImage } from './owner-index-sync.js';
import { fileIfSettled } from './variant-renders.js';

/** The models enrichment runs; only the tagger is always there (the rest follow the settings). */
export interface EnrichmentModels {
  tagger: Tagger;
  captioner?: Captioner | undefined;
  embedder?: Embedder | undefined;
  moderator?: Moderator | undefined;
}

export interface EnrichDependencies extends OwnerIndexDependencies {
  settings: EnrichmentSettings;
  /** All the settings: enough to tell when an enrichment is the last thing its image waited for. */
  pipelineSettings: Settings;
  catalog: RequestPathCatalog;
  /** Where the thumbnails lane left the analysis image. */
  store: Pick<DerivativeStore, 'readDerivative'>;
  models: EnrichmentModels;
  embeddings: ImageEmbeddings;
  now: () => Date;
}

export type EnrichOutcome =
  | { outcome: 'enriched'; imageId: string; tags: number; owners: number }
  /** Nothing to do: the image is gone, or expects another version. */
  | { outcome: 'stale'; imageId: string; why: 'image_gone' | 'other_version' }
  | { outcome: 'failed'; imageId: string; reason: EnrichmentFailureReason };

/**
 * Looks at one image and records what the models say: tags, dominant colours, and as configured a
 * caption, moderation labels and an embedding; then files it all for every owner of the image.
 *
 * Safe to repeat: a redelivered job for an image already done on its version runs again and writes
 * the same record, entries and vectors under the same keys (a model may word a caption differently,
 * never doubles anything). A model's lasting refusal of this image is recorded as the enrichment's
 * failure at once; any other failure fails the message, which SQS delivers again, and the handler
 * marks the enrichment `failed` on the last delivery. The image itself is never touched.
 */
export async function enrichImage(deps: EnrichDependencies, job: EnrichmentJob): Promise<EnrichOutcome> {
  const { imageId, version } = job;
  const image = await deps.catalog.getImage(imageId);
  if (!image || image.deletingSince) return { outcome: 'stale', imageId, why: 'image_gone' };
  // A `failed` enrichment is tried again when its job is: a message redriven from the dead-letter
  // queue once the cause (a model not enabled, say) is fixed.
  if (image.enrichment?.version !== version) return { outcome: 'stale', imageId, why: 'other_version' };

  const jpeg = await deps.store.readDerivative(analysisKey(imageId));
  if (!jpeg) {
    // Written before the job was queued, and removed only with the image: gone means deleted.
    return { outcome: 'stale', imageId, why: 'image_gone' };
  }
  let enrichment: Awaited<ReturnType<typeof look>>;
  try {
    enrichment = await look(deps, version, jpeg);
  } catch (error) {
    const reason = lastingFailure(error);
    if (!reason) throw error;
    await deps.catalog.failEnrichment(imageId, version, { reason, message: (error as Error).message });
    return { outcome: 'failed', imageId, reason };
  }
  if (enrichment.embedding && enrichment.vector) {
    await deps.embeddings.put(imageId, { modelId: enrichment.embedding.modelId, vector: enrichment.vector });
  }
  const { vector: _vector, ...record } = enrichment;
  const updated = await deps.catalog.recordEnrichment(imageId, record);
  if (!updated) return { outcome: 'stale', imageId, why: 'other_version' };
  const owners = await reindexImage(deps, imageId, image, updated);
  await fileIfSettled(deps.catalog, deps.pipelineSettings, updated);
  return { outcome: 'enriched', imageId, tags: record.tags?.length ?? 0, owners: owners.length };
}

/** Every enabled model on the analysis image; the caption after the tags, which a template needs. */
async function look(
  deps: EnrichDependencies,
  version: string,
  jpeg: Buffer,
): Promise<Enrichment & { vector?: Float32Array | undefined }> {
  const { models, settings } = deps;
  const [rawTags, colours, moderation, vector] = await Promise.all([
    models.tagger.tag(jpeg),
    dominantColours(jpeg),
    models.moderator ? moderate(models.moderator, jpeg, settings.moderation.minConfidence) : undefined,
    models.embedder?.embedImage(jpeg),
  ]);
  const tags: Tag[] = normaliseTags(rawTags, settings.tags);
  const caption = models.captioner ? await models.captioner.caption(jpeg, tags) : undefined;
  const embedder = models.embedder;
  return {
    status: 'done',
    version,
    enrichedAt: deps.now(),
    tags,
    caption,
    colours,
    moderation,
    embedding: embedder && {
      modelId: embedder.modelId,
      dimensions: embedder.dimensions,
      semantic: embedder.semantic,
    },
    vector,
  };
}

/**
 * A failure that would recur on every retry, as the enrichment's failure: a model's lasting no about
 * this image, or an analysis image that does not decode. A refused request (access, a model not
 * enabled) is the deployment's fault, not the image's: it is retried until the dead-letter queue.
 */
function lastingFailure(error: unknown): EnrichmentFailureReason | undefined {
  if (error instanceof UnreadableAnalysisImageError) return 'analysis_unreadable';
  if (error instanceof DependencyRefusedError && error.reason !== 'request_refused') return 'model_refused';
  return undefined;
}

async function moderate(moderator: Moderator, jpeg: Buffer, minConfidence: number): Promise<Moderation> {
  const labels = await moderator.moderate(jpeg);
  return { labels, flagged: labels.some((label) => label.confidence >= minConfidence) };
}
