import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { type Assessment, assessUpload } from '../../lambdas/core/assess-upload.js';
import { INPUT_FORMATS, type InputFormat } from '../../lambdas/core/formats.js';
import { MAX_JPEG_SCANS } from '../../lambdas/core/input-bounds.js';
import type { RejectionReason } from '../../lambdas/core/rejections.js';
import { UnrenderableImageError } from '../../lambdas/core/render/errors.js';
import { MAX_RENDERED_FRAMES } from '../../lambdas/core/render/original.js';
import { makePlaceholder, type Placeholder } from '../../lambdas/core/render/placeholder.js';
import { type RenderResult, renderVariants } from '../../lambdas/core/render/render-variants.js';
import {
  readTechnicalMetadata,
  type TechnicalMetadata,
} from '../../lambdas/core/render/technical-metadata.js';
import { planRenderJobs } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import { SNIFF_BYTES, sniff } from '../../lambdas/core/sniff.js';
import {
  buildHeif,
  cutInside,
  gridDescriptor,
  type HeifLayout,
  ispe,
  PRIMARY_ID,
  QUADRANTS,
  topLevelBox,
  withCodedSize,
} from './heif-builder.js';
import { makeImage } from './images.js';

/**
 * Hostile and odd uploads, every one made here in code (with sharp, or byte by byte where sharp would
 * refuse to write it), each with the outcome ingest and render must give it under the default
 * settings (100 Mpx budget; thumb 300x300 cover, small 640, medium 1024 and large 1920 inside).
 *
 * The pipeline's promises under test: every input is decided in bounded time and memory with a
 * machine-readable reason; markup is never accepted; an accepted image renders to re-encoded pixels
 * only (no metadata, no smuggled bytes, never larger than the original or the box).
 */

/** A default variant's output, width x height of one (upright) frame, or why there is none. */
export type VariantOutcome = readonly [width: number, height: number] | 'skipped';

export interface AcceptedExpectation {
  outcome: 'accepted';
  /** What ingest reports: the first page as stored (before EXIF orientation), and the page count. */
  facts: { format: InputFormat; width: number; height: number; pages: number };
  /** Every default variant: the size rendered, or `skipped` (another variant already renders it). */
  variants: Readonly<Record<string, VariantOutcome>>;
  /** Frames of the animated WebP outputs, when the input is an animation. */
  frames?: number;
  /** Pages whose `inside` variants are rendered, when the input is a multi-page TIFF. */
  pagesRendered?: number;
  /** Bytes the original smuggles along that no output may contain. */
  payload?: Buffer;
}

export interface RejectedExpectation {
  outcome: 'rejected';
  reason: RejectionReason;
}

export type Expectation = AcceptedExpectation | RejectedExpectation;

export interface AdversarialInput {
  name: string;
  /** What the input is, and what makes it hostile. */
  description: string;
  bytes: Buffer;
  /** The type declared at `POST /v1/uploads`: the uploader's claim, which the bytes must bear out. */
  contentType: string;
  expected: Expectation;
  /**
   * What the pipeline answers until HEIC ingest (issue 16) lands, where that differs from `expected`:
   * the suite checks this meanwhile and fails once ingest gives `expected`, so that the marker goes.
   */
  beforeHeicIngest?: RejectedExpectation;
}

// ---------------------------------------------------------------------------------------------------
// Byte-level helpers

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG and ZIP compute it. */
export function crc32(...parts: Buffer[]): number {
  let crc = 0xffffffff;
  for (const part of parts) {
    for (const byte of part) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const u16be = (value: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
};
const u32be = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
};
const u16le = (value: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
};
const u32le = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
};

/** Deterministic noise (mulberry32): incompressible bytes that are the same on every run. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 24) & 0xff;
  }
  return out;
}

const indexOf = (haystack: Buffer, needle: string | Buffer, from = 0): number => {
  const at = haystack.indexOf(needle, from);
  if (at < 0) throw new Error(`no ${String(needle)} in the generated bytes`);
  return at;
};

// PNG --------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const name = Buffer.from(type, 'latin1');
  return Buffer.concat([u32be(data.length), name, data, u32be(crc32(name, data))]);
}

/** IHDR for a 1-bit greyscale `width`x`height` image. */
const ihdr = (width: number, height: number) =>
  pngChunk('IHDR', Buffer.concat([u32be(width), u32be(height), Buffer.from([1, 0, 0, 0, 0])]));

/**
 * A 1-bit greyscale PNG, every pixel black: each row is a filter byte and `ceil(width / 8)` zero
 * bytes, which deflate squeezes about a thousandfold. `rows` limits the rows actually stored (the
 * rest of the image is simply missing), so a header can promise far more than the data holds.
 */
function blackPng(width: number, height: number, rows = height): Buffer {
  const raw = Buffer.alloc(rows * (1 + Math.ceil(width / 8)));
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(width, height),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// JPEG -------------------------------------------------------------------------------------------------

function jpegSegment(marker: number, body: Buffer): Buffer {
  if (body.length + 2 > 0xffff)
    throw new RangeError(`a JPEG segment holds at most 65533 bytes, not ${body.length}`);
  return Buffer.concat([Buffer.from([0xff, marker]), u16be(body.length + 2), body]);
}

/** The JPEG with `segments` inserted right after its SOI marker. */
const withSegments = (jpeg: Buffer, ...segments: Buffer[]) =>
  Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);

/** Offset of the first start-of-frame marker (SOF0-SOF2), walking the segments. */
function sofOffset(jpeg: Buffer): number {
  let pos = 2;
  while (pos + 4 <= jpeg.length) {
    const marker = jpeg[pos + 1] as number;
    if (marker >= 0xc0 && marker <= 0xc2) return pos;
    pos += 2 + jpeg.readUInt16BE(pos + 2);
  }
  throw new Error('no SOF marker in the generated JPEG');
}

/** The same JPEG with its frame header claiming `width`x`height`; the scan data is unchanged. */
function withJpegDimensions(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  const sof = sofOffset(out);
  out.writeUInt16BE(height, sof + 5);
  out.writeUInt16BE(width, sof + 7);
  return out;
}

/** Offset just past the first SOS header: where the entropy-coded data starts. */
function afterFirstScanHeader(jpeg: Buffer): number {
  const sos = indexOf(jpeg, Buffer.from([0xff, 0xda]), sofOffset(jpeg));
  return sos + 2 + jpeg.readUInt16BE(sos + 2);
}

/** MSB-first bit packing with JPEG's byte stuffing (a 0x00 after every 0xFF). */
class JpegBits {
  private readonly bytes: number[] = [];
  private acc = 0;
  private count = 0;

  put(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.count === 8) {
        this.bytes.push(this.acc);
        if (this.acc === 0xff) this.bytes.push(0);
        this.acc = 0;
        this.count = 0;
      }
    }
  }

  /** The bytes, the last one padded with 1 bits as the standard asks. */
  done(): Buffer {
    while (this.count !== 0) this.put(1, 1);
    return Buffer.from(this.bytes);
  }
}

/** A DHT segment with one Huffman code, 1 bit long, for `symbol`. */
const oneCodeHuffmanTable = (tableClassAndId: number, symbol: number) => {
  const counts = Buffer.alloc(16);
  counts[0] = 1;
  return jpegSegment(0xc4, Buffer.concat([Buffer.from([tableClassAndId]), counts, Buffer.from([symbol])]));
};

/**
 * A valid progressive greyscale JPEG of one grey whose AC scan is repeated `scans` times. The JPEG
 * standard lets a first AC scan with successive approximation 0 follow another (no decoder warns),
 * and an end-of-band run codes 32,767 empty blocks in 15 bits, so each repeat costs the file a few
 * dozen bytes and the decoder a pass over every block: the "LJT-01-003" denial of service.
 */
function progressiveScanFlood(width: number, height: number, scans: number): Buffer {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const frame = Buffer.concat([Buffer.from([8]), u16be(height), u16be(width), Buffer.from([1, 1, 0x11, 0])]);
  const scanHeader = (ss: number, se: number) => jpegSegment(0xda, Buffer.from([1, 1, 0x00, ss, se, 0x00]));
  const dc = new JpegBits();
  for (let i = 0; i < blocks; i++) dc.put(0, 1); // DC difference category 0, every block
  const ac = new JpegBits();
  for (let left = blocks; left > 0; left -= 32767) {
    ac.put(0, 1); // EOB14: a run of 2^14 + the next 14 bits
    ac.put(0x3fff, 14);
  }
  const acScan = Buffer.concat([scanHeader(1, 63), ac.done()]);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    jpegSegment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)])),
    jpegSegment(0xc2, frame),
    oneCodeHuffmanTable(0x00, 0x00),
    oneCodeHuffmanTable(0x10, 0xe0),
    scanHeader(0, 0),
    dc.done(),
    ...Array.from({ length: scans }, () => acScan),
    Buffer.from([0xff, 0xd9]),
  ]);
}

// TIFF / EXIF ------------------------------------------------------------------------------------------

const TIFF_SHORT = 3;
const TIFF_LONG = 4;
const TIFF_ASCII = 2;
const TIFF_UNDEFINED = 7;

interface IfdEntry {
  tag: number;
  type: number;
  count: number;
  /** The value itself when it fits in 4 bytes, else the offset where it is. */
  value: number;
}

/** A little-endian IFD: entry count, 12-byte entries (sorted by tag), next-IFD offset. */
function ifd(entries: readonly IfdEntry[], next: number): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  return Buffer.concat([
    u16le(sorted.length),
    ...sorted.map((e) =>
      Buffer.concat([
        u16le(e.tag),
        u16le(e.type),
        u32le(e.count),
        e.type === TIFF_SHORT && e.count === 1 ? Buffer.concat([u16le(e.value), u16le(0)]) : u32le(e.value),
      ]),
    ),
    u32le(next),
  ]);
}

const ifdLength = (entries: number) => 2 + entries * 12 + 4;
const TIFF_HEADER = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]); // II*, IFD0 at 8

/** An APP1 EXIF segment around a little-endian TIFF structure whose IFD0 is at 8. */
const exifSegment = (tiff: Buffer) =>
  jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]));

const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const INTEROP_IFD = 0xa005;

/**
 * IFDs that point back at each other: IFD0's next IFD is itself, its EXIF sub-IFD is IFD0 again and
 * its GPS sub-IFD is a second IFD whose EXIF, interop and next pointers all lead back to IFD0.
 */
function exifWithCycles(): Buffer {
  const ifd0 = 8;
  const second = ifd0 + ifdLength(4);
  const make = second + ifdLength(3);
  const tiff = Buffer.concat([
    TIFF_HEADER,
    ifd(
      [
        { tag: 0x010f, type: TIFF_ASCII, count: 10, value: make },
        { tag: 0x0112, type: TIFF_SHORT, count: 1, value: 1 },
        { tag: EXIF_IFD, type: TIFF_LONG, count: 1, value: ifd0 },
        { tag: GPS_IFD, type: TIFF_LONG, count: 1, value: second },
      ],
      ifd0,
    ),
    ifd(
      [
        { tag: EXIF_IFD, type: TIFF_LONG, count: 1, value: ifd0 },
        { tag: INTEROP_IFD, type: TIFF_LONG, count: 1, value: second },
        { tag: GPS_IFD, type: TIFF_LONG, count: 1, value: ifd0 },
      ],
      ifd0,
    ),
    Buffer.from('Adversary\0', 'latin1'),
  ]);
  return exifSegment(tiff);
}

/** `depth` IFDs, each one's EXIF sub-IFD and next IFD the one after it: nesting as deep as 64 KB allows. */
function exifDeepChain(depth: number): Buffer {
  const size = ifdLength(2);
  const ifds = Array.from({ length: depth }, (_, i) => {
    const next = i + 1 < depth ? 8 + (i + 1) * size : 0;
    return ifd(
      [
        { tag: 0x0112, type: TIFF_SHORT, count: 1, value: 1 },
        { tag: EXIF_IFD, type: TIFF_LONG, count: 1, value: next },
      ],
      next,
    );
  });
  return exifSegment(Buffer.concat([TIFF_HEADER, ...ifds]));
}

/** Counts that promise gigabytes: an ASCII string, strip offsets and a maker note far past the segment. */
function exifHugeCounts(): Buffer {
  const tiff = Buffer.concat([
    TIFF_HEADER,
    ifd(
      [
        { tag: 0x010e, type: TIFF_ASCII, count: 0xffffffff, value: 0x10 },
        { tag: 0x0111, type: TIFF_LONG, count: 0x40000000, value: 0x10 },
        { tag: 0x0112, type: TIFF_SHORT, count: 0x7fffffff, value: 0x10 },
        { tag: EXIF_IFD, type: TIFF_LONG, count: 1, value: 8 + ifdLength(4) },
      ],
      0,
    ),
    ifd(
      [
        { tag: 0x927c, type: TIFF_UNDEFINED, count: 0x7fffffff, value: 0xfffffff0 },
        { tag: 0x9286, type: TIFF_UNDEFINED, count: 0xfffffff0, value: 8 },
      ],
      0,
    ),
  ]);
  return exifSegment(tiff);
}

/** An APP1 as large as a JPEG segment can be (65,533 bytes), nearly all of it text in the EXIF. */
function exifOversized(): Buffer {
  const ifd0 = 8;
  const entries = 5;
  const texts = [
    { tag: 0x010e, text: `${'<script>alert(1)</script>'.repeat(2580)}` }, // ImageDescription, ~64 KB
    { tag: 0x010f, text: 'M'.repeat(300) }, // Make: longer than anything kept
    { tag: 0x0110, text: 'Model \u0001\u0002' }, // Model with control characters
    { tag: 0x013b, text: 'A'.repeat(200) }, // Artist
  ];
  let at = ifd0 + ifdLength(entries);
  const data: Buffer[] = [];
  const ifdEntries: IfdEntry[] = [{ tag: 0x0112, type: TIFF_SHORT, count: 1, value: 1 }];
  for (const { tag, text } of texts) {
    const bytes = Buffer.from(`${text}\0`, 'latin1');
    ifdEntries.push({ tag, type: TIFF_ASCII, count: bytes.length, value: at });
    data.push(bytes);
    at += bytes.length;
  }
  const tiff = Buffer.concat([TIFF_HEADER, ifd(ifdEntries, 0), ...data]);
  // Fill the segment to its limit: 65,533 bytes of body, 6 of them `Exif\0\0`.
  const room = 65533 - 6 - tiff.length;
  if (room < 0) throw new RangeError('the oversized EXIF does not fit one segment');
  return exifSegment(Buffer.concat([tiff, Buffer.alloc(room, 0x20)]));
}

interface TiffPage {
  width: number;
  height: number;
  /** Bytes in the strip (black 1-bit pixels); by default as many as the page needs. */
  stripBytes?: number;
  /** A JPEG stream to store as the strip instead: 8-bit greyscale, TIFF compression 7. */
  jpeg?: Buffer;
}

/**
 * A baseline TIFF by hand: one IFD per page, each page stored as one strip. `next` overrides where the
 * last IFD points (back to the first, say).
 */
function handTiff(pages: readonly TiffPage[], next = 0): Buffer {
  const parts: Buffer[] = [TIFF_HEADER];
  let at = 8;
  const entries = 9;
  pages.forEach((page, i) => {
    const stripBytes = page.jpeg?.length ?? page.stripBytes ?? Math.ceil(page.width / 8) * page.height;
    const strip = at + ifdLength(entries);
    const following = strip + stripBytes;
    parts.push(
      ifd(
        [
          { tag: 0x0100, type: TIFF_LONG, count: 1, value: page.width },
          { tag: 0x0101, type: TIFF_LONG, count: 1, value: page.height },
          { tag: 0x0102, type: TIFF_SHORT, count: 1, value: page.jpeg ? 8 : 1 }, // BitsPerSample
          { tag: 0x0103, type: TIFF_SHORT, count: 1, value: page.jpeg ? 7 : 1 }, // JPEG or none
          { tag: 0x0106, type: TIFF_SHORT, count: 1, value: 1 }, // BlackIsZero
          { tag: 0x0111, type: TIFF_LONG, count: 1, value: strip },
          { tag: 0x0115, type: TIFF_SHORT, count: 1, value: 1 }, // SamplesPerPixel
          { tag: 0x0116, type: TIFF_LONG, count: 1, value: page.height }, // RowsPerStrip
          { tag: 0x0117, type: TIFF_LONG, count: 1, value: stripBytes },
        ],
        i + 1 < pages.length ? following : next,
      ),
      page.jpeg ?? Buffer.alloc(stripBytes),
    );
    at = following;
  });
  return Buffer.concat(parts);
}

// GIF --------------------------------------------------------------------------------------------------

/** Shared LZW string table, reset between uses by clearing only the entries set. */
const LZW_TABLE = new Int16Array(4096 * 256).fill(-1);

/** GIF's variable-length LZW of palette indices (clear codes when the table fills), in sub-blocks. */
function gifLzw(indices: Uint8Array, minCodeSize: number): Buffer {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  const emit = (code: number, size: number) => {
    acc |= code << bits;
    bits += size;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  };
  const used: number[] = [];
  const reset = () => {
    for (const key of used) LZW_TABLE[key] = -1;
    used.length = 0;
  };
  let size = minCodeSize + 1;
  let next = end + 1;
  emit(clear, size);
  let prefix = indices[0] ?? 0;
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i] as number;
    const key = (prefix << 8) | k;
    const found = LZW_TABLE[key] as number;
    if (found >= 0) {
      prefix = found;
      continue;
    }
    emit(prefix, size);
    if (next === 4096) {
      emit(clear, size);
      reset();
      size = minCodeSize + 1;
      next = end + 1;
    } else {
      if (next >= 1 << size) size++;
      LZW_TABLE[key] = next++;
      used.push(key);
    }
    prefix = k;
  }
  emit(prefix, size);
  emit(end, size);
  if (bits > 0) out.push(acc & 0xff);
  reset();
  const data = Buffer.from(out);
  const blocks: Buffer[] = [Buffer.from([minCodeSize])];
  for (let i = 0; i < data.length; i += 255) {
    const block = data.subarray(i, i + 255);
    blocks.push(Buffer.from([block.length]), block);
  }
  blocks.push(Buffer.from([0]));
  return Buffer.concat(blocks);
}

interface GifFrame {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Palette index of every pixel of the frame. */
  colour: number;
}

/** Black, white, red, blue. */
const GIF_PALETTE = Buffer.from([0, 0, 0, 255, 255, 255, 220, 20, 20, 20, 40, 200]);

/**
 * A GIF89a with a 4-colour global palette; with more than one frame it loops for ever and shows each
 * frame for `delayCs` hundredths of a second. Frames are solid rectangles, so any number of them, of
 * any size, cost next to nothing.
 */
function gif(screen: { width: number; height: number }, frames: readonly GifFrame[], delayCs = 4): Buffer {
  const parts: Buffer[] = [
    Buffer.from('GIF89a', 'latin1'),
    u16le(screen.width),
    u16le(screen.height),
    Buffer.from([0xf1, 0, 0]), // global palette of 4 entries
    GIF_PALETTE,
  ];
  if (frames.length > 1) {
    parts.push(
      Buffer.from([0x21, 0xff, 0x0b]),
      Buffer.from('NETSCAPE2.0', 'latin1'),
      Buffer.from([3, 1, 0, 0, 0]),
    );
  }
  const lzwCache = new Map<string, Buffer>();
  for (const frame of frames) {
    if (frames.length > 1) {
      parts.push(Buffer.from([0x21, 0xf9, 4, 0x04]), u16le(delayCs), Buffer.from([0, 0]));
    }
    parts.push(
      Buffer.from([0x2c]),
      u16le(frame.left),
      u16le(frame.top),
      u16le(frame.width),
      u16le(frame.height),
      Buffer.from([0]),
    );
    const key = `${frame.width}x${frame.height}:${frame.colour}`;
    let data = lzwCache.get(key);
    if (!data) {
      data = gifLzw(Buffer.alloc(frame.width * frame.height, frame.colour), 2);
      lzwCache.set(key, data);
    }
    parts.push(data);
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

// ZIP --------------------------------------------------------------------------------------------------

/** A one-file ZIP archive (stored, not deflated), as `unzip` reads it. */
function zip(name: string, content: Buffer): Buffer {
  const fileName = Buffer.from(name, 'latin1');
  const crc = crc32(content);
  const common = Buffer.concat([
    u16le(20), // version needed
    u16le(0), // flags
    u16le(0), // stored
    u16le(0), // time
    u16le(0x5821), // date
    u32le(crc),
    u32le(content.length),
    u32le(content.length),
    u16le(fileName.length),
    u16le(0), // extra length
  ]);
  const local = Buffer.concat([u32le(0x04034b50), common, fileName, content]);
  const central = Buffer.concat([
    u32le(0x02014b50),
    u16le(20), // version made by
    common,
    u16le(0), // comment length
    u16le(0), // disk
    u16le(0), // internal attributes
    u32le(0), // external attributes
    u32le(0), // local header offset
    fileName,
  ]);
  const eocd = Buffer.concat([
    u32le(0x06054b50),
    u16le(0),
    u16le(0),
    u16le(1),
    u16le(1),
    u32le(central.length),
    u32le(local.length),
    u16le(0),
  ]);
  return Buffer.concat([local, central, eocd]);
}

// ISO-BMFF (AVIF/HEIF) and RIFF (WebP) -------------------------------------------------------------------

/** The AVIF with every brand in its `ftyp` box replaced as `rename` says (lengths kept, so offsets hold). */
function withBrands(avif: Buffer, rename: (brand: string, index: number) => string): Buffer {
  const out = Buffer.from(avif);
  const size = out.readUInt32BE(0);
  if (out.toString('latin1', 4, 8) !== 'ftyp') throw new Error('the AVIF does not start with ftyp');
  const offsets = [8, ...Array.from({ length: (size - 16) / 4 }, (_, i) => 16 + i * 4)];
  offsets.forEach((offset, index) => {
    out.write(rename(out.toString('latin1', offset, offset + 4), index), offset, 'latin1');
  });
  return out;
}

/** A RIFF/WebP file around `chunks`, its size field right. */
const riffWebp = (...chunks: Buffer[]) => {
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks]);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), u32le(body.length), body]);
};

const u24le = (value: number) => Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff]);

/** The chunk of `type` in a WebP file (header and payload). */
function webpChunk(webp: Buffer, type: string): Buffer {
  for (let at = 12; at + 8 <= webp.length; ) {
    const size = webp.readUInt32LE(at + 4);
    if (webp.toString('latin1', at, at + 4) === type) return webp.subarray(at, at + 8 + size + (size % 2));
    at += 8 + size + (size % 2);
  }
  throw new Error(`no ${type} chunk in the generated WebP`);
}

// ---------------------------------------------------------------------------------------------------
// The inputs

const ACCEPTED_PHOTO_320x240: Readonly<Record<string, VariantOutcome>> = {
  thumb: [240, 240],
  small: [320, 240],
  medium: 'skipped',
  large: 'skipped',
};

/** Every default variant of a tiny original: the original's own size, once per kind of box. */
const nativeOnly = (width: number, height: number): Readonly<Record<string, VariantOutcome>> => ({
  thumb: [Math.min(width, height), Math.min(width, height)],
  small: [width, height],
  medium: 'skipped',
  large: 'skipped',
});

const rejected = (reason: RejectionReason): RejectedExpectation => ({ outcome: 'rejected', reason });

/**
 * Marker text the smuggling inputs carry: in a ZIP, a comment or an XMP packet. No output may
 * contain it, nor a ZIP local-file header.
 */
export const SMUGGLED_MARKER = 'APERTURE-SMUGGLED-PAYLOAD';

let cached: Promise<AdversarialInput[]> | undefined;

/** Every adversarial input, built once per process (a few seconds, mostly the pixel floods). */
export function adversarialInputs(): Promise<AdversarialInput[]> {
  cached ??= buildInputs();
  return cached;
}

async function buildInputs(): Promise<AdversarialInput[]> {
  const photo = await makeImage('jpeg', { width: 320, height: 240, seed: 7 });
  const photoPng = await makeImage('png', { width: 320, height: 240, seed: 7 });
  const bigPhoto = await makeImage('jpeg', { width: 1280, height: 960, seed: 8 });
  const progressive = await sharp(bigPhoto).jpeg({ progressive: true, quality: 85 }).toBuffer();
  const bigPng = await makeImage('png', { width: 640, height: 480, seed: 9 });
  const gifPhoto = await makeImage('gif', { width: 320, height: 240, seed: 10 });
  const webpPhoto = await makeImage('webp', { width: 320, height: 240, seed: 11 });
  const avif = await makeImage('avif', { width: 64, height: 48, seed: 12 });
  const tinyLossless = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#c81e3c' } })
    .webp({ lossless: true })
    .toBuffer();
  const twoFrameWebp = await sharp(
    await Promise.all(
      ['#ff0000', '#0000ff'].map((colour) =>
        sharp({ create: { width: 1, height: 1, channels: 3, background: colour } })
          .png()
          .toBuffer(),
      ),
    ),
    { join: { animated: true } },
  )
    .webp({ lossless: true })
    .toBuffer();

  const payloadText = Buffer.from(`${SMUGGLED_MARKER} <script>alert(document.cookie)</script>\n`, 'latin1');
  const archive = zip('payload.txt', Buffer.concat([payloadText, noise(200_000, 1)]));

  const svgScript =
    '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">' +
    '<script type="text/javascript">alert(document.domain)</script><rect width="100" height="100"/></svg>';

  const inputs: AdversarialInput[] = [
    // Nothing, or not an image at all ------------------------------------------------------------------
    {
      name: 'zero-bytes',
      description: 'an upload of zero bytes',
      bytes: Buffer.alloc(0),
      contentType: 'image/jpeg',
      expected: rejected('empty'),
    },
    {
      name: 'svg-with-script',
      description: 'SVG with a <script> element, declared as PNG',
      bytes: Buffer.from(svgScript),
      contentType: 'image/png',
      expected: rejected('markup_not_allowed'),
    },
    {
      name: 'svg-bom-comment-first',
      description: 'SVG behind a UTF-8 BOM, blank lines and a comment, declared as JPEG',
      bytes: Buffer.from(`\uFEFF\r\n\t <!-- a picture -->${svgScript.replace(/^<\?xml[^>]*>\n/, '')}`),
      contentType: 'image/jpeg',
      expected: rejected('markup_not_allowed'),
    },
    {
      name: 'svgz',
      description: 'gzip-compressed SVG (svgz), declared as PNG',
      bytes: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), deflateSync(Buffer.from(svgScript))]),
      contentType: 'image/png',
      expected: rejected('unrecognised_format'),
    },
    {
      name: 'html-as-jpg',
      description: 'an HTML page with a script, named x.jpg and declared as JPEG',
      bytes: Buffer.from(
        '<!DOCTYPE html><html><head><title>x.jpg</title></head>' +
          '<body><script>fetch("/steal?c=" + document.cookie)</script></body></html>',
      ),
      contentType: 'image/jpeg',
      expected: rejected('markup_not_allowed'),
    },
    {
      name: 'pdf-as-jpg',
      description: 'a PDF header declared as JPEG',
      bytes: Buffer.from('%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'),
      contentType: 'image/jpeg',
      expected: rejected('unrecognised_format'),
    },
    {
      name: 'jpeg-magic-then-garbage',
      description: 'the JPEG signature FF D8 FF followed by 4 KB of noise',
      bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noise(4096, 2)]),
      contentType: 'image/jpeg',
      expected: rejected('undecodable'),
    },
    {
      name: 'png-declared-jpeg',
      description: 'a real PNG declared as JPEG',
      bytes: photoPng,
      contentType: 'image/jpeg',
      expected: rejected('content_type_mismatch'),
    },

    // Truncated ------------------------------------------------------------------------------------------
    {
      name: 'jpeg-truncated-half',
      description: 'a 1280x960 baseline JPEG cut in half',
      bytes: bigPhoto.subarray(0, bigPhoto.length >> 1),
      contentType: 'image/jpeg',
      expected: rejected('truncated'),
    },
    {
      name: 'jpeg-truncated-after-header',
      description: 'a JPEG cut right after its scan header: no pixel data at all',
      bytes: bigPhoto.subarray(0, afterFirstScanHeader(bigPhoto)),
      contentType: 'image/jpeg',
      expected: rejected('truncated'),
    },
    {
      name: 'jpeg-truncated-in-header',
      description: 'a JPEG cut inside its quantisation tables',
      bytes: bigPhoto.subarray(0, indexOf(bigPhoto, Buffer.from([0xff, 0xdb])) + 20),
      contentType: 'image/jpeg',
      expected: rejected('undecodable'),
    },
    {
      name: 'jpeg-progressive-truncated-half',
      description: 'a progressive JPEG cut in half: its first scans decode, the rest is missing',
      bytes: progressive.subarray(0, progressive.length >> 1),
      contentType: 'image/jpeg',
      expected: rejected('truncated'),
    },
    {
      name: 'png-truncated-half',
      description: 'a 640x480 PNG cut in half',
      bytes: bigPng.subarray(0, bigPng.length >> 1),
      contentType: 'image/png',
      expected: rejected('undecodable'),
    },
    {
      name: 'png-truncated-after-header',
      description: 'a PNG cut right after its IHDR chunk',
      bytes: bigPng.subarray(0, 8 + 25),
      contentType: 'image/png',
      expected: rejected('undecodable'),
    },
    {
      name: 'gif-truncated-half',
      description: 'a 320x240 GIF cut in half',
      bytes: gifPhoto.subarray(0, gifPhoto.length >> 1),
      contentType: 'image/gif',
      expected: rejected('undecodable'),
    },
    {
      name: 'webp-truncated-half',
      description: 'a 320x240 WebP cut in half',
      bytes: webpPhoto.subarray(0, webpPhoto.length >> 1),
      contentType: 'image/webp',
      expected: rejected('undecodable'),
    },

    // Pixel floods and huge headers --------------------------------------------------------------------
    {
      name: 'png-ihdr-100000x100000',
      description: 'PNG whose IHDR (valid CRC) claims 100000x100000, with a few hundred bytes of IDAT',
      bytes: blackPng(100_000, 100_000, 2),
      contentType: 'image/png',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'png-ihdr-2147483647-square',
      description: 'PNG whose IHDR claims the largest width and height PNG allows (2^31 - 1)',
      bytes: blackPng(0x7fffffff, 0x7fffffff, 0),
      contentType: 'image/png',
      expected: rejected('undecodable'),
    },
    {
      name: 'png-flood-20000x20000',
      description: 'a complete, valid 20000x20000 PNG (400 Mpx of black) in about 50 KB',
      bytes: blackPng(20_000, 20_000),
      contentType: 'image/png',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'png-flood-at-budget-10000x10000',
      description: 'a complete 10000x10000 PNG of black (exactly the 100 Mpx budget) in about 12 KB',
      bytes: blackPng(10_000, 10_000),
      contentType: 'image/png',
      expected: {
        outcome: 'accepted',
        facts: { format: 'png', width: 10_000, height: 10_000, pages: 1 },
        variants: { thumb: [300, 300], small: [640, 640], medium: [1024, 1024], large: [1920, 1920] },
      },
    },
    {
      name: 'jpeg-sof-65500x65500',
      description: 'a 320x240 JPEG whose frame header is rewritten to claim 65500x65500',
      bytes: withJpegDimensions(photo, 65_500, 65_500),
      contentType: 'image/jpeg',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'jpeg-flood-12000x12000',
      description: 'a complete progressive 12000x12000 JPEG (144 Mpx of grey) in well under 1 MB',
      bytes: progressiveScanFlood(12_000, 12_000, 0),
      contentType: 'image/jpeg',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'gif-screen-65535x65535',
      description: 'GIF whose logical screen is 65535x65535 around a single 1x1 frame',
      bytes: gif({ width: 65_535, height: 65_535 }, [{ left: 0, top: 0, width: 1, height: 1, colour: 1 }]),
      contentType: 'image/gif',
      expected: {
        // libnsgif takes a screen this implausible for a broken one and shows the frame at its own size.
        outcome: 'accepted',
        facts: { format: 'gif', width: 1, height: 1, pages: 1 },
        variants: nativeOnly(1, 1),
      },
    },
    {
      name: 'gif-flood-12000x12000',
      description: 'a complete 12000x12000 GIF of one colour (144 Mpx) in about 100 KB of LZW',
      bytes: gif({ width: 12_000, height: 12_000 }, [
        { left: 0, top: 0, width: 12_000, height: 12_000, colour: 2 },
      ]),
      contentType: 'image/gif',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'webp-vp8l-12000x12000',
      description: 'a 1x1 lossless WebP whose VP8L header is rewritten to claim 12000x12000',
      bytes: (() => {
        const out = Buffer.from(tinyLossless);
        const vp8l = indexOf(out, 'VP8L') + 8; // signature byte 0x2f, then 14-bit width-1, height-1
        const bits = out.readUInt32LE(vp8l + 1);
        out.writeUInt32LE(((bits & ~0x0fffffff) | 11_999 | (11_999 << 14)) >>> 0, vp8l + 1);
        return out;
      })(),
      contentType: 'image/webp',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'webp-vp8x-canvas-16777216',
      description: 'a still WebP whose VP8X canvas claims 16777216x16777216 around a 1x1 bitstream',
      bytes: riffWebp(
        Buffer.concat([
          Buffer.from('VP8X', 'latin1'),
          u32le(10),
          Buffer.from([0, 0, 0, 0]),
          u24le(0xffffff),
          u24le(0xffffff),
        ]),
        webpChunk(tinyLossless, 'VP8L'),
      ),
      contentType: 'image/webp',
      expected: rejected('undecodable'),
    },
    {
      name: 'webp-animated-canvas-8192',
      description: 'an animated WebP of two 1x1 frames whose VP8X canvas claims 8192x8192 (134 Mpx in all)',
      bytes: (() => {
        const out = Buffer.from(twoFrameWebp);
        const vp8x = indexOf(out, 'VP8X') + 8;
        out.set(u24le(8191), vp8x + 4);
        out.set(u24le(8191), vp8x + 7);
        return out;
      })(),
      contentType: 'image/webp',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'tiff-header-100000x100000',
      description: 'a TIFF whose IFD claims 100000x100000 with a 16-byte strip',
      bytes: handTiff([{ width: 100_000, height: 100_000, stripBytes: 16 }]),
      contentType: 'image/tiff',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'avif-ispe-65535x65535',
      description: 'a 64x48 AVIF whose ispe property is rewritten to claim 65535x65535',
      bytes: (() => {
        const out = Buffer.from(avif);
        const ispe = indexOf(out, 'ispe') + 8; // after type and version/flags
        out.writeUInt32BE(65_535, ispe);
        out.writeUInt32BE(65_535, ispe + 4);
        return out;
      })(),
      contentType: 'image/avif',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'jpeg-progressive-scan-flood',
      description:
        'a valid progressive 4000x4000 JPEG (95 KB) whose AC scan is repeated 2,000 times, each repeat a pass over all 250,000 blocks',
      bytes: progressiveScanFlood(4000, 4000, 2000),
      contentType: 'image/jpeg',
      expected: rejected('undecodable'),
    },
    {
      name: 'jpeg-progressive-100-scans-10000x10000',
      description: `a progressive 10000x10000 JPEG (100 Mpx, the budget) of ${MAX_JPEG_SCANS} scans, the most accepted`,
      bytes: progressiveScanFlood(10_000, 10_000, MAX_JPEG_SCANS - 1),
      contentType: 'image/jpeg',
      expected: {
        outcome: 'accepted',
        facts: { format: 'jpeg', width: 10_000, height: 10_000, pages: 1 },
        variants: { thumb: [300, 300], small: [640, 640], medium: [1024, 1024], large: [1920, 1920] },
      },
    },

    // Polyglots and smuggled payloads ------------------------------------------------------------------
    {
      name: 'polyglot-jpeg-zip-appended',
      description: 'a 320x240 JPEG with a 200 KB ZIP archive appended after its EOI (a JPEG/ZIP polyglot)',
      bytes: Buffer.concat([photo, archive]),
      contentType: 'image/jpeg',
      expected: { ...acceptedPhoto('jpeg'), payload: archive },
    },
    {
      name: 'polyglot-jpeg-zip-in-app15',
      description: 'a 320x240 JPEG carrying a ZIP archive inside an APP15 segment',
      bytes: withSegments(
        photo,
        jpegSegment(0xef, zip('payload.txt', Buffer.concat([payloadText, noise(60_000, 3)]))),
      ),
      contentType: 'image/jpeg',
      expected: { ...acceptedPhoto('jpeg'), payload: payloadText },
    },
    {
      name: 'polyglot-png-zip-after-iend',
      description: 'a 320x240 PNG with a ZIP archive after its IEND chunk',
      bytes: Buffer.concat([photoPng, archive]),
      contentType: 'image/png',
      expected: { ...acceptedPhoto('png'), payload: archive },
    },
    {
      name: 'jpeg-comment-script',
      description: 'a 320x240 JPEG whose COM segment holds an HTML script',
      bytes: withSegments(photo, jpegSegment(0xfe, payloadText)),
      contentType: 'image/jpeg',
      expected: { ...acceptedPhoto('jpeg'), payload: payloadText },
    },
    {
      name: 'jpeg-xmp-entity-expansion',
      description: 'a 320x240 JPEG whose XMP packet is a "billion laughs" entity expansion',
      bytes: withSegments(
        photo,
        jpegSegment(
          0xe1,
          Buffer.from(
            `http://ns.adobe.com/xap/1.0/\0<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "${SMUGGLED_MARKER}">` +
              Array.from(
                { length: 9 },
                (_, i) =>
                  `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`,
              ).join('') +
              '<!ENTITY z "&j;&j;&j;&j;&j;&j;&j;&j;&j;&j;">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&z;</x:xmpmeta>',
            'latin1',
          ),
        ),
      ),
      contentType: 'image/jpeg',
      expected: { ...acceptedPhoto('jpeg'), payload: Buffer.from(SMUGGLED_MARKER) },
    },
    {
      name: 'jpeg-garbage-icc',
      description: 'a 320x240 JPEG with an APP2 ICC profile of 16 KB of noise claiming to be 1 MB',
      bytes: withSegments(
        photo,
        jpegSegment(
          0xe2,
          Buffer.concat([
            Buffer.from('ICC_PROFILE\0', 'latin1'),
            Buffer.from([1, 1]),
            u32be(1 << 20),
            Buffer.from('lcmsmntrRGB XYZ ', 'latin1'),
            noise(16_000, 4),
          ]),
        ),
      ),
      contentType: 'image/jpeg',
      expected: acceptedPhoto('jpeg'),
    },
    {
      name: 'png-ztxt-bomb',
      description: 'a 320x240 PNG with a zTXt chunk that inflates to 100 MB',
      bytes: (() => {
        const bomb = pngChunk(
          'zTXt',
          Buffer.concat([
            Buffer.from('Comment\0\0', 'latin1'),
            deflateSync(Buffer.alloc(100_000_000, 0x41), { level: 9 }),
          ]),
        );
        const iend = photoPng.length - 12;
        return Buffer.concat([photoPng.subarray(0, iend), bomb, photoPng.subarray(iend)]);
      })(),
      contentType: 'image/png',
      expected: acceptedPhoto('png'),
    },
    {
      name: 'png-iccp-bomb',
      description: 'a 320x240 PNG whose iCCP profile inflates to 100 MB',
      bytes: (() => {
        const bomb = pngChunk(
          'iCCP',
          Buffer.concat([
            Buffer.from('bomb\0\0', 'latin1'),
            deflateSync(Buffer.alloc(100_000_000), { level: 9 }),
          ]),
        );
        return Buffer.concat([photoPng.subarray(0, 33), bomb, photoPng.subarray(33)]);
      })(),
      contentType: 'image/png',
      expected: acceptedPhoto('png'),
    },

    // EXIF -----------------------------------------------------------------------------------------------
    {
      name: 'exif-oversized-app1',
      description: 'a 320x240 JPEG whose APP1 EXIF fills the 64 KB segment limit with script-laden text',
      bytes: withSegments(photo, exifOversized()),
      contentType: 'image/jpeg',
      expected: { ...acceptedPhoto('jpeg'), payload: Buffer.from('<script>alert(1)</script>') },
    },
    {
      name: 'exif-ifd-cycle',
      description:
        'a 320x240 JPEG whose EXIF IFDs point back at each other (IFD0 -> IFD0, GPS -> EXIF -> IFD0)',
      bytes: withSegments(photo, exifWithCycles()),
      contentType: 'image/jpeg',
      expected: acceptedPhoto('jpeg'),
    },
    {
      name: 'exif-deep-ifd-chain',
      description:
        'a 320x240 JPEG whose EXIF nests 2,000 IFDs, each the sub-IFD and the next IFD of the last',
      bytes: withSegments(photo, exifDeepChain(2000)),
      contentType: 'image/jpeg',
      expected: acceptedPhoto('jpeg'),
    },
    {
      name: 'exif-huge-counts',
      description: 'a 320x240 JPEG whose EXIF entries claim up to 4 G values at offsets past the segment',
      bytes: withSegments(photo, exifHugeCounts()),
      contentType: 'image/jpeg',
      expected: acceptedPhoto('jpeg'),
    },

    // Odd but legitimate pixels --------------------------------------------------------------------------
    {
      name: 'jpeg-cmyk',
      description: 'a 320x240 CMYK JPEG without a profile',
      bytes: await sharp(photo).toColourspace('cmyk').jpeg().toBuffer(),
      contentType: 'image/jpeg',
      expected: acceptedPhoto('jpeg'),
    },
    {
      name: 'png-16bit-alpha',
      description: 'a 320x240 16-bit RGBA PNG, half transparent',
      bytes: await sharp(photoPng).ensureAlpha(0.5).toColourspace('rgb16').png().toBuffer(),
      contentType: 'image/png',
      expected: acceptedPhoto('png'),
    },
    {
      name: 'tiff-16bit',
      description: 'a 320x240 16-bit RGB TIFF',
      bytes: await sharp(photoPng).toColourspace('rgb16').tiff().toBuffer(),
      contentType: 'image/tiff',
      expected: acceptedPhoto('tiff'),
    },
    {
      name: 'png-1x1',
      description: 'a 1x1 PNG',
      bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#123456' } })
        .png()
        .toBuffer(),
      contentType: 'image/png',
      expected: {
        outcome: 'accepted',
        facts: { format: 'png', width: 1, height: 1, pages: 1 },
        variants: nativeOnly(1, 1),
      },
    },
    {
      name: 'jpeg-1x1',
      description: 'a 1x1 JPEG',
      bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#123456' } })
        .jpeg()
        .toBuffer(),
      contentType: 'image/jpeg',
      expected: {
        outcome: 'accepted',
        facts: { format: 'jpeg', width: 1, height: 1, pages: 1 },
        variants: nativeOnly(1, 1),
      },
    },
    {
      name: 'png-strip-30000x1',
      description: 'a 30000x1 PNG strip',
      bytes: blackPng(30_000, 1),
      contentType: 'image/png',
      expected: {
        outcome: 'accepted',
        facts: { format: 'png', width: 30_000, height: 1, pages: 1 },
        variants: { thumb: [1, 1], small: [640, 1], medium: [1024, 1], large: [1920, 1] },
      },
    },
    {
      name: 'png-strip-1x30000',
      description: 'a 1x30000 PNG strip',
      bytes: blackPng(1, 30_000),
      contentType: 'image/png',
      expected: {
        outcome: 'accepted',
        facts: { format: 'png', width: 1, height: 30_000, pages: 1 },
        variants: { thumb: [1, 1], small: [1, 640], medium: [1, 1024], large: [1, 1920] },
      },
    },
    {
      name: 'jpeg-strip-65500x1-orientation-6',
      description: 'a 65500x1 JPEG (the widest JPEG there is) tagged to be shown turned, as 1x65500',
      bytes: await sharp({ create: { width: 65_500, height: 1, channels: 3, background: '#808080' } })
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer(),
      contentType: 'image/jpeg',
      expected: {
        outcome: 'accepted',
        facts: { format: 'jpeg', width: 65_500, height: 1, pages: 1 },
        variants: { thumb: [1, 1], small: [1, 640], medium: [1, 1024], large: [1, 1920] },
      },
    },

    // Many frames and pages ----------------------------------------------------------------------------
    {
      name: 'gif-3000-frames-16x16',
      description: 'an animated GIF of 3,000 frames of 16x16 (768,000 pixels in all)',
      bytes: gif(
        { width: 16, height: 16 },
        Array.from({ length: 3000 }, (_, i) => ({ left: 0, top: 0, width: 16, height: 16, colour: i % 4 })),
      ),
      contentType: 'image/gif',
      expected: {
        outcome: 'accepted',
        facts: { format: 'gif', width: 16, height: 16, pages: 3000 },
        variants: nativeOnly(16, 16),
        frames: 3000,
      },
    },
    {
      name: 'gif-3000-frames-over-budget',
      description:
        'an animated GIF of 3,000 frames on a 200x200 screen (120 Mpx), each frame one pixel of data',
      bytes: gif(
        { width: 200, height: 200 },
        Array.from({ length: 3000 }, (_, i) => ({ left: i % 200, top: 0, width: 1, height: 1, colour: 1 })),
      ),
      contentType: 'image/gif',
      expected: rejected('too_many_pixels'),
    },
    {
      name: 'gif-20000-frames-1x1',
      description:
        'an animated GIF of 20,000 frames of 1x1 (460 KB): far inside the pixel budget, but a frame flood',
      bytes: gif(
        { width: 1, height: 1 },
        Array.from({ length: 20_000 }, (_, i) => ({ left: 0, top: 0, width: 1, height: 1, colour: i % 4 })),
      ),
      contentType: 'image/gif',
      expected: {
        outcome: 'accepted',
        facts: { format: 'gif', width: 1, height: 1, pages: 20_000 },
        variants: nativeOnly(1, 1),
        frames: MAX_RENDERED_FRAMES,
      },
    },
    {
      name: 'gif-100-frames-1000x1000',
      description: 'an animated GIF of 100 frames of 1000x1000: exactly the 100 Mpx budget, in 170 KB',
      bytes: gif(
        { width: 1000, height: 1000 },
        Array.from({ length: 100 }, (_, i) => ({
          left: 0,
          top: 0,
          width: 1000,
          height: 1000,
          colour: i % 4,
        })),
      ),
      contentType: 'image/gif',
      expected: {
        outcome: 'accepted',
        facts: { format: 'gif', width: 1000, height: 1000, pages: 100 },
        variants: { thumb: [300, 300], small: [640, 640], medium: [1000, 1000], large: 'skipped' },
        frames: 100,
      },
    },
    {
      name: 'tiff-1000-pages',
      description: 'a TIFF of 1,000 pages of 1x1',
      bytes: handTiff(Array.from({ length: 1000 }, () => ({ width: 1, height: 1 }))),
      contentType: 'image/tiff',
      expected: {
        outcome: 'accepted',
        facts: { format: 'tiff', width: 1, height: 1, pages: 1000 },
        variants: nativeOnly(1, 1),
        pagesRendered: 100,
      },
    },
    {
      name: 'tiff-jpeg-scan-flood',
      description: 'a 4000x4000 TIFF whose one strip is the progressive JPEG scan flood (compression 7)',
      bytes: handTiff([{ width: 4000, height: 4000, jpeg: progressiveScanFlood(4000, 4000, 2000) }]),
      contentType: 'image/tiff',
      expected: rejected('undecodable'),
    },
    {
      name: 'tiff-ifd-loop',
      description: 'a TIFF of two 8x8 pages whose second IFD points back to the first',
      bytes: handTiff(
        [
          { width: 8, height: 8 },
          { width: 8, height: 8 },
        ],
        8,
      ),
      contentType: 'image/tiff',
      expected: {
        // libtiff notices the loop and stops after the two pages there are.
        outcome: 'accepted',
        facts: { format: 'tiff', width: 8, height: 8, pages: 2 },
        variants: nativeOnly(8, 8),
        pagesRendered: 2,
      },
    },

    ...heicAdversarialInputs(),

    // ISO-BMFF brands ---------------------------------------------------------------------------------------
    {
      name: 'isobmff-heic-major-avif-compatible',
      description: 'a real AVIF whose ftyp names heic as its major brand, avif among the compatible ones',
      bytes: withBrands(avif, (brand, index) => (index === 0 ? 'heic' : brand)),
      contentType: 'image/avif',
      expected: {
        outcome: 'accepted',
        facts: { format: 'avif', width: 64, height: 48, pages: 1 },
        variants: nativeOnly(64, 48),
      },
    },
    {
      name: 'isobmff-heic-brands-av1-inside',
      description: 'a real AVIF whose ftyp brands all say HEIC',
      bytes: withBrands(avif, (brand) => (brand === 'avif' || brand === 'avis' ? 'heic' : brand)),
      contentType: 'image/avif',
      expected: rejected('heic_not_supported'),
    },
    {
      name: 'isobmff-avif-brand-hevc-item',
      description: 'an AVIF whose image item is relabelled HEVC (hvc1) under the avif brand',
      bytes: (() => {
        const out = Buffer.from(avif);
        out.write('hvc1', indexOf(out, 'av01', indexOf(out, 'infe')), 'latin1');
        return out;
      })(),
      contentType: 'image/avif',
      expected: rejected('undecodable'),
    },
  ];
  return inputs;

  function acceptedPhoto(format: InputFormat): AcceptedExpectation {
    return {
      outcome: 'accepted',
      facts: { format, width: 320, height: 240, pages: 1 },
      variants: ACCEPTED_PHOTO_320x240,
    };
  }
}

/** The item of a layout with this id. */
function layoutItem(layout: HeifLayout, id: number) {
  const item = layout.items.find((candidate) => candidate.id === id);
  if (!item) throw new Error(`no item ${id} in the HEIF layout`);
  return item;
}

/**
 * Hostile HEICs, assembled by the HEIF builder from a real 64x64 HEVC image (nothing here decodes
 * them), each refused by the container alone before any HEVC is decoded. Pure and quick to build: the
 * unit tests of the HEIF reader check each one's reason too.
 */
export function heicAdversarialInputs(): AdversarialInput[] {
  const grid = { rows: 2, columns: 2 };
  const photo = buildHeif({ grid, alpha: true });
  const heic = (
    name: string,
    description: string,
    bytes: Buffer,
    reason: Extract<RejectionReason, 'truncated' | 'undecodable' | 'too_many_pixels'>,
  ): AdversarialInput => ({
    name,
    description,
    bytes,
    contentType: 'image/heic',
    expected: rejected(reason),
    beforeHeicIngest: rejected('heic_not_supported'),
  });
  return [
    heic(
      'heic-truncated-in-mdat',
      'a 128x128 HEIC of 2x2 tiles with alpha, cut off in its mdat box as a dropped download leaves it',
      cutInside(photo, 'mdat'),
      'truncated',
    ),
    heic(
      'heic-truncated-in-meta',
      'the same HEIC cut off in its meta box, before the item locations',
      cutInside(photo, 'meta'),
      'truncated',
    ),
    heic(
      'heic-meta-claims-4gb',
      'a HEIC whose meta box claims to be 4 GB long',
      (() => {
        const out = Buffer.from(photo);
        out.writeUInt32BE(0xfffffff0, topLevelBox(out, 'meta').start);
        return out;
      })(),
      'truncated',
    ),
    heic(
      'heic-grid-100000-tiles',
      'a 2x2 grid whose dimg references claim 100,000 tiles (one 64x64 tile, 100,000 times) in 200 KB',
      buildHeif({ grid, claimedTiles: 100_000 }),
      'undecodable',
    ),
    heic(
      'heic-grid-256x256-tiles',
      'a 4096x4096 grid (inside the pixel budget) whose description claims 256x256 = 65,536 tiles around the 4 it has',
      buildHeif({
        grid,
        ispe: { width: 4096, height: 4096 },
        tamper: (layout) => {
          layoutItem(layout, PRIMARY_ID).data = gridDescriptor(256, 256, 4096, 4096);
        },
      }),
      'undecodable',
    ),
    heic(
      'heic-grid-of-grids',
      'a grid whose one tile is itself a grid (of the 2x2 tiles)',
      buildHeif({
        grid,
        tamper: (layout) => {
          layout.items.push({
            id: 99,
            type: 'grid',
            data: gridDescriptor(1, 1, 128, 128),
            inIdat: true,
            properties: [ispe(128, 128)],
            references: [{ type: 'dimg', to: [PRIMARY_ID] }],
          });
          layout.primaryId = 99;
        },
      }),
      'undecodable',
    ),
    heic(
      'heic-ispe-0x0',
      'a HEIC whose image is 0x0 by its ispe',
      buildHeif({ ispe: { width: 0, height: 0 } }),
      'undecodable',
    ),
    heic(
      'heic-ispe-100000x100000',
      'a HEIC whose grid claims 100000x100000, more than 65,535 a side',
      buildHeif({ grid: { ...grid, width: 100_000, height: 100_000 } }),
      'undecodable',
    ),
    heic(
      'heic-grid-20000x20000',
      'a grid of 2x2 tiles of 64x64 whose description and ispe claim 20000x20000 (400 Mpx)',
      buildHeif({ grid: { ...grid, width: 20_000, height: 20_000 } }),
      'too_many_pixels',
    ),
    heic(
      'heic-grid-uncovered',
      'a grid of 2x2 tiles of 64x64 claiming 1000x1000: the tiles cover an eighth of it',
      buildHeif({ grid: { ...grid, width: 1000, height: 1000 } }),
      'undecodable',
    ),
    heic(
      'heic-sps-16384x16384',
      'a 64x64 HEIC whose HEVC sequence parameter set codes 16384x16384: what the decoder would allocate',
      buildHeif({ image: withCodedSize(QUADRANTS, 16_384, 16_384) }),
      'undecodable',
    ),
    heic(
      'heic-dimg-loop',
      'a grid whose first tile is derived from the grid in turn (dimg: grid -> tile -> grid)',
      buildHeif({
        grid,
        tamper: (layout) => {
          layoutItem(layout, PRIMARY_ID + 1).references = [{ type: 'dimg', to: [PRIMARY_ID] }];
        },
      }),
      'undecodable',
    ),
    heic(
      'heic-auxl-loop',
      'an image and its alpha plane, each the auxiliary image of the other (auxl both ways)',
      buildHeif({
        alpha: true,
        tamper: (layout) => {
          const alpha = layout.items.find((item) => item.references?.some((r) => r.type === 'auxl'));
          layoutItem(layout, PRIMARY_ID).references = [{ type: 'auxl', to: [alpha?.id ?? 0] }];
        },
      }),
      'undecodable',
    ),
    heic(
      'heic-pitm-missing',
      'a HEIC whose primary item (pitm) is not in the file',
      buildHeif({
        tamper: (layout) => {
          layout.primaryId = 404;
        },
      }),
      'undecodable',
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------
// The hostile files of the shared corpus

/** Where the shared corpus is, when a machine has it: `../shared/corpus` beside the repository. */
export const CORPUS_DIR = resolve(import.meta.dirname, '../..', '../shared/corpus');

/**
 * The corpus's real-world hostile files (pixel floods, truncations, markup, HEIC, formats the pipeline
 * does not take) and the reason each is refused with.
 */
export const CORPUS_HOSTILE: readonly (readonly [file: string, reason: RejectionReason])[] = [
  ['sharp__65536-uint32-limit.png', 'too_many_pixels'],
  ['sharp__giant-image.jpg', 'too_many_pixels'],
  ['sharp__truncated.jpg', 'truncated'],
  ['sharp__truncated.png', 'undecodable'],
  ['ianare__corrupted.jpg', 'truncated'],
  ['sharp__corrupt-header.jpg', 'undecodable'],
  ['sharp__check.svg', 'markup_not_allowed'],
  ['sharp__struct-image-04-t.svg', 'markup_not_allowed'],
  ['ianare__IMG_5195.HEIC', 'heic_not_supported'],
  ['immich__8bit-sRGB.jxl', 'unrecognised_format'],
  ['sharp__relax.jp2', 'unrecognised_format'],
  ['sharp__vfile.v', 'unrecognised_format'],
];

/**
 * Those of `CORPUS_HOSTILE` present in `dir`, as inputs: declared as what their bytes are where they
 * are an image (so only the bytes can refuse them), as JPEG otherwise.
 */
export function corpusHostileInputs(dir = CORPUS_DIR): AdversarialInput[] {
  return CORPUS_HOSTILE.filter(([file]) => existsSync(join(dir, file))).map(([file, reason]) => {
    const bytes = readFileSync(join(dir, file));
    const sniffed = sniff(bytes.subarray(0, SNIFF_BYTES));
    return {
      name: `corpus:${file}`,
      description: `${file} from the shared corpus`,
      bytes,
      contentType: sniffed.kind === 'image' ? INPUT_FORMATS[sniffed.format] : 'image/jpeg',
      expected: rejected(reason),
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Running an input through the pipeline, as ingest and the render lanes do (no AWS)

export interface RenderedLanes {
  objects: RenderResult['objects'];
  skipped: RenderResult['skipped'];
  /** The thumbnails lane's extras. */
  placeholder: Placeholder;
  technicalMetadata: TechnicalMetadata;
}

export interface PipelineRun {
  assessment: Assessment;
  /** Wall-clock time of ingest's judgement, ms. */
  assessMs: number;
  /** For an accepted input: every lane's outputs, or the render failure recorded on the image. */
  render?: { rendered: RenderedLanes } | { failed: UnrenderableImageError };
}

/**
 * Judges the bytes as ingest does (`assessUpload`), then, when they are accepted, renders them as
 * the two render lanes do: one `renderVariants` per lane with the whole variant set, and the
 * thumbnails lane's placeholder and technical metadata.
 */
export async function runPipeline(
  input: Pick<AdversarialInput, 'bytes' | 'contentType'>,
  settings: Settings,
): Promise<PipelineRun> {
  const imageId = 'a'.repeat(64);
  const started = performance.now();
  const assessment = await assessUpload(
    input.bytes,
    imageId,
    { contentType: input.contentType, sha256: undefined },
    settings,
  );
  const assessMs = performance.now() - started;
  if (!assessment.accepted) return { assessment, assessMs };
  const rendered: RenderedLanes = {
    objects: [],
    skipped: [],
    placeholder: { thumbHash: '', dominantColour: '' },
    technicalMetadata: {},
  };
  try {
    for (const job of planRenderJobs(imageId, settings)) {
      const specs = settings.variants.filter((variant) => job.variants.includes(variant.name));
      const result = await renderVariants(input.bytes, specs, {
        maxInputPixels: settings.maxInputPixels,
        variantSet: settings.variants,
      });
      rendered.objects.push(...result.objects);
      rendered.skipped.push(...result.skipped);
      if (job.lane === 'thumbnails') {
        rendered.placeholder = await makePlaceholder(input.bytes, {
          maxInputPixels: settings.maxInputPixels,
        });
        rendered.technicalMetadata = await readTechnicalMetadata(input.bytes, {
          includeGps: settings.keepGpsMetadata,
        });
      }
    }
  } catch (error) {
    if (error instanceof UnrenderableImageError) return { assessment, assessMs, render: { failed: error } };
    throw error;
  }
  return { assessment, assessMs, render: { rendered } };
}
