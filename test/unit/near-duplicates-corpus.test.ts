import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hammingDistance, NEAR_DUPLICATE_MAX_DISTANCE } from '../../lambdas/core/near-duplicates.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { laneOf } from '../../lambdas/core/render-jobs.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { CORPUS_DIR, distinctCorpusPhotos, readCorpusManifest } from '../support/corpus.js';

/**
 * Real photographs, shared beside the repository when a machine has them: distinct pictures must
 * never be near-duplicates of each other, and one picture stored under each EXIF orientation must be
 * one. Fingerprints are taken as the thumbnails lane takes them.
 */
const THUMBNAILS = DEFAULT_VARIANTS.filter((v) => laneOf(v) === 'thumbnails').map((v) => ({
  ...v,
  formats: [{ format: 'jpeg' as const, quality: 80 }],
}));

async function fingerprint(file: string): Promise<string> {
  const { fingerprint } = await renderVariants(readFileSync(join(CORPUS_DIR, file)), THUMBNAILS, {
    maxInputPixels: 100_000_000,
    variantSet: DEFAULT_VARIANTS,
    fingerprint: true,
  });
  if (!fingerprint) throw new Error(`${file} got no fingerprint`);
  return fingerprint.phash;
}

const photos = distinctCorpusPhotos();
const files = new Set((readCorpusManifest() ?? []).map((entry) => entry.file));
const orientations = (name: string) => Array.from({ length: 9 }, (_, i) => `recurser__${name}_${i}.jpg`);

describe.skipIf(photos.length === 0)('near-duplicates among the corpus photos', () => {
  it('finds no two distinct photos near each other', async () => {
    expect(photos.length).toBeGreaterThan(20);
    const hashes = new Map<string, string>();
    for (const photo of photos) hashes.set(photo, await fingerprint(photo));
    const near: string[] = [];
    for (const [i, a] of photos.entries()) {
      for (const b of photos.slice(i + 1)) {
        const distance = hammingDistance(hashes.get(a) ?? '', hashes.get(b) ?? '');
        if (distance <= NEAR_DUPLICATE_MAX_DISTANCE) near.push(`${a} ~ ${b}: ${distance}`);
      }
    }
    expect(near).toEqual([]);
  });

  it.each(['Landscape', 'Portrait'].filter((name) => orientations(name).every((file) => files.has(file))))(
    'finds %s_0 to _8, one photo under each EXIF orientation, near each other',
    async (name) => {
      const [upright, ...turned] = await Promise.all(orientations(name).map(fingerprint));
      for (const hash of turned) {
        expect(hammingDistance(hash, upright ?? '')).toBeLessThanOrEqual(NEAR_DUPLICATE_MAX_DISTANCE);
      }
    },
  );
});
