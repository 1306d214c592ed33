import { describe, expect, it } from 'vitest';
import { INPUT_FORMAT_NAMES } from '../../lambdas/core/formats.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec, variantSetVersion } from '../../lambdas/core/variants.js';

const MIB = 1024 * 1024;
const variant = (overrides: Partial<VariantSpec>): VariantSpec => ({
  name: 'v',
  fit: 'inside',
  width: 100,
  height: 100,
  formats: [{ format: 'webp', quality: 80 }],
  ...overrides,
});

describe('settings', () => {
  it('fills the documented defaults', () => {
    const settings = parseSettings();
    expect(settings.allowedFormats).toEqual(INPUT_FORMAT_NAMES);
    expect(settings.maxUploadBytes).toBe(256 * MIB);
    expect(settings.maxInputPixels).toBe(100_000_000);
    expect(settings.presignTtlSeconds).toBe(300);
    expect(settings.variants).toEqual(DEFAULT_VARIANTS);
  });

  it('defaults to a thumbnail crop and three long-edge sizes, each in AVIF, WebP and JPEG', () => {
    const shapes = DEFAULT_VARIANTS.map((v) => [v.name, v.fit, v.width, v.height]);
    expect(shapes).toEqual([
      ['thumb', 'cover', 300, 300],
      ['small', 'inside', 640, 640],
      ['medium', 'inside', 1024, 1024],
      ['large', 'inside', 1920, 1920],
    ]);
    for (const v of DEFAULT_VARIANTS) {
      expect(v.formats.map((f) => f.format).sort()).toEqual(['avif', 'jpeg', 'webp']);
    }
  });

  it('does not let one parse mutate the defaults of the next', () => {
    const first = parseSettings();
    (first.variants[0] as VariantSpec).width = 1;
    expect(parseSettings().variants[0]?.width).toBe(300);
  });

  it.each([
    ['zero width', { variants: [variant({ width: 0 })] }, 'width'],
    ['negative height', { variants: [variant({ height: -5 })] }, 'height'],
    ['fractional size', { variants: [variant({ width: 10.5 })] }, 'width'],
    [
      'unknown output format',
      { variants: [variant({ formats: [{ format: 'bmp' as 'jpeg', quality: 80 }] })] },
      'format',
    ],
    [
      'quality above 100',
      { variants: [variant({ formats: [{ format: 'jpeg', quality: 101 }] })] },
      'quality',
    ],
    ['no formats', { variants: [variant({ formats: [] })] }, 'formats'],
    [
      'a format twice',
      {
        variants: [
          variant({
            formats: [
              { format: 'jpeg', quality: 1 },
              { format: 'jpeg', quality: 2 },
            ],
          }),
        ],
      },
      'once',
    ],
    ['duplicate names', { variants: [variant({}), variant({})] }, 'unique'],
    ['unsafe name', { variants: [variant({ name: '../x' })] }, 'name'],
    ['no variants', { variants: [] }, 'variants'],
    ['unknown fit', { variants: [variant({ fit: 'fill' as 'inside' })] }, 'fit'],
    ['unknown input format', { allowedFormats: ['svg'] }, 'allowedFormats'],
    ['zero upload limit', { maxUploadBytes: 0 }, 'maxUploadBytes'],
    ['long presign TTL', { presignTtlSeconds: 86_400 }, 'presignTtlSeconds'],
    ['unknown setting', { maxUploadMegabytes: 5 }, 'maxUploadMegabytes'],
  ])('rejects %s', (_, input, mentioned) => {
    expect(() => parseSettings(input as never)).toThrow(mentioned);
  });

  it('versions the variant set by content, independent of order', () => {
    const reordered = [...DEFAULT_VARIANTS]
      .reverse()
      .map((v) => ({ ...v, formats: [...v.formats].reverse() }));
    expect(variantSetVersion(reordered)).toBe(variantSetVersion(DEFAULT_VARIANTS));
    const changed = DEFAULT_VARIANTS.map((v, i) => (i === 0 ? { ...v, width: 301 } : v));
    expect(variantSetVersion(changed)).not.toBe(variantSetVersion(DEFAULT_VARIANTS));
  });
});
