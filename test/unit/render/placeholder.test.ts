import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { UnrenderableImageError } from '../../../lambdas/core/render/errors.js';
import { dominantColour, makePlaceholder } from '../../../lambdas/core/render/placeholder.js';
import { makeJpeg } from '../../support/images.js';
import {
  channelDelta,
  fromRaw,
  paint,
  quadrantPicture,
  solid,
  storedForOrientation,
} from '../../support/pixels.js';

const hash = (base64: string) => Buffer.from(base64, 'base64');

describe('placeholders', () => {
  it('gives a ThumbHash and the colour of a plain picture', async () => {
    const original = await solid(400, 300, '#3c78b4').removeAlpha().jpeg({ quality: 95 }).toBuffer();
    const { thumbHash, dominantColour: colour } = await makePlaceholder(original);
    expect(thumbHash).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(hash(thumbHash).length).toBeLessThanOrEqual(30);
    const average = thumbHashToAverageRGBA(hash(thumbHash));
    expect(Math.abs(average.r * 255 - 0x3c)).toBeLessThan(6);
    expect(Math.abs(average.b * 255 - 0xb4)).toBeLessThan(6);
    // ThumbHash keeps the aspect ratio coarsely.
    const aspect = thumbHashToApproximateAspectRatio(hash(thumbHash));
    expect(aspect).toBeGreaterThan(1.2);
    expect(aspect).toBeLessThan(1.5);
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(colour.slice(i, i + 2), 16));
    expect(colour).toMatch(/^#[0-9a-f]{6}$/);
    expect(channelDelta([r ?? 0, g ?? 0, b ?? 0], [0x3c, 0x78, 0xb4])).toBeLessThan(4);
  });

  it('describes the picture upright', async () => {
    const stored = storedForOrientation(quadrantPicture(300, 150), 6);
    const original = await fromRaw(stored).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const { thumbHash } = await makePlaceholder(original);
    expect(thumbHashToApproximateAspectRatio(hash(thumbHash))).toBeGreaterThan(1.5);
  });

  it('keeps transparency in the hash and out of the colour', async () => {
    // A small opaque orange square on a large transparent (black) surround.
    const logo = paint(100, 100, 4, (x, y) =>
      x >= 40 && x < 60 && y >= 40 && y < 60 ? [240, 130, 20, 255] : [0, 0, 0, 0],
    );
    const original = await fromRaw(logo).png().toBuffer();
    const { thumbHash, dominantColour: colour } = await makePlaceholder(original);
    expect(colour).toBe('#f08214');
    expect(thumbHashToAverageRGBA(hash(thumbHash)).a).toBeLessThan(0.5);
  });

  it('takes the mean of the fullest histogram cell, so white stays white', () => {
    const white = Buffer.alloc(16 * 4, 255);
    expect(dominantColour(white)).toBe('#ffffff');
    expect(dominantColour(Buffer.alloc(16 * 4, 0))).toBe('#ffffff');
  });

  it('works on every input format a test can make quickly', async () => {
    const placeholder = await makePlaceholder(await makeJpeg(64, 48));
    expect(placeholder.dominantColour).toMatch(/^#[0-9a-f]{6}$/);
    const animated = await sharp(
      await Promise.all(['#ff0000', '#00ff00'].map((c) => solid(20, 20, c).png().toBuffer())),
      { join: { animated: true } },
    )
      .gif()
      .toBuffer();
    expect((await makePlaceholder(animated)).dominantColour).toBe('#ff0000');
  });

  it('throws a permanent error for bytes that are no image or do not decode', async () => {
    await expect(makePlaceholder(Buffer.from('garbage'))).rejects.toMatchObject({
      reason: 'unsupported_format',
    });
    const jpeg = await makeJpeg(64, 48);
    await expect(makePlaceholder(jpeg.subarray(0, 200))).rejects.toThrow(UnrenderableImageError);
  });
});
