import type { InputFormat } from './formats.js';
import type { RejectionReason } from './rejections.js';

/** What a header says of the work its decode would be; sharp's `Metadata` has these. */
export interface DecodeWork {
  width?: number;
  height?: number;
  pages?: number;
}

/**
 * Whether decoding these bytes would be more work than the pipeline allows, judged from the header
 * and the bytes before any pixel is decoded: the pixels of every page or frame within the budget,
 * and a JPEG's passes over the image bounded. Ingest refuses such an upload; a renderer refuses such
 * an original all the same, so that nothing it reads is trusted further than ingest's judgement.
 */
export function exceedsInputBounds(
  bytes: Uint8Array,
  format: InputFormat,
  header: DecodeWork,
  maxInputPixels: number,
): { reason: Extract<RejectionReason, 'too_many_pixels' | 'undecodable'>; message: string } | undefined {
  const { width = 0, height = 0, pages = 1 } = header;
  if (width * height * pages > maxInputPixels) {
    return {
      reason: 'too_many_pixels',
      message: `${width}x${height}${pages > 1 ? `x${pages} pages` : ''} is more than ${maxInputPixels} pixels`,
    };
  }
  // Decoding a JPEG takes a pass over the image per scan, so their number is bounded first.
  if (format === 'jpeg' && countJpegScans(bytes, MAX_JPEG_SCANS + 1) > MAX_JPEG_SCANS) {
    return {
      reason: 'undecodable',
      message: `the JPEG has more than ${MAX_JPEG_SCANS} scans, each a pass over the whole image`,
    };
  }
  return undefined;
}

/**
 * Scans a JPEG may have. Each scan of a progressive JPEG is a pass over every block of the image, and
 * an end-of-band run codes 32,767 empty blocks in a few bits, so a file of a few hundred kilobytes can
 * hold thousands of scans and keep libjpeg busy for minutes (libjpeg-turbo's "LJT-01-003"; libvips
 * sets no limit). Encoders write at most a dozen or two; libtiff stops JPEG data at 100 scans too.
 */
export const MAX_JPEG_SCANS = 100;

const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/**
 * Counts the start-of-scan markers of a JPEG up to its EOI (or up to `stopAt`), walking the segments
 * by their lengths and the entropy-coded data to its next marker, so that bytes inside APPn segments
 * (an EXIF thumbnail) or after the image (an appended file) are not counted.
 */
export function countJpegScans(bytes: Uint8Array, stopAt = Number.POSITIVE_INFINITY): number {
  let scans = 0;
  let pos = 2;
  while (scans < stopAt && pos + 1 < bytes.length) {
    if (bytes[pos] !== 0xff) {
      // Entropy-coded data (or garbage): on to the next byte that can start a marker.
      pos = bytes.indexOf(0xff, pos + 1);
      if (pos < 0) break;
      continue;
    }
    const marker = bytes[pos + 1] as number;
    if (marker === 0xff || marker === 0x00 || isStandalone(marker)) {
      // Fill byte, stuffed 0xFF in scan data, RSTn, TEM or SOI: no length follows.
      pos += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xd9 || pos + 3 >= bytes.length) break;
    if (marker === 0xda) scans++;
    pos += 2 + ((bytes[pos + 2] as number) << 8) + (bytes[pos + 3] as number);
  }
  return scans;
}
