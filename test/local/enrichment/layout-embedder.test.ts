import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { LayoutEmbedder, TextEmbeddingUnsupportedError } from '../../../local/enrichment/layout-embedder.js';
import { fromRaw, paint } from '../../support/pixels.js';

const embedder = new LayoutEmbedder();

/** A scene: a sky-to-ground gradient with a sun whose place and colour `variant` picks. */
const scene = (variant: number) =>
  fromRaw(
    paint(800, 600, 3, (x, y) => {
      const [sx, sy] = variant === 0 ? [200, 150] : [620, 420];
      if ((x - sx) ** 2 + (y - sy) ** 2 < 80 ** 2) return variant === 0 ? [250, 210, 40] : [200, 40, 160];
      return y < 300 ? [90 + y / 6, 150 + y / 8, 235] : [70 + (y - 300) / 5, 120, 50];
    }),
  )
    .jpeg({ quality: 90 })
    .toBuffer();

const cosineDistance = (a: Float32Array, b: Float32Array) =>
  1 - a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);

describe('the layout embedder (non-semantic, offline)', () => {
  it('says it is not semantic, and refuses to embed text', async () => {
    expect(embedder.semantic).toBe(false);
    await expect(embedder.embedText()).rejects.toThrow(TextEmbeddingUnsupportedError);
  });

  it('gives a unit vector of its dimensions, the same for the same bytes', async () => {
    const bytes = await scene(0);
    const vector = await embedder.embedImage(bytes);
    expect(vector).toHaveLength(embedder.dimensions);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    expect(await embedder.embedImage(bytes)).toEqual(vector);
  });

  it('puts a re-encoded, resized or slightly cropped copy nearer than another picture', async () => {
    const original = await scene(0);
    const [vector, other] = await Promise.all([
      embedder.embedImage(original),
      embedder.embedImage(await scene(1)),
    ]);
    const copies = [
      await sharp(original).jpeg({ quality: 60 }).toBuffer(),
      await sharp(original).resize(400).jpeg().toBuffer(),
      await sharp(original).extract({ left: 4, top: 3, width: 792, height: 594 }).jpeg().toBuffer(),
    ];
    const unrelated = cosineDistance(vector, other);
    for (const copy of copies) {
      expect(cosineDistance(vector, await embedder.embedImage(copy))).toBeLessThan(unrelated / 10);
    }
  });

  it('tells a dark image from a light one, and a red one from a blue one', async () => {
    const flat = (rgb: number[]) =>
      fromRaw(paint(64, 64, 3, () => rgb))
        .jpeg()
        .toBuffer();
    const [black, white, red, blue] = await Promise.all(
      [
        [10, 10, 10],
        [245, 245, 245],
        [220, 30, 30],
        [40, 90, 220],
      ].map(async (rgb) => embedder.embedImage(await flat(rgb))),
    );
    expect(cosineDistance(black as Float32Array, white as Float32Array)).toBeGreaterThan(0.5);
    expect(cosineDistance(red as Float32Array, blue as Float32Array)).toBeGreaterThan(0.5);
  });
});
