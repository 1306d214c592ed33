import sharp from 'sharp';
import type { Watermark } from '../variants.js';
import { unrenderable } from './errors.js';
import type { Frames } from './frames.js';
import { readFrames } from './frames.js';

/** How many marks fit along the picture's long edge, and how much room each tile leaves around its mark. */
const MARKS_PER_LONG_EDGE = 4;
const TILE_PER_MARK = 1.5;
/** SVG's unit: librsvg renders a document at its own size at this density. */
const SVG_DENSITY = 72;

/**
 * Tiles a semi-transparent mark across a still picture: the pixels of a watermarked variant, never
 * those a smaller variant is cascaded from. An animation's preview is its first frame, so `frames`
 * is one frame.
 *
 * The mark is drawn from SVG shapes at the size it is shown (rendered, never scaled up), its alpha
 * multiplied by the opacity. The result keeps the picture's channels, so an opaque picture stays
 * opaque.
 */
export async function applyWatermark(frames: Frames, watermark: Watermark): Promise<Frames> {
  if (frames.frames !== 1) throw new RangeError('a watermark is applied to one frame');
  const markEdge = Math.max(16, Math.round(Math.max(frames.width, frames.height) / MARKS_PER_LONG_EDGE));
  const tile = await markTile(watermark, markEdge);
  try {
    const { data, info } = await readFrames(frames)
      .composite([{ input: tile.data, raw: tile.raw, tile: true, blend: 'over' }])
      .raw()
      .toBuffer({ resolveWithObject: true });
    // libvips adds an alpha channel to composite over; an opaque picture gets it back off.
    const composited: Frames = { ...frames, data, channels: info.channels as 3 | 4 };
    return frames.channels === 3 && composited.channels === 4 ? await dropAlpha(composited) : composited;
  } catch (error) {
    throw unrenderable(error);
  }
}

async function dropAlpha(frames: Frames): Promise<Frames> {
  const data = await readFrames(frames).removeAlpha().raw().toBuffer();
  return { ...frames, data, channels: 3 };
}

/** One tile: the mark centred on a transparent square, its alpha scaled by the opacity. */
async function markTile(watermark: Watermark, markEdge: number) {
  const svg = Buffer.from(watermark.svg);
  const { width = markEdge, height = markEdge } = await sharp(svg).metadata();
  const density = (SVG_DENSITY * markEdge) / Math.max(width, height);
  const tileEdge = Math.round(markEdge * TILE_PER_MARK);
  const transparent = { r: 0, g: 0, b: 0, alpha: 0 };
  const { data, info } = await sharp(svg, { density })
    .resize(markEdge, markEdge, { fit: 'contain', background: transparent })
    .extend({
      top: Math.floor((tileEdge - markEdge) / 2),
      bottom: Math.ceil((tileEdge - markEdge) / 2),
      left: Math.floor((tileEdge - markEdge) / 2),
      right: Math.ceil((tileEdge - markEdge) / 2),
      background: transparent,
    })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  for (let alpha = 3; alpha < data.length; alpha += 4) {
    data[alpha] = Math.round((data[alpha] as number) * watermark.opacity);
  }
  return { data, raw: { width: info.width, height: info.height, channels: 4 as const } };
}
