import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  BASELINE_ENCODERS,
  type EncoderSettings,
  PRODUCTION_ENCODERS,
} from '../../../lambdas/core/encoder-settings.js';
import { OUTPUT_FORMAT_NAMES } from '../../../lambdas/core/formats.js';
import { renderVariants } from '../../../lambdas/core/render/render-variants.js';
import {
  DEFAULT_VARIANTS,
  encodingRevision,
  type VariantSpec,
  variantSetVersion,
} from '../../../lambdas/core/variants.js';
import { makeJpeg } from '../../support/images.js';

const large = DEFAULT_VARIANTS.find((v) => v.name === 'large') as VariantSpec;
const withAvif = (avif: Partial<EncoderSettings['avif']>): EncoderSettings => ({
  ...BASELINE_ENCODERS,
  avif: { ...BASELINE_ENCODERS.avif, ...avif },
});

describe('encoder settings in revisions', () => {
  it('leaves every revision of the baseline encoders as it was before encoders were part of them', () => {
    for (const format of OUTPUT_FORMAT_NAMES) {
      const encoding = large.formats.find((e) => e.format === format);
      const before = createHash('sha256')
        .update(JSON.stringify([large.fit, large.width, large.height, format, encoding?.quality]))
        .digest('hex')
        .slice(0, 8);
      expect(encodingRevision(large, format, BASELINE_ENCODERS)).toBe(before);
    }
  });

  it("changes a format's revision, and that format's only, when its encoder changes", () => {
    const changed = withAvif({ chromaSubsampling: '4:2:0' });
    expect(encodingRevision(large, 'avif', changed)).not.toBe(
      encodingRevision(large, 'avif', BASELINE_ENCODERS),
    );
    expect(encodingRevision(large, 'avif', withAvif({ effort: 3 }))).not.toBe(
      encodingRevision(large, 'avif', changed),
    );
    for (const format of ['webp', 'jpeg'] as const) {
      expect(encodingRevision(large, format, changed)).toBe(
        encodingRevision(large, format, BASELINE_ENCODERS),
      );
    }
  });

  it('changes the variant set version when an encoder of a format in the set changes', () => {
    const changed = withAvif({ effort: 2 });
    expect(variantSetVersion(DEFAULT_VARIANTS, changed)).not.toBe(
      variantSetVersion(DEFAULT_VARIANTS, BASELINE_ENCODERS),
    );
    const noAvif = DEFAULT_VARIANTS.map((v) => ({
      ...v,
      formats: v.formats.filter((e) => e.format !== 'avif'),
    }));
    expect(variantSetVersion(noAvif, changed)).toBe(variantSetVersion(noAvif, BASELINE_ENCODERS));
  });

  it('uses the production encoders when none are given', () => {
    for (const format of OUTPUT_FORMAT_NAMES) {
      expect(encodingRevision(large, format)).toBe(encodingRevision(large, format, PRODUCTION_ENCODERS));
    }
    expect(variantSetVersion(DEFAULT_VARIANTS)).toBe(
      variantSetVersion(DEFAULT_VARIANTS, PRODUCTION_ENCODERS),
    );
  });
});

describe('encoder settings in rendering', () => {
  const variants: VariantSpec[] = [
    { name: 'small', fit: 'inside', width: 160, height: 160, formats: [{ format: 'jpeg', quality: 80 }] },
  ];

  it('encodes with the settings it is given', async () => {
    const original = await makeJpeg(320, 240);
    const render = async (progressive: boolean) => {
      const encoders = {
        ...PRODUCTION_ENCODERS,
        jpeg: { ...PRODUCTION_ENCODERS.jpeg, progressive, optimiseScans: false },
      };
      const { objects } = await renderVariants(original, variants, { maxInputPixels: 1e6, encoders });
      return sharp(objects[0]?.bytes).metadata();
    };
    expect((await render(true)).isProgressive).toBe(true);
    expect((await render(false)).isProgressive).toBe(false);
  });
});
