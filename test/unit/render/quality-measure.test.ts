import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { planeSsim, type ScoredOutput, worstSsimDelta } from '../../bench/quality.js';

/** 1 px stripes of magenta and green, of near luma: most of the picture's detail is in its chroma. */
function chromaStripes(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const magenta = x % 2 === 0;
      pixels.set(magenta ? [200, 80, 200] : [80, 150, 60], offset);
    }
  }
  return pixels;
}

describe('the render bench quality measure', () => {
  const width = 64;
  const height = 64;
  const reference = chromaStripes(width, height);
  const jpeg = (chromaSubsampling: string) =>
    sharp(reference, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling })
      .toBuffer();

  it('scores an unchanged picture 1 on every plane', async () => {
    const png = await sharp(reference, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    expect(await planeSsim(reference, png, width, height)).toEqual({ y: 1, cb: 1, cr: 1 });
  });

  it('sees chroma subsampling in the chroma planes, where luma alone barely moves', async () => {
    const full = await planeSsim(reference, await jpeg('4:4:4'), width, height);
    const halved = await planeSsim(reference, await jpeg('4:2:0'), width, height);
    if (!full || !halved) throw new Error('no score');
    expect(full.cb - halved.cb).toBeGreaterThan(0.05);
    expect(full.cr - halved.cr).toBeGreaterThan(0.05);
    expect(full.cb - halved.cb).toBeGreaterThan(5 * Math.abs(full.y - halved.y));
  });

  it('gives no score to an output of another size', async () => {
    const smaller = await sharp(reference, { raw: { width, height, channels: 3 } })
      .resize(32)
      .png()
      .toBuffer();
    expect(await planeSsim(reference, smaller, width, height)).toBeNull();
  });

  it('reports, per plane, the output that lost most against the same output of the base', () => {
    const output = (variant: string, y: number, cb: number, cr: number): ScoredOutput => ({
      variant,
      format: 'avif',
      width: 1,
      height: 1,
      bytes: 1,
      ssim: { y, cb, cr },
    });
    const base = [output('a', 0.9, 0.9, 0.9), output('b', 0.9, 0.9, 0.9)];
    const changed = [output('a', 0.91, 0.88, 0.9), output('b', 0.895, 0.9, 0.85)];
    expect(worstSsimDelta(changed, base)).toEqual({ y: -0.005, cb: -0.02, cr: -0.05 });
  });
});
