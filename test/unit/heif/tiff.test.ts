import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { tiffHead } from '../../../lambdas/core/heif/tiff.js';

/** Pixels behind `tiffHead`, as `decodeHeifAsTiff` lays them out. */
function tiff(pixels: Buffer, layout: Parameters<typeof tiffHead>[0], icc?: Uint8Array): Buffer {
  return Buffer.concat([tiffHead(layout, icc), pixels]);
}

/** Every pixel a different colour, so a row or channel out of place shows. */
function pattern(width: number, height: number, channels: number): Buffer {
  const pixels = Buffer.alloc(width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + Math.floor(i / channels) * 13) % 256;
  return pixels;
}

describe('the TIFF that carries decoded HEIF pixels into libvips', () => {
  it('is read back by libvips pixel for pixel, RGB and RGBA', async () => {
    for (const channels of [3, 4] as const) {
      const pixels = pattern(37, 21, channels);
      const bytes = tiff(pixels, { width: 37, height: 21, channels, premultiplied: false });
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect({ width: info.width, height: info.height, channels: info.channels }).toEqual({
        width: 37,
        height: 21,
        channels,
      });
      expect(data.equals(pixels)).toBe(true);
    }
  });

  it('carries the ICC profile, which libvips then converts from', async () => {
    const p3 = (
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
        .withIccProfile('p3')
        .png()
        .toBuffer()
        .then((png) => sharp(png).metadata())
    ).icc;
    if (!p3) throw new Error('sharp attached no P3 profile');
    // An orange in P3 numbers is a more saturated orange in sRGB's: red up, blue down.
    const orange = Buffer.from([200, 100, 50]);
    const layout = { width: 1, height: 1, channels: 3, premultiplied: false } as const;
    const bytes = tiff(orange, layout, p3);
    expect((await sharp(bytes).metadata()).icc?.equals(Buffer.from(p3))).toBe(true);
    const srgb = [...(await sharp(bytes).toColourspace('srgb').raw().toBuffer())];
    const untagged = [...(await sharp(tiff(orange, layout)).toColourspace('srgb').raw().toBuffer())];
    expect(untagged).toEqual([200, 100, 50]);
    expect(srgb[0]).toBeGreaterThan(210);
    expect(srgb[2]).toBeLessThan(40);
  });

  it('says whether alpha is premultiplied', async () => {
    const pixel = Buffer.from([100, 50, 25, 128]);
    const read = async (premultiplied: boolean) => [
      ...(await sharp(tiff(pixel, { width: 1, height: 1, channels: 4, premultiplied }))
        .raw()
        .toBuffer()),
    ];
    expect(await read(false)).toEqual([100, 50, 25, 128]);
    // Associated alpha is un-premultiplied on load: colour divided by 128/255.
    expect((await read(true))[0]).toBeGreaterThan(150);
  });
});
