import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DERIVATIVES_PREFIX, ORIGINALS_PREFIX, UPLOADS_PREFIX } from '../../lambdas/contract.js';
import { OUTPUT_FORMAT_NAMES } from '../../lambdas/core/formats.js';
import {
  derivativeKey,
  derivativesPrefix,
  originalKey,
  parseDerivativeKey,
  uploadIdFromKey,
  uploadKey,
} from '../../lambdas/core/keys.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';

const sha = createHash('sha256').update('aperture').digest('hex');
const thumb = DEFAULT_VARIANTS[0] as VariantSpec;

/** Strings an attacker or a careless caller might try to smuggle into a key. */
const hostile = [
  '',
  '../originals/aa',
  '..%2F..%2Fetc',
  `${sha}/../../x`,
  sha.toUpperCase(),
  `${sha} `,
  `${sha}\n`,
  'uploads/../derived/x',
  `\u202e${'a'.repeat(31)}`,
  'a'.repeat(33),
  '/etc/passwd',
];

describe('key scheme', () => {
  it('shards originals by the first two byte pairs of the hash', () => {
    expect(originalKey(sha)).toBe(`originals/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`);
  });

  it('puts every derivative of an image under its own prefix inside the served prefix', () => {
    for (const variant of DEFAULT_VARIANTS) {
      for (const encoding of variant.formats) {
        const key = derivativeKey(sha, variant, encoding.format);
        expect(key.startsWith(derivativesPrefix(sha))).toBe(true);
        expect(key.startsWith(DERIVATIVES_PREFIX)).toBe(true);
        expect(key).toMatch(new RegExp(`/${variant.name}-[0-9a-f]{8}\\.(avif|webp|jpg)$`));
      }
    }
  });

  it('changes the derivative key when the spec that made it changes, and only then', () => {
    const same = derivativeKey(sha, structuredClone(thumb), 'webp');
    const wider = derivativeKey(sha, { ...thumb, width: thumb.width + 1 }, 'webp');
    const betterQuality = derivativeKey(
      sha,
      { ...thumb, formats: thumb.formats.map((f) => ({ ...f, quality: f.quality + 1 })) },
      'webp',
    );
    expect(same).toBe(derivativeKey(sha, thumb, 'webp'));
    expect(new Set([same, wider, betterQuality]).size).toBe(3);
  });

  it('numbers the pages of a multi-page original, and refuses page numbers it cannot write', () => {
    expect(derivativeKey(sha, thumb, 'webp', 7)).toBe(
      derivativeKey(sha, thumb, 'webp').replace(/\.webp$/, '-page007.webp'),
    );
    for (const page of [0, -1, 1.5, 1000, Number.NaN]) {
      expect(() => derivativeKey(sha, thumb, 'webp', page)).toThrow(RangeError);
    }
  });

  it('gives each format its own key', () => {
    const keys = OUTPUT_FORMAT_NAMES.map((format) => derivativeKey(sha, thumb, format));
    expect(new Set(keys).size).toBe(OUTPUT_FORMAT_NAMES.length);
  });

  it('round-trips upload ids and ignores keys that are not uploads', () => {
    const uploadId = newUploadId();
    expect(uploadKey(uploadId)).toBe(`${UPLOADS_PREFIX}${uploadId}`);
    expect(uploadIdFromKey(uploadKey(uploadId))).toBe(uploadId);
    expect(uploadIdFromKey(originalKey(sha))).toBeUndefined();
    expect(uploadIdFromKey(`${UPLOADS_PREFIX}${uploadId}/extra`)).toBeUndefined();
  });

  it.each(hostile)('refuses to build any key from %j', (input) => {
    expect(() => uploadKey(input)).toThrow(RangeError);
    expect(() => originalKey(input)).toThrow(RangeError);
    expect(() => derivativesPrefix(input)).toThrow(RangeError);
    expect(() => derivativeKey(sha, { ...thumb, name: input }, 'webp')).toThrow(RangeError);
  });

  it('never builds a key outside its prefix, for a thousand random ids', () => {
    for (let i = 0; i < 1000; i++) {
      const id = newUploadId();
      const hash = createHash('sha256').update(id).digest('hex');
      expect(uploadKey(id).startsWith(UPLOADS_PREFIX)).toBe(true);
      expect(originalKey(hash).startsWith(ORIGINALS_PREFIX)).toBe(true);
      for (const key of [uploadKey(id), originalKey(hash), derivativeKey(hash, thumb, 'avif')]) {
        expect(key.split('/')).not.toContain('..');
        expect(key).toMatch(/^[a-z0-9/.-]+$/);
      }
    }
  });
});

describe('the derivative a key names', () => {
  const variants = DEFAULT_VARIANTS;
  const medium = variants.find((v) => v.name === 'medium') as VariantSpec;

  it('names exactly what derivativeKey built, for every variant, format and a page', () => {
    for (const variant of variants) {
      for (const format of OUTPUT_FORMAT_NAMES) {
        for (const page of [undefined, 1, 42]) {
          expect(parseDerivativeKey(derivativeKey(sha, variant, format, page), variants)).toEqual({
            imageId: sha,
            variant,
            format,
            page,
          });
        }
      }
    }
  });

  it.each([
    ['another size', derivativeKey(sha, { ...medium, width: 4000 }, 'webp')],
    [
      'another quality (an old revision)',
      derivativeKey(sha, { ...medium, formats: [{ format: 'webp', quality: 5 }] }, 'webp'),
    ],
    ['a variant nobody configured', derivativeKey(sha, { ...medium, name: 'huge' }, 'webp')],
    ['the wrong shard', derivativeKey(sha, medium, 'webp').replace(`/${sha.slice(0, 2)}/`, '/00/')],
    ['page zero', derivativeKey(sha, medium, 'webp', 1).replace('page001', 'page000')],
    ['a format-less key', `derived/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}/medium`],
    ['an original', originalKey(sha)],
    ['a path escape', `${derivativesPrefix(sha)}../../../originals/x.webp`],
  ])('names nothing for %s', (_, key) => {
    expect(parseDerivativeKey(key, variants)).toBeUndefined();
  });
});
