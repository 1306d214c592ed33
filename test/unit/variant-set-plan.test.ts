import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ImageFacts } from '../../lambdas/core/image-facts.js';
import { derivativeKey, derivativesPrefix, originalKey } from '../../lambdas/core/keys.js';
import { planRenderJobs, planVariantJobs } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import {
  formatOfDerivativeKey,
  imageIdOfDerivativeKey,
  imageIdOfOriginalKey,
} from '../../lambdas/core/stored-keys.js';
import { planVariantSet, staleDerivativeKeys, storedVariants } from '../../lambdas/core/variant-set-plan.js';
import { DEFAULT_VARIANTS, type VariantSpec, variantSetVersion } from '../../lambdas/core/variants.js';

const imageId = createHash('sha256').update('variant-set-plan').digest('hex');
const other = createHash('sha256').update('another image').digest('hex');

const facts = (size: Partial<ImageFacts> = {}) => ({
  imageId,
  format: 'jpeg' as const,
  width: 4000,
  height: 3000,
  orientation: undefined,
  pages: 1,
  ...size,
});

/** Every key a render of these variants writes (page-less). */
const keysOf = (variants: readonly VariantSpec[], id = imageId) =>
  variants.flatMap((variant) => variant.formats.map(({ format }) => derivativeKey(id, variant, format)));

const byName = (name: string) => DEFAULT_VARIANTS.find((v) => v.name === name) as VariantSpec;
const square: VariantSpec = {
  name: 'square',
  fit: 'cover',
  width: 600,
  height: 600,
  formats: [{ format: 'webp', quality: 80 }],
};
const extended = [...DEFAULT_VARIANTS, square];

describe('storedVariants', () => {
  it('counts a variant only when every format is stored at its current revision', () => {
    const small = byName('small');
    const keys = [
      ...keysOf([byName('thumb')]),
      // small without its AVIF, and small's JPEG at another quality's revision
      derivativeKey(imageId, small, 'webp'),
      derivativeKey(
        imageId,
        { ...small, formats: small.formats.map((f) => ({ ...f, quality: 10 })) },
        'jpeg',
      ),
      // another image's medium
      ...keysOf([byName('medium')], other),
    ];
    expect([...storedVariants(imageId, DEFAULT_VARIANTS, keys)]).toEqual(['thumb']);
  });

  it('takes any page of a multi-page variant as stored', () => {
    const small = byName('small');
    const keys = small.formats.map(({ format }) => derivativeKey(imageId, small, format, 2));
    expect([...storedVariants(imageId, DEFAULT_VARIANTS, keys)]).toEqual(['small']);
  });
});

describe('planVariantSet', () => {
  it('keeps what is stored, renders what the new set adds', () => {
    const plan = planVariantSet(facts(), extended, keysOf(DEFAULT_VARIANTS));
    expect(plan).toEqual({
      variants: { thumb: 'ready', small: 'ready', medium: 'ready', large: 'ready', square: 'pending' },
      render: ['square'],
    });
  });

  it('renders a variant whose spec changed, as its key changed', () => {
    const changed = DEFAULT_VARIANTS.map((v) =>
      v.name === 'medium' ? { ...v, width: 1200, height: 1200 } : v,
    );
    expect(planVariantSet(facts(), changed, keysOf(DEFAULT_VARIANTS)).render).toEqual(['medium']);
  });

  it('marks skipped, without a render, what the worker would skip for the original size', () => {
    // 900x600: medium (1024) holds it whole, so large (1920) would only repeat it.
    const plan = planVariantSet(
      facts({ width: 900, height: 600 }),
      extended,
      keysOf(DEFAULT_VARIANTS.slice(0, 3)),
    );
    expect(plan.variants.large).toBe('skipped');
    expect(plan.render).toEqual(['square']);
  });

  it('applies the EXIF orientation before deciding what is skipped', () => {
    const landscape = (name: string, width: number): VariantSpec => ({
      name,
      fit: 'inside',
      width,
      height: width / 2,
      formats: [{ format: 'webp', quality: 80 }],
    });
    const set = [landscape('wide', 2000), landscape('wider', 4000)];
    // Stored 900x1800 and turned a quarter: 1800x900, which both boxes hold whole, so the larger repeats the smaller.
    expect(planVariantSet(facts({ width: 900, height: 1800, orientation: 6 }), set, []).variants).toEqual({
      wide: 'pending',
      wider: 'skipped',
    });
    expect(planVariantSet(facts({ width: 900, height: 1800 }), set, []).variants).toEqual({
      wide: 'pending',
      wider: 'pending',
    });
  });

  it("leaves a multi-page TIFF's page-by-page variants to the worker", () => {
    const plan = planVariantSet(
      facts({ format: 'tiff', width: 500, height: 400, pages: 3 }),
      DEFAULT_VARIANTS,
      [],
    );
    expect(plan.render).toEqual(['thumb', 'small', 'medium', 'large']);
  });
});

describe('staleDerivativeKeys', () => {
  it('names the keys no variant of the set names: other revisions and removed variants', () => {
    const current = keysOf(DEFAULT_VARIANTS);
    const older = keysOf([{ ...byName('small'), width: 600, height: 600 }, square]);
    expect(staleDerivativeKeys([...current, ...older], DEFAULT_VARIANTS).sort()).toEqual([...older].sort());
    expect(staleDerivativeKeys(current, DEFAULT_VARIANTS)).toEqual([]);
  });
});

describe('planVariantJobs', () => {
  const settings = parseSettings({
    variants: [...extended, { ...square, name: 'tiny', width: 96, height: 96 }],
  });

  it('puts the named variants in their lanes, and plans no job for a lane without any', () => {
    expect(planVariantJobs(imageId, settings, ['square', 'tiny'])).toEqual([
      {
        imageId,
        originalKey: originalKey(imageId),
        lane: 'thumbnails',
        variantSetVersion: variantSetVersion(settings.variants),
        variants: ['tiny'],
      },
      {
        imageId,
        originalKey: originalKey(imageId),
        lane: 'variants',
        variantSetVersion: variantSetVersion(settings.variants),
        variants: ['square'],
      },
    ]);
    expect(planVariantJobs(imageId, settings, ['small']).map((job) => job.lane)).toEqual(['variants']);
    expect(planVariantJobs(imageId, settings, [])).toEqual([]);
  });

  it('is what ingest plans when every variant is named', () => {
    expect(
      planVariantJobs(
        imageId,
        settings,
        settings.variants.map((v) => v.name),
      ),
    ).toEqual(planRenderJobs(imageId, settings));
  });

  it('refuses a variant the set does not have', () => {
    expect(() => planVariantJobs(imageId, settings, ['huge'])).toThrow(/huge/);
  });
});

describe('stored keys', () => {
  it('reads the image back from original and derivative keys, of any revision', () => {
    expect(imageIdOfOriginalKey(originalKey(imageId))).toBe(imageId);
    expect(imageIdOfDerivativeKey(derivativeKey(imageId, square, 'webp'))).toBe(imageId);
    expect(imageIdOfDerivativeKey(`${derivativesPrefix(imageId)}anything-at-all.png`)).toBe(imageId);
  });

  it('names no image for keys outside the scheme', () => {
    for (const key of [
      `originals/${imageId}`,
      `originals/00/00/${imageId}`,
      `${originalKey(imageId)}/x`,
      `derived/00/00/${imageId}/thumb.webp`,
      `derived/${imageId.slice(0, 2)}/${imageId.slice(2, 4)}/${imageId.toUpperCase()}/x`,
      'uploads/x',
    ]) {
      expect(imageIdOfOriginalKey(key), key).toBeUndefined();
      expect(imageIdOfDerivativeKey(key), key).toBeUndefined();
    }
  });

  it('reads the format from the extension', () => {
    expect(formatOfDerivativeKey(derivativeKey(imageId, byName('thumb'), 'jpeg'))).toBe('jpeg');
    expect(formatOfDerivativeKey(derivativeKey(imageId, byName('thumb'), 'avif'))).toBe('avif');
    expect(formatOfDerivativeKey('derived/x.png')).toBeUndefined();
  });
});
