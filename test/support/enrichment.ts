import type { DominantColour, Enrichment } from '../../lambdas/core/enrichment.js';
import type { RequestPathCatalog } from '../../lambdas/ports/catalog.js';
import type { OwnerIndex } from '../../lambdas/ports/owner-index.js';
import { reindexImage } from '../../lambdas/services/owner-index-sync.js';

/** A finished enrichment: tags at 0.9, a template caption, the given colours. */
export function enrichment(fields: {
  tags?: string[];
  caption?: string;
  colours?: DominantColour[];
}): Enrichment {
  return {
    status: 'done',
    version: 'test',
    tags: (fields.tags ?? []).map((name) => ({ name, confidence: 0.9 })),
    ...(fields.caption ? { caption: { text: fields.caption, source: 'template' } } : {}),
    colours: fields.colours ?? [],
  };
}

/**
 * What the enrichment lane does with its results, without its models: the image queued for the
 * result's version, the result recorded, then filed for every owner who links it.
 */
export async function enrich(
  target: { catalog: RequestPathCatalog; ownerIndex: OwnerIndex },
  imageId: string,
  result: Enrichment,
): Promise<void> {
  const before = await target.catalog.getImage(imageId);
  await target.catalog.queueEnrichment(imageId, result.version);
  const after = await target.catalog.recordEnrichment(imageId, result);
  if (!after) throw new Error(`image ${imageId} is gone`);
  await reindexImage(target, imageId, before, after);
}
