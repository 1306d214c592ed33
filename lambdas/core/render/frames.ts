import sharp, { type Sharp } from 'sharp';
import { orientedSize, type Size } from './geometry.js';

/**
 * Decoded 8-bit sRGB pixels, interleaved, not premultiplied: one frame or an animation's frames
 * stacked top to bottom. Every variant is resized from and encoded from these, never from the file.
 */
export interface Frames {
  data: Buffer;
  width: number;
  /** Of one frame. */
  height: number;
  channels: 3 | 4;
  frames: number;
}

const frameBytes = (f: Pick<Frames, 'width' | 'height' | 'channels'>) => f.width * f.height * f.channels;

/** A sharp pipeline reading `frames` (animated when there are several). */
export function readFrames(frames: Frames): Sharp {
  const { data, width, height, channels } = frames;
  if (frames.frames === 1) return sharp(data, { raw: { width, height, channels } });
  return sharp(data, {
    raw: { width, height: height * frames.frames, channels, pageHeight: height },
    animated: true,
  });
}

/** The first frame alone, sharing the memory. */
export function firstFrame(frames: Frames): Frames {
  if (frames.frames === 1) return frames;
  return { ...frames, data: frames.data.subarray(0, frameBytes(frames)), frames: 1 };
}

/**
 * The same pixels without the alpha channel when every pixel is opaque, so encoders spend nothing
 * on it (PNGs and GIFs often carry an alpha channel they never use).
 */
export function dropOpaqueAlpha(frames: Frames): Frames {
  if (frames.channels !== 4) return frames;
  const { data } = frames;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return frames;
  const rgb = Buffer.allocUnsafe((data.length / 4) * 3);
  for (let from = 0, to = 0; from < data.length; from += 4, to += 3) {
    rgb[to] = data[from] as number;
    rgb[to + 1] = data[from + 1] as number;
    rgb[to + 2] = data[from + 2] as number;
  }
  return { ...frames, data: rgb, channels: 3 };
}

/**
 * Where stored pixel (x, y) of a `w`x`h` frame is shown under an EXIF orientation (2–8): mirrors for
 * 2 and 4, a half turn for 3, a quarter turn clockwise (6) or anticlockwise (8), and the two
 * diagonal mirrors (5 transposes, 7 transverses).
 */
function displayedAt(orientation: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (orientation) {
    case 2:
      return [w - 1 - x, y];
    case 3:
      return [w - 1 - x, h - 1 - y];
    case 4:
      return [x, h - 1 - y];
    case 5:
      return [y, x];
    case 6:
      return [h - 1 - y, x];
    case 7:
      return [h - 1 - y, w - 1 - x];
    case 8:
      return [y, w - 1 - x];
    default:
      return [x, y];
  }
}

/**
 * Applies an EXIF orientation to every frame. libvips rotates multi-frame images by a half turn at
 * most, so animations are turned here, frame by frame, after they are scaled down.
 */
export function orientFrames(frames: Frames, orientation: number | undefined): Frames {
  if (orientation === undefined || orientation < 2 || orientation > 8) return frames;
  const { width: w, height: h, channels } = frames;
  const out = orientedSize({ width: w, height: h }, orientation);
  const data = Buffer.allocUnsafe(frames.data.length);
  const size = frameBytes(frames);
  for (let f = 0; f < frames.frames; f++) {
    const base = f * size;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [dx, dy] = displayedAt(orientation, x, y, w, h);
        const from = base + (y * w + x) * channels;
        frames.data.copy(data, base + (dy * out.width + dx) * channels, from, from + channels);
      }
    }
  }
  return { ...frames, data, width: out.width, height: out.height };
}

/** The same `width`x`height` window of every frame, from `left`, `top`. */
export function cropFrames(frames: Frames, left: number, top: number, size: Size): Frames {
  const { width, height, channels } = frames;
  if (left < 0 || top < 0 || left + size.width > width || top + size.height > height) {
    throw new RangeError(`crop ${size.width}x${size.height}+${left}+${top} is outside ${width}x${height}`);
  }
  const row = size.width * channels;
  const data = Buffer.allocUnsafe(row * size.height * frames.frames);
  let to = 0;
  for (let f = 0; f < frames.frames; f++) {
    for (let y = 0; y < size.height; y++) {
      const from = ((f * height + top + y) * width + left) * channels;
      frames.data.copy(data, to, from, from + row);
      to += row;
    }
  }
  return { ...frames, data, width: size.width, height: size.height };
}
