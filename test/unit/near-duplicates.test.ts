import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  FINGERPRINT_VERSION,
  type Fingerprint,
  fingerprintDistance,
  fingerprintOf,
  fingerprintTerms,
  HASH_BANDS,
  HASH_GRID,
  hammingDistance,
  hashBands,
  lookupTerms,
  lumaGrid,
  NEAR_DUPLICATE_MAX_DISTANCE,
  needsFingerprint,
  perceptualHash,
} from '../../lambdas/core/near-duplicates.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { laneOf } from '../../lambdas/core/render-jobs.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { makePhotoLike, nearCopiesOf } from '../support/images.js';

/** What the thumbnails lane renders of the default set, in one format (the fingerprint precedes encoding). */
const THUMBNAIL_VARIANTS = DEFAULT_VARIANTS.filter((v) => laneOf(v) === 'thumbnails').map((v) => ({
  ...v,
  formats: [{ format: 'jpeg' as const, quality: 80 }],
}));

/** The fingerprint as the thumbnails lane takes it: from the pixels decoded for its variants. */
async function laneFingerprint(bytes: Buffer): Promise<Fingerprint> {
  const { fingerprint } = await renderVariants(bytes, THUMBNAIL_VARIANTS, {
    maxInputPixels: 100_000_000,
    variantSet: DEFAULT_VARIANTS,
    fingerprint: true,
  });
  if (!fingerprint) throw new Error('the render made no fingerprint');
  return fingerprint;
}

/** A hash with the given bits (0 = most significant) flipped. */
function flip(hash: string, bits: readonly number[]): string {
  let value = BigInt(`0x${hash}`);
  for (const bit of bits) value ^= 1n << BigInt(63 - bit);
  return value.toString(16).padStart(16, '0');
}

describe('the perceptual hash of a photo-like picture', async () => {
  const original = await makePhotoLike({ width: 1200, height: 800, seed: 1 });
  const copies = await nearCopiesOf(original);
  const hash = await laneFingerprint(original);

  it('is 64 bits of the current version, the same for the same bytes', async () => {
    expect(hash).toEqual({ phash: expect.stringMatching(/^[0-9a-f]{16}$/), version: FINGERPRINT_VERSION });
    expect(fingerprintDistance(await laneFingerprint(original), hash)).toBe(0);
  });

  it.each(Object.keys(copies) as (keyof typeof copies)[])(
    'finds the copy %s within the threshold',
    async (copy) => {
      const distance = fingerprintDistance(await laneFingerprint(copies[copy]), hash);
      expect(distance).toBeLessThanOrEqual(NEAR_DUPLICATE_MAX_DISTANCE);
    },
  );

  it('puts other pictures beyond the threshold', async () => {
    for (const seed of [2, 3, 4, 5]) {
      const other = await laneFingerprint(await makePhotoLike({ width: 1200, height: 800, seed }));
      expect(fingerprintDistance(other, hash)).toBeGreaterThan(NEAR_DUPLICATE_MAX_DISTANCE);
    }
  });

  it('does not compare hashes of two versions', () => {
    expect(fingerprintDistance(hash, { ...hash, version: hash.version + 1 })).toBeUndefined();
  });
});

describe('the fingerprint in a render', () => {
  const options = { maxInputPixels: 100_000_000, variantSet: DEFAULT_VARIANTS };

  it('is made only when asked for', async () => {
    const bytes = await makePhotoLike({ width: 400, height: 300, seed: 6 });
    expect((await renderVariants(bytes, THUMBNAIL_VARIANTS, options)).fingerprint).toBeUndefined();
  });

  it("is the upright picture's, whatever EXIF orientation it is stored under", async () => {
    const upright = await makePhotoLike({ width: 400, height: 300, seed: 7 });
    // Stored turned a quarter anticlockwise, with the tag that turns it back (6: 90° clockwise).
    const stored = await sharp(upright).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const distance = fingerprintDistance(await laneFingerprint(stored), await laneFingerprint(upright));
    expect(distance).toBeLessThanOrEqual(NEAR_DUPLICATE_MAX_DISTANCE);
  });

  it("is an animation's first frame's", async () => {
    const frames = await Promise.all(
      [8, 9].map(async (seed) =>
        sharp(await makePhotoLike({ width: 200, height: 150, seed }))
          .png()
          .toBuffer(),
      ),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    const [first, second] = await Promise.all(frames.map(laneFingerprint));
    const animated = await laneFingerprint(gif);
    expect(fingerprintDistance(animated, first as Fingerprint)).toBeLessThanOrEqual(
      NEAR_DUPLICATE_MAX_DISTANCE,
    );
    expect(fingerprintDistance(animated, second as Fingerprint)).toBeGreaterThan(NEAR_DUPLICATE_MAX_DISTANCE);
  });
});

describe('the luma grid', () => {
  const pixels = (width: number, height: number, channels: 1 | 2 | 3 | 4, value: (i: number) => number) => ({
    data: Uint8Array.from({ length: width * height * channels }, (_, i) => value(i)),
    width,
    height,
    channels,
  });

  it('averages each box of the picture', () => {
    // Left half black, right half white: each cell is one or the other.
    const grid = lumaGrid(pixels(64, 64, 1, (i) => (i % 64 < 32 ? 0 : 255)));
    expect(grid).toHaveLength(HASH_GRID * HASH_GRID);
    expect([grid[0], grid[HASH_GRID / 2 - 1], grid[HASH_GRID / 2], grid[HASH_GRID * HASH_GRID - 1]]).toEqual([
      0, 0, 255, 255,
    ]);
  });

  it('sees transparent pixels as white, as a JPEG shows them', () => {
    const transparentBlack = lumaGrid(pixels(40, 40, 4, (i) => (i % 4 === 3 ? 0 : 0)));
    expect(new Set(transparentBlack)).toEqual(new Set([255]));
  });

  it('samples a picture smaller than the grid', () => {
    const grid = lumaGrid(pixels(3, 2, 3, (i) => (i < 9 ? 30 : 200)));
    expect(new Set(grid)).toEqual(new Set([30, 200]));
  });

  it('refuses a hash of a grid of another size', () => {
    expect(() => perceptualHash(new Float64Array(100))).toThrow(RangeError);
  });

  it('hashes pixels in one call as the lane does', () => {
    const fingerprint = fingerprintOf(pixels(64, 48, 3, (i) => (i * 7) % 251));
    expect(fingerprint).toEqual({
      phash: expect.stringMatching(/^[0-9a-f]{16}$/),
      version: FINGERPRINT_VERSION,
    });
  });
});

describe('distances and bands', () => {
  it.each([
    ['0000000000000000', '0000000000000000', 0],
    ['0000000000000000', 'ffffffffffffffff', 64],
    ['8000000000000001', '0000000000000000', 2],
    ['00ff00ff00ff00ff', '00ff00ff00ff00fe', 1],
  ])('%s and %s are %i bits apart', (a, b, distance) => {
    expect(hammingDistance(a, b)).toBe(distance);
  });

  it('splits a hash into 16-bit bands, most significant first', () => {
    expect(hashBands('0123456789abcdef')).toEqual([0x0123, 0x4567, 0x89ab, 0xcdef]);
    expect(() => hashBands('0123')).toThrow(RangeError);
    expect(() => hashBands('0123456789ABCDEF')).toThrow(RangeError);
  });

  it('files a fingerprint under one versioned term per band', () => {
    expect(fingerprintTerms({ phash: '0123456789abcdef', version: 1 })).toEqual([
      'phash:v1:0:0123',
      'phash:v1:1:4567',
      'phash:v1:2:89ab',
      'phash:v1:3:cdef',
    ]);
  });

  it("looks up each band's value and its 16 one-bit neighbours", () => {
    const terms = lookupTerms({ phash: '0000ffff00000000', version: 1 });
    expect(terms).toHaveLength(HASH_BANDS * 17);
    expect(new Set(terms).size).toBe(terms.length);
    expect(terms).toEqual(
      expect.arrayContaining(['phash:v1:0:0000', 'phash:v1:0:8000', 'phash:v1:1:7fff', 'phash:v1:3:0001']),
    );
    expect(terms).not.toContain('phash:v1:0:0003');
  });

  it('reaches every hash within the threshold, by pigeonhole', () => {
    // The neighbours reach one bit per band: enough only while the threshold spreads over the bands so.
    expect(Math.floor(NEAR_DUPLICATE_MAX_DISTANCE / HASH_BANDS)).toBeLessThanOrEqual(1);
    const hash = '3c5a96f00fe1b2d4';
    const fingerprint = { phash: hash, version: 1 };
    const reachable = new Set(lookupTerms(fingerprint));
    // The worst spreads of 7 flipped bits: 2, 2, 2, 1 over the bands, in every order.
    for (let oneBitBand = 0; oneBitBand < HASH_BANDS; oneBitBand++) {
      const bits = [0, 1, 2, 3].flatMap((band) =>
        band === oneBitBand ? [band * 16 + 5] : [band * 16 + 3, band * 16 + 11],
      );
      const near = { phash: flip(hash, bits), version: 1 };
      expect(hammingDistance(near.phash, hash)).toBe(NEAR_DUPLICATE_MAX_DISTANCE);
      expect(fingerprintTerms(near).some((term) => reachable.has(term))).toBe(true);
    }
    // Two bits in every band (8 in all) is out of reach: the lookup is exactly as wide as it must be.
    const far = {
      phash: flip(
        hash,
        [0, 1, 2, 3].flatMap((band) => [band * 16, band * 16 + 9]),
      ),
      version: 1,
    };
    expect(fingerprintTerms(far).some((term) => reachable.has(term))).toBe(false);
  });
});

describe('the upkeep', () => {
  const current = { phash: '0'.repeat(16), version: FINGERPRINT_VERSION };
  it.each([
    ['a ready image without a fingerprint', { status: 'ready' }, true],
    ['one of another version', { status: 'ready', fingerprint: { ...current, version: 0 } }, true],
    ['one of this version', { status: 'ready', fingerprint: current }, false],
    ['an image still rendering', { status: 'processing' }, false],
    ['a failed image', { status: 'failed' }, false],
    ['an image being deleted', { status: 'ready', deletingSince: new Date() }, false],
  ])('fingerprints %s again: %s', (_, image, expected) => {
    expect(needsFingerprint(image, { nearDuplicates: true })).toBe(expected);
    expect(needsFingerprint(image, { nearDuplicates: false })).toBe(false);
  });
});
