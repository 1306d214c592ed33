import sharp, { type Sharp } from 'sharp';

/** Decoded 8-bit pixels of one picture, for sampling in tests. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

export type Rgb = readonly [number, number, number];

/** The first page or frame of an encoded image as 8-bit sRGB pixels, alpha kept if there is one. */
export async function decode(bytes: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(bytes).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Every frame of an animation, stacked, with the height of one. */
export async function decodeFrames(bytes: Buffer): Promise<RawImage & { frames: number }> {
  const { data, info } = await sharp(bytes, { animated: true })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const frames = info.pages ?? 1;
  return { data, width: info.width, height: info.height / frames, channels: info.channels, frames };
}

/** The channels of the pixel at (x, y) of frame `frame`. */
export function pixelAt(image: RawImage, x: number, y: number, frame = 0): number[] {
  const offset = ((frame * image.height + y) * image.width + x) * image.channels;
  return [...image.data.subarray(offset, offset + image.channels)];
}

/** The largest difference between matching channels. */
export function channelDelta(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((value, i) => Math.abs(value - (b[i] ?? 0))));
}

export function hexToRgb(hex: string): Rgb {
  const value = Number.parseInt(hex.replace('#', ''), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** Pixels made by a function of the position, as a raw image. */
export function paint(
  width: number,
  height: number,
  channels: 3 | 4,
  colour: (x: number, y: number) => readonly number[],
): RawImage {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const pixel = colour(x, y);
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = pixel[c] ?? 255;
    }
  }
  return { data, width, height, channels };
}

export const RED: Rgb = [220, 20, 20];
export const BLUE: Rgb = [20, 40, 200];

/** Upright test picture: a red top-left quadrant on blue, so any turn or mirror moves the red. */
export function quadrantPicture(width: number, height: number): RawImage {
  return paint(width, height, 3, (x, y) => (x < width / 2 && y < height / 2 ? RED : BLUE));
}

/**
 * The stored pixels that a viewer applying EXIF `orientation` shows as `upright`: each stored pixel
 * (x, y) is displayed at the place the EXIF specification gives it (2 and 4 mirror, 3 turns half,
 * 6 turns a quarter clockwise and 8 anticlockwise, 5 transposes and 7 transverses).
 */
export function storedForOrientation(upright: RawImage, orientation: number): RawImage {
  const quarter = orientation >= 5;
  const width = quarter ? upright.height : upright.width;
  const height = quarter ? upright.width : upright.height;
  const shownAt = (x: number, y: number): [number, number] => {
    switch (orientation) {
      case 2:
        return [width - 1 - x, y];
      case 3:
        return [width - 1 - x, height - 1 - y];
      case 4:
        return [x, height - 1 - y];
      case 5:
        return [y, x];
      case 6:
        return [height - 1 - y, x];
      case 7:
        return [height - 1 - y, width - 1 - x];
      case 8:
        return [y, width - 1 - x];
      default:
        return [x, y];
    }
  };
  return paint(width, height, upright.channels as 3 | 4, (x, y) => {
    const [ux, uy] = shownAt(x, y);
    return pixelAt(upright, ux, uy);
  });
}

/** A sharp pipeline reading a raw image. */
export function fromRaw(image: RawImage): Sharp {
  const { width, height, channels } = image;
  return sharp(image.data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
}

/** A still picture of one colour. */
export function solid(width: number, height: number, colour: string): Sharp {
  return sharp({ create: { width, height, channels: 4, background: colour } });
}
