/**
 * What the deployment's upkeep keeps current, and how it finds what is not without reading every
 * image (docs/adr/0012-upkeep-by-variant-set-index.md). An image is settled when nothing is left to
 * do for it under the deployment's settings: ready on the variant set, and what the thumbnails lane
 * derives (fingerprint, enrichment) made by the versions the settings ask for. Settled images are
 * filed under the upkeep version they settled on; a deploy that changes that version makes them
 * stale all at once without a write, and the upkeep finds them by the old version.
 */
import { enrichmentVersion } from './enrichment.js';
import { FINGERPRINT_VERSION } from './near-duplicates.js';
import type { Settings } from './settings.js';
import { variantSetVersion } from './variants.js';

/**
 * Everything an image's settled state depends on: the variant set, and, as far as they are on, the
 * fingerprint's and the enrichment's versions. A deploy changing any of them changes this.
 */
export function upkeepVersion(
  settings: Pick<Settings, 'variants' | 'nearDuplicates' | 'enrichment'>,
): string {
  const derived = [
    settings.nearDuplicates ? `f${FINGERPRINT_VERSION}` : undefined,
    settings.enrichment.enabled ? `e${enrichmentVersion(settings.enrichment)}` : undefined,
  ];
  return [variantSetVersion(settings.variants), ...derived].filter(Boolean).join('.');
}

/**
 * Which of `shards` index partitions an image's upkeep entry goes to: from the leading hex digits of
 * its SHA-256 id, so images spread evenly and an image keeps its shard for life.
 */
export function upkeepShard(imageId: string, shards: number): number {
  return Number.parseInt(imageId.slice(0, 8), 16) % shards;
}
