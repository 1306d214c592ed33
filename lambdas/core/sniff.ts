import type { InputFormat } from './formats.js';
import type { Rejection } from './rejections.js';

/** What the first bytes of a file say it is, whatever its name or declared type claims. */
export type Sniffed = { kind: 'image'; format: InputFormat } | { kind: 'markup' } | { kind: 'unknown' };

/** Enough of the head of a file for every signature below, ISO-BMFF brand lists included. */
export const SNIFF_BYTES = 64;

const startsWith = (head: Uint8Array, signature: number[], offset = 0) =>
  signature.every((byte, i) => head[offset + i] === byte);
const ascii = (head: Uint8Array, from: number, to: number) =>
  Buffer.from(head.subarray(from, to)).toString('latin1');

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/**
 * ISO-BMFF (`ftyp`) files: AVIF if any brand says so, HEIF/HEIC otherwise. The brands only name the
 * family; which codec a HEIF's primary image really uses is the container's to say (`readHeifHeader`).
 */
function sniffIsoBmff(head: Uint8Array): Sniffed | undefined {
  if (ascii(head, 4, 8) !== 'ftyp') return undefined;
  const boxSize = Math.min(new DataView(head.buffer, head.byteOffset).getUint32(0), head.length);
  const brands = [ascii(head, 8, 12)];
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) brands.push(ascii(head, offset, offset + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return { kind: 'image', format: 'avif' };
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return { kind: 'image', format: 'heic' };
  return undefined;
}

/** SVG, HTML, XML and friends: anything whose first non-blank character opens a tag. */
function looksLikeMarkup(head: Uint8Array): boolean {
  const text = Buffer.from(head)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return text.startsWith('<');
}

export function sniff(head: Uint8Array): Sniffed {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'image', format: 'png' };
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')
    return { kind: 'image', format: 'gif' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { kind: 'image', format: 'webp' };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'image', format: 'tiff' };
  }
  const isoBmff = head.length >= 12 ? sniffIsoBmff(head) : undefined;
  if (isoBmff) return isoBmff;
  return looksLikeMarkup(head) ? { kind: 'markup' } : { kind: 'unknown' };
}

/** Why bytes that sniff as no raster image are refused, whatever they were declared or named. */
export function notAnImage(sniffed: Exclude<Sniffed, { kind: 'image' }>): Rejection {
  switch (sniffed.kind) {
    case 'markup':
      return { reason: 'markup_not_allowed', message: 'SVG, HTML and other markup are not accepted' };
    case 'unknown':
      return { reason: 'unrecognised_format', message: 'the bytes are not a known image format' };
  }
}
