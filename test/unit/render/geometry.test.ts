import { describe, expect, it } from 'vitest';
import { place, planVariants } from '../../../lambdas/core/render/geometry.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../../lambdas/core/variants.js';

const spec = (name: string, fit: VariantSpec['fit'], width: number, height = width): VariantSpec => ({
  name,
  fit,
  width,
  height,
  formats: [{ format: 'jpeg', quality: 80 }],
});

describe('placing an original in a box', () => {
  it.each([
    // fit, box, original → output, scaled, native
    ['inside', [640, 640], [4000, 3000], [640, 480], [640, 480], false],
    ['inside', [640, 640], [3000, 4000], [480, 640], [480, 640], false],
    ['inside', [1920, 1080], [4000, 4000], [1080, 1080], [1080, 1080], false],
    ['inside', [640, 640], [641, 100], [640, 100], [640, 100], false],
    ['inside', [640, 640], [10000, 1], [640, 1], [640, 1], false],
    ['inside', [640, 640], [640, 480], [640, 480], [640, 480], true],
    ['inside', [640, 640], [200, 100], [200, 100], [200, 100], true],
    ['cover', [300, 300], [4000, 3000], [300, 300], [400, 300], false],
    ['cover', [300, 300], [3000, 4000], [300, 300], [300, 400], false],
    ['cover', [300, 200], [1000, 1000], [300, 200], [300, 300], false],
    ['cover', [300, 300], [300, 300], [300, 300], [300, 300], true],
    ['cover', [300, 300], [200, 1000], [200, 200], [200, 1000], true],
    ['cover', [300, 300], [400, 250], [250, 250], [400, 250], true],
    ['cover', [300, 150], [100, 80], [100, 50], [100, 80], true],
    ['cover', [300, 300], [1, 1], [1, 1], [1, 1], true],
  ] as const)('%s %j holds %j as %j (from %j, native %s)', (fit, box, original, output, scaled, native) => {
    const placement = place(
      { fit, width: box[0], height: box[1] },
      { width: original[0], height: original[1] },
    );
    expect(placement).toEqual({
      output: { width: output[0], height: output[1] },
      scaled: { width: scaled[0], height: scaled[1] },
      native,
    });
  });

  it('never returns more than the original or the box on either axis', () => {
    for (const fit of ['inside', 'cover'] as const) {
      for (const [w, h] of [
        [1, 1],
        [7, 3000],
        [3000, 7],
        [333, 777],
        [1921, 1080],
        [8000, 6000],
      ] as const) {
        for (const [bw, bh] of [
          [300, 300],
          [640, 480],
          [100, 1000],
        ] as const) {
          const { output, scaled } = place({ fit, width: bw, height: bh }, { width: w, height: h });
          expect(output.width).toBeLessThanOrEqual(Math.min(w, bw));
          expect(output.height).toBeLessThanOrEqual(Math.min(h, bh));
          expect(output.width).toBeGreaterThanOrEqual(1);
          expect(output.height).toBeGreaterThanOrEqual(1);
          expect(scaled.width).toBeLessThanOrEqual(w);
          expect(scaled.height).toBeLessThanOrEqual(h);
          expect(scaled.width).toBeGreaterThanOrEqual(output.width);
          expect(scaled.height).toBeGreaterThanOrEqual(output.height);
        }
      }
    }
  });
});

describe('planning which variants to render', () => {
  const names = (variants: readonly VariantSpec[]) => variants.map((v) => v.name);
  const plan = (width: number, height: number, variants = DEFAULT_VARIANTS, set = DEFAULT_VARIANTS) => {
    const { planned, skipped } = planVariants(variants, { width, height }, set);
    return { planned: planned.map((p) => p.variant.name), skipped: names(skipped) };
  };

  it.each([
    // original → rendered, skipped (default variants: thumb 300 cover, small 640, medium 1024, large 1920)
    [4000, 3000, ['thumb', 'small', 'medium', 'large'], []],
    [1920, 1080, ['thumb', 'small', 'medium', 'large'], []],
    [1600, 1200, ['thumb', 'small', 'medium', 'large'], []],
    [800, 600, ['thumb', 'small', 'medium'], ['large']],
    [640, 480, ['thumb', 'small'], ['medium', 'large']],
    [200, 100, ['thumb', 'small'], ['medium', 'large']],
    [1, 1, ['thumb', 'small'], ['medium', 'large']],
    [10000, 10, ['thumb', 'small', 'medium', 'large'], []],
  ])('a %ix%i original renders %j and skips %j', (width, height, rendered, skipped) => {
    expect(plan(width, height)).toEqual({ planned: rendered, skipped });
  });

  it('decides the same whichever lane asks, given the whole set', () => {
    const thumbnails = DEFAULT_VARIANTS.filter((v) => v.name === 'thumb');
    const variants = DEFAULT_VARIANTS.filter((v) => v.name !== 'thumb');
    expect(plan(800, 600, thumbnails)).toEqual({ planned: ['thumb'], skipped: [] });
    expect(plan(800, 600, variants)).toEqual({ planned: ['small', 'medium'], skipped: ['large'] });
    // Without the set, a lane holding only large boxes keeps its own smallest.
    const large = DEFAULT_VARIANTS.filter((v) => v.name === 'large');
    expect(plan(800, 600, large, large)).toEqual({ planned: ['large'], skipped: [] });
    expect(plan(800, 600, large)).toEqual({ planned: [], skipped: ['large'] });
  });

  it('keeps the smallest of same-shaped thumbnails an original cannot fill, and any other shape', () => {
    const set = [
      spec('square', 'cover', 300),
      spec('square-2x', 'cover', 600),
      spec('wide', 'cover', 600, 300),
    ];
    expect(plan(200, 200, set, set)).toEqual({ planned: ['square', 'wide'], skipped: ['square-2x'] });
    expect(plan(1200, 1200, set, set)).toEqual({ planned: ['square', 'square-2x', 'wide'], skipped: [] });
    // 2:1 and 600:300 are one shape.
    const shapes = [spec('a', 'cover', 400, 200), spec('b', 'cover', 600, 300)];
    expect(plan(100, 100, shapes, shapes)).toEqual({ planned: ['a'], skipped: ['b'] });
  });

  it('keeps the first of equal boxes', () => {
    const set = [spec('one', 'inside', 500), spec('two', 'inside', 500)];
    expect(plan(100, 100, set, set)).toEqual({ planned: ['one'], skipped: ['two'] });
  });

  it('refuses variants that are not in the set', () => {
    expect(() =>
      planVariants([spec('stray', 'inside', 10)], { width: 5, height: 5 }, DEFAULT_VARIANTS),
    ).toThrow(/stray/);
  });
});
