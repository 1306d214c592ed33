import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  cropFrames,
  dropOpaqueAlpha,
  type Frames,
  firstFrame,
  orientFrames,
} from '../../../lambdas/core/render/frames.js';
import { fromRaw, paint } from '../../support/pixels.js';

/** Every pixel different, so any misplaced one shows. */
const noise = (width: number, height: number, frames = 1): Frames => {
  const { data } = paint(width, height * frames, 3, (x, y) => [(x * 37 + y) % 256, (y * 11) % 256, x ^ y]);
  return { data, width, height, channels: 3, frames };
};

describe('raw frames', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orients like libvips for EXIF orientation %i', async (orientation) => {
    const stored = noise(7, 4);
    const tagged = await fromRaw({ ...stored, height: 4 })
      .withMetadata({ orientation })
      .png()
      .toBuffer();
    const { data, info } = await sharp(tagged, { autoOrient: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const oriented = orientFrames(stored, orientation);
    expect([oriented.width, oriented.height]).toEqual([info.width, info.height]);
    expect(oriented.data.equals(data)).toBe(true);
  });

  it('orients every frame alike', () => {
    const one = noise(5, 3);
    const two: Frames = { ...one, data: Buffer.concat([one.data, one.data]), frames: 2 };
    const oriented = orientFrames(two, 6);
    const single = orientFrames(one, 6);
    expect(oriented.data.equals(Buffer.concat([single.data, single.data]))).toBe(true);
    expect([oriented.width, oriented.height, oriented.frames]).toEqual([3, 5, 2]);
  });

  it('drops an alpha channel only when nothing is transparent', () => {
    const opaque = paint(3, 2, 4, () => [1, 2, 3, 255]);
    const dropped = dropOpaqueAlpha({ ...opaque, channels: 4, frames: 1 });
    expect(dropped.channels).toBe(3);
    expect([...dropped.data]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    const seeThrough = paint(3, 2, 4, (x) => [1, 2, 3, x === 2 ? 254 : 255]);
    expect(dropOpaqueAlpha({ ...seeThrough, channels: 4, frames: 1 }).channels).toBe(4);
  });

  it('crops the same window of every frame, and takes the first frame without copying', () => {
    const frames = noise(6, 4, 3);
    const cropped = cropFrames(frames, 2, 1, { width: 3, height: 2 });
    expect([cropped.width, cropped.height, cropped.frames]).toEqual([3, 2, 3]);
    const at = (f: Frames, x: number, y: number, frame: number) => {
      const offset = ((frame * f.height + y) * f.width + x) * f.channels;
      return [...f.data.subarray(offset, offset + f.channels)];
    };
    for (let frame = 0; frame < 3; frame++) expect(at(cropped, 1, 1, frame)).toEqual(at(frames, 3, 2, frame));
    expect(() => cropFrames(frames, 4, 0, { width: 3, height: 1 })).toThrow(RangeError);
    const first = firstFrame(frames);
    expect(first.frames).toBe(1);
    expect(first.data.buffer).toBe(frames.data.buffer);
    expect(first.data.length).toBe(6 * 4 * 3);
  });
});
