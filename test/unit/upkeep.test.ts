import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { imageFromItem, imageToItem } from '../../lambdas/adapters/aws/catalog-items.js';
import { CATALOG_TABLE } from '../../lambdas/contract.js';
import { enrichmentVersion } from '../../lambdas/core/enrichment.js';
import { FINGERPRINT_VERSION } from '../../lambdas/core/near-duplicates.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { upkeepShard, upkeepVersion } from '../../lambdas/core/upkeep.js';
import { DEFAULT_VARIANTS, variantSetVersion } from '../../lambdas/core/variants.js';
import type { ImageRecord } from '../../lambdas/ports/catalog.js';
import { isSettled } from '../../lambdas/services/variant-renders.js';

const settings = parseSettings();
const imageId = (n: number) => createHash('sha256').update(String(n)).digest('hex');

/** An image as the render that finished it left it under `settings`. */
function settledImage(overrides: Partial<ImageRecord> = {}): ImageRecord {
  return {
    imageId: imageId(1),
    status: 'ready',
    variantSetVersion: variantSetVersion(settings.variants),
    refCount: 1,
    createdAt: new Date('2026-12-01T00:00:00Z'),
    createdByUpload: 'upload-1',
    jobsQueuedAt: new Date('2026-12-01T00:00:01Z'),
    variants: Object.fromEntries(settings.variants.map((v) => [v.name, 'ready' as const])),
    fingerprint: { phash: '0123456789abcdef', version: FINGERPRINT_VERSION },
    format: 'jpeg',
    width: 640,
    height: 480,
    bytes: 1000,
    ...overrides,
  } as ImageRecord;
}

describe('the upkeep version', () => {
  it('changes with the variant set and with what the thumbnails lane derives, and only then', () => {
    const base = upkeepVersion(settings);
    expect(upkeepVersion(parseSettings())).toBe(base);
    const changed = [
      parseSettings({ variants: DEFAULT_VARIANTS.slice(1) }),
      parseSettings({ nearDuplicates: false }),
      parseSettings({ enrichment: { enabled: true } }),
    ].map(upkeepVersion);
    expect(new Set([base, ...changed]).size).toBe(4);
    // Each enrichment version its own.
    const enriched = parseSettings({ enrichment: { enabled: true } });
    const captionless = parseSettings({ enrichment: { enabled: true, captions: { enabled: false } } });
    expect(enrichmentVersion(captionless.enrichment)).not.toBe(enrichmentVersion(enriched.enrichment));
    expect(upkeepVersion(captionless)).not.toBe(upkeepVersion(enriched));
  });
});

describe('upkeep shards', () => {
  it('spread images over every shard about evenly, each image always in the same one', () => {
    const { shards } = CATALOG_TABLE.upkeepIndex;
    const counts = Array<number>(shards).fill(0);
    const images = 16_000;
    for (let n = 0; n < images; n++)
      counts[upkeepShard(imageId(n), shards)] = (counts[upkeepShard(imageId(n), shards)] ?? 0) + 1;
    // A fair share is 1,000; SHA-256 is uniform, so each shard is within a few standard deviations (~31).
    for (const count of counts) expect(Math.abs(count - images / shards)).toBeLessThan(200);
    expect(upkeepShard(imageId(7), shards)).toBe(upkeepShard(imageId(7), shards));
  });
});

describe('settled images', () => {
  it('are ready on the current set with every variant, fingerprint and enrichment made', () => {
    expect(isSettled(settledImage(), settings)).toBe(true);
    const unsettled: Array<[string, Partial<ImageRecord>]> = [
      ['still rendering', { status: 'processing' }],
      [
        'a variant pending',
        { variants: { ...settledImage().variants, [settings.variants[0]?.name ?? '']: 'pending' } },
      ],
      ['a variant of the set missing', { variants: {} }],
      ['on another variant set', { variantSetVersion: 'older' }],
      ['no fingerprint', { fingerprint: undefined }],
      [
        'an old fingerprint',
        { fingerprint: { phash: '0123456789abcdef', version: FINGERPRINT_VERSION + 1 } },
      ],
      ['being deleted', { deletingSince: new Date() }],
      ['failed', { status: 'failed' }],
    ];
    for (const [why, overrides] of unsettled)
      expect(isSettled(settledImage(overrides), settings), why).toBe(false);
  });

  it('with enrichment on, once the enrichment of this version is done or failed for good', () => {
    const enriching = parseSettings({ enrichment: { enabled: true } });
    const version = enrichmentVersion(enriching.enrichment);
    const withEnrichment = (status: 'pending' | 'done' | 'failed', v = version) =>
      settledImage({ enrichment: { status, version: v } as ImageRecord['enrichment'] });
    expect(isSettled(settledImage(), enriching)).toBe(false);
    expect(isSettled(withEnrichment('pending'), enriching)).toBe(false);
    expect(isSettled(withEnrichment('done', 'older'), enriching)).toBe(false);
    expect(isSettled(withEnrichment('done'), enriching)).toBe(true);
    expect(isSettled(withEnrichment('failed'), enriching)).toBe(true);
  });
});

describe('an image item’s upkeep key', () => {
  const key = CATALOG_TABLE.upkeepIndex.partitionKey;
  const shard = upkeepShard(imageId(1), CATALOG_TABLE.upkeepIndex.shards);

  it('files a new image as unsettled, a settled one under its version, a failed one nowhere', () => {
    expect(imageToItem(settledImage({ status: 'processing' }))[key]).toBe(`unsettled#${shard}`);
    expect(imageToItem(settledImage({ settledOn: 'v1.f1' }))[key]).toBe(`v1.f1#${shard}`);
    expect(imageToItem(settledImage({ status: 'failed' }))).not.toHaveProperty(key);
  });

  it('reads back as the version the image settled on, and is no field of the record otherwise', () => {
    for (const settledOn of [undefined, 'v1.f1.eabc']) {
      const image = imageFromItem(imageToItem(settledImage({ settledOn })));
      expect(image.settledOn).toBe(settledOn);
      expect(image).not.toHaveProperty(key);
    }
  });
});
