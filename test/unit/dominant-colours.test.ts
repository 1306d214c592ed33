import { describe, expect, it } from 'vitest';
import { dominantColours } from '../../lambdas/core/dominant-colours.js';
import { nearestPaletteColour } from '../../lambdas/core/palette.js';
import { UnreadableAnalysisImageError } from '../../lambdas/core/render/analysis-image.js';
import { BLUE, channelDelta, fromRaw, hexToRgb, paint, RED } from '../support/pixels.js';

const jpeg = (width: number, height: number, colour: (x: number, y: number) => readonly number[]) =>
  fromRaw(paint(width, height, 3, colour))
    .jpeg({ quality: 90 })
    .toBuffer();

const sumOfShares = (colours: { share: number }[]) => colours.reduce((sum, colour) => sum + colour.share, 0);

describe('dominant colours', () => {
  it('finds the two halves of a half red, half blue image, about half each', async () => {
    const colours = await dominantColours(await jpeg(400, 300, (x) => (x < 200 ? RED : BLUE)));
    expect(colours.map((colour) => colour.name).sort()).toEqual(['blue', 'red']);
    for (const colour of colours) {
      expect(colour.share).toBeGreaterThan(0.45);
      expect(colour.share).toBeLessThanOrEqual(0.5);
      expect(channelDelta(hexToRgb(colour.hex), colour.name === 'red' ? RED : BLUE)).toBeLessThan(12);
    }
  });

  it('puts the larger colour first', async () => {
    const colours = await dominantColours(await jpeg(400, 300, (x) => (x < 100 ? RED : BLUE)));
    expect(colours.map((colour) => colour.name)).toEqual(['blue', 'red']);
    expect(colours[0]?.share).toBeGreaterThan(0.7);
  });

  it('gives one colour, all of the image, for a flat image', async () => {
    const colours = await dominantColours(await jpeg(320, 240, () => [40, 160, 60]));
    expect(colours).toHaveLength(1);
    expect(colours[0]).toMatchObject({ name: 'green', share: 1 });
    expect(channelDelta(hexToRgb(colours[0]?.hex ?? ''), [40, 160, 60])).toBeLessThan(4);
  });

  it('splits a colour gradient into at most five colours, shares summing to at most 1, largest first', async () => {
    const colours = await dominantColours(
      await jpeg(512, 384, (x, y) => [Math.round((x / 511) * 255), Math.round((y / 383) * 255), 128]),
    );
    expect(colours.length).toBeGreaterThan(1);
    expect(colours.length).toBeLessThanOrEqual(5);
    expect(sumOfShares(colours)).toBeLessThanOrEqual(1);
    const shares = colours.map((colour) => colour.share);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
    for (const colour of colours) expect(colour.hex).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('names the colours of a greyscale image black, grey or white', async () => {
    const ramp = await fromRaw(paint(512, 128, 3, (x) => Array(3).fill(Math.round((x / 511) * 255))))
      .greyscale()
      .jpeg()
      .toBuffer();
    const colours = await dominantColours(ramp);
    expect(colours.length).toBeGreaterThan(2);
    for (const colour of colours) {
      expect(['black', 'grey', 'white']).toContain(colour.name);
      const [r, g, b] = hexToRgb(colour.hex);
      expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThanOrEqual(2);
    }
  });

  it('keeps to maxColours', async () => {
    const stripes = await jpeg(
      400,
      100,
      (x) => [RED, BLUE, [40, 160, 60], [240, 220, 40]][Math.floor(x / 100)] ?? RED,
    );
    expect(await dominantColours(stripes, { maxColours: 2 })).toHaveLength(2);
    expect(await dominantColours(stripes)).toHaveLength(4);
  });

  it('gives the same colours for the same bytes every run', async () => {
    const bytes = await jpeg(300, 200, (x, y) => [(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256]);
    expect(await dominantColours(bytes)).toEqual(await dominantColours(bytes));
  });

  it('refuses bytes that are not an image, and an image larger than an analysis image', async () => {
    await expect(dominantColours(Buffer.from('not a jpeg'))).rejects.toThrow(UnreadableAnalysisImageError);
    const large = await fromRaw(paint(1100, 1100, 3, () => RED))
      .jpeg()
      .toBuffer();
    await expect(dominantColours(large)).rejects.toThrow(UnreadableAnalysisImageError);
  });
});

describe('palette names', () => {
  it.each([
    ['#3a3a3a', 'black'],
    ['#808080', 'grey'],
    ['#c3c3c3', 'white'],
    ['#dc1e1e', 'red'],
    ['#2a5adc', 'blue'],
  ] as const)('names %s %s', (hex, name) => {
    expect(nearestPaletteColour(hexToRgb(hex) as [number, number, number])).toBe(name);
  });
});
