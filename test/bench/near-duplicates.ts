/**
 * `npx tsx test/bench/near-duplicates.ts`: the measurements behind the near-duplicate threshold
 * (docs/near-duplicates.md). Fingerprints are taken as the thumbnails lane takes them (the default
 * variant set's thumbnail variants, from the pixels decoded for them), of the corpus's distinct
 * photos (`distinctCorpusPhotos`) and of generated photo-like pictures: how far each one's copies
 * (re-encoded, resized, cropped) land from it, how far unrelated pictures are from each other, and
 * what a fingerprint costs on top of the decode.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  fingerprintOf,
  hammingDistance,
  NEAR_DUPLICATE_MAX_DISTANCE,
} from '../../lambdas/core/near-duplicates.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { laneOf } from '../../lambdas/core/render-jobs.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { CORPUS_DIR, distinctCorpusPhotos } from '../support/corpus.js';
import { makePhotoLike } from '../support/images.js';
import { median, percentile } from './stats.js';

const THUMBNAILS = DEFAULT_VARIANTS.filter((v) => laneOf(v) === 'thumbnails').map((v) => ({
  ...v,
  formats: [{ format: 'jpeg' as const, quality: 80 }],
}));

async function fingerprint(bytes: Buffer): Promise<string> {
  const { fingerprint } = await renderVariants(bytes, THUMBNAILS, {
    maxInputPixels: 100_000_000,
    variantSet: DEFAULT_VARIANTS,
    fingerprint: true,
  });
  if (!fingerprint) throw new Error('no fingerprint');
  return fingerprint.phash;
}

/** The copies measured, each made from the upright picture. */
const COPIES: Record<string, (upright: Buffer, width: number, height: number) => Promise<Buffer>> = {
  'JPEG q60': (upright) => sharp(upright).jpeg({ quality: 60 }).toBuffer(),
  'resized to 50%': (upright, width) =>
    sharp(upright)
      .resize(Math.round(width / 2))
      .jpeg({ quality: 90 })
      .toBuffer(),
  '1% cropped (right and bottom)': (upright, width, height) =>
    sharp(upright)
      .extract({ left: 0, top: 0, width: Math.round(width * 0.99), height: Math.round(height * 0.99) })
      .jpeg({ quality: 90 })
      .toBuffer(),
  '1% cropped (0.5% off each edge)': (upright, width, height) => {
    const [dx, dy] = [Math.round(width * 0.005), Math.round(height * 0.005)];
    return sharp(upright)
      .extract({ left: dx, top: dy, width: width - 2 * dx, height: height - 2 * dy })
      .jpeg({ quality: 90 })
      .toBuffer();
  },
};

const pictures: { name: string; bytes: Buffer }[] = [
  ...distinctCorpusPhotos().map((file) => ({ name: file, bytes: readFileSync(path.join(CORPUS_DIR, file)) })),
  ...(await Promise.all(
    Array.from({ length: 20 }, async (_, seed) => ({
      name: `generated ${seed + 1}`,
      bytes: await makePhotoLike({ width: 1200, height: 800, seed: seed + 1 }),
    })),
  )),
];

/** `distance: copies` for each distance met, smallest first. */
function histogram(values: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const value of [...values].sort((a, b) => a - b)) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([distance, count]) => `${distance}: ${count}`).join(', ');
}

const hashes = new Map<string, string>();
const copyDistances: Record<string, number[]> = Object.fromEntries(
  Object.keys(COPIES).map((name) => [name, []]),
);
const beyond: string[] = [];
for (const picture of pictures) {
  const upright = await sharp(picture.bytes).rotate().toBuffer();
  const { width = 0, height = 0 } = await sharp(upright).metadata();
  const hash = await fingerprint(picture.bytes);
  hashes.set(picture.name, hash);
  for (const [copy, make] of Object.entries(COPIES)) {
    const distance = hammingDistance(hash, await fingerprint(await make(upright, width, height)));
    copyDistances[copy]?.push(distance);
    if (distance > NEAR_DUPLICATE_MAX_DISTANCE) beyond.push(`${picture.name} ${copy}: ${distance}`);
  }
}

const unrelated: number[] = [];
const names = [...hashes.keys()];
for (const [i, a] of names.entries()) {
  for (const b of names.slice(i + 1))
    unrelated.push(hammingDistance(hashes.get(a) ?? '', hashes.get(b) ?? ''));
}

// The fingerprint's own cost: the hash of pixels the lane has decoded anyway (640×427 RGB).
const decoded = await sharp(pictures[0]?.bytes)
  .rotate()
  .resize(640, 640, { fit: 'inside' })
  .raw()
  .toBuffer({ resolveWithObject: true });
const timings: number[] = [];
for (let run = 0; run < 200; run++) {
  const start = performance.now();
  fingerprintOf({ data: decoded.data, width: decoded.info.width, height: decoded.info.height, channels: 3 });
  timings.push(performance.now() - start);
}

console.log(`${pictures.length} pictures (${distinctCorpusPhotos().length} corpus photos, 20 generated)\n`);
console.log('| copy | max | distances (bits: copies) |\n| --- | --- | --- |');
for (const [copy, distances] of Object.entries(copyDistances)) {
  console.log(`| ${copy} | ${Math.max(...distances)} | ${histogram(distances)} |`);
}
console.log(`\nbeyond ${NEAR_DUPLICATE_MAX_DISTANCE} bits: ${beyond.join('; ') || 'none'}`);
console.log(
  `unrelated pairs: ${unrelated.length}, min ${Math.min(...unrelated)}, p1 ${percentile(unrelated, 0.01)}, median ${median(unrelated)}`,
);
console.log(
  `fingerprint of ${decoded.info.width}×${decoded.info.height} decoded pixels: median ${median(timings).toFixed(2)} ms`,
);
