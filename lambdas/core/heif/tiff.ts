/** How 8-bit interleaved pixels are laid out, and what their fourth channel means. */
export interface RasterLayout {
  width: number;
  height: number;
  channels: 3 | 4;
  /** Whether colour values are already multiplied by alpha (TIFF's "associated" alpha). */
  premultiplied: boolean;
}

const SHORT = 3;
const LONG = 4;
const UNDEFINED = 7;

interface Entry {
  tag: number;
  type: typeof SHORT | typeof LONG | typeof UNDEFINED;
  /** Numbers for SHORT and LONG, bytes for UNDEFINED. */
  values: number[] | Uint8Array;
}

const valueBytes = (entry: Entry) =>
  entry.values instanceof Uint8Array
    ? entry.values.length
    : entry.values.length * (entry.type === SHORT ? 2 : 4);

/**
 * The head of an uncompressed baseline TIFF (little-endian, one strip) of 8-bit RGB or RGBA pixels,
 * with an ICC profile when given: the pixels follow it, row after row, from `head.length` on. TIFF
 * is the one container libvips reads raw pixels together with their colour profile from memory, so
 * pixels decoded elsewhere enter the render core exactly as a decoded file would, profile and all.
 */
export function tiffHead(layout: RasterLayout, icc: Uint8Array | undefined): Buffer {
  const { width, height, channels } = layout;
  const pixelBytes = width * height * channels;
  const entries: Entry[] = [
    { tag: 256, type: LONG, values: [width] },
    { tag: 257, type: LONG, values: [height] },
    { tag: 258, type: SHORT, values: Array(channels).fill(8) }, // BitsPerSample
    { tag: 259, type: SHORT, values: [1] }, // Compression: none
    { tag: 262, type: SHORT, values: [2] }, // PhotometricInterpretation: RGB
    { tag: 273, type: LONG, values: [0] }, // StripOffsets: set below, once the head's size is known
    { tag: 277, type: SHORT, values: [channels] }, // SamplesPerPixel
    { tag: 278, type: LONG, values: [height] }, // RowsPerStrip
    { tag: 279, type: LONG, values: [pixelBytes] }, // StripByteCounts
    { tag: 284, type: SHORT, values: [1] }, // PlanarConfiguration: interleaved
  ];
  // ExtraSamples: 1 associated (premultiplied) alpha, 2 unassociated.
  if (channels === 4) entries.push({ tag: 338, type: SHORT, values: [layout.premultiplied ? 1 : 2] });
  if (icc) entries.push({ tag: 34675, type: UNDEFINED, values: icc }); // ICC profile

  const ifdOffset = 8;
  const ifdBytes = 2 + entries.length * 12 + 4;
  // Values longer than four bytes live after the directory, each at an even offset.
  let dataOffset = ifdOffset + ifdBytes;
  const placed = entries.map((entry) => {
    const size = valueBytes(entry);
    if (size <= 4) return { entry, offset: undefined };
    const offset = dataOffset;
    dataOffset += size + (size % 2);
    return { entry, offset };
  });
  const headBytes = dataOffset;
  const stripOffsets = entries.find((entry) => entry.tag === 273);
  if (stripOffsets) stripOffsets.values = [headBytes];

  const head = Buffer.alloc(headBytes);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(ifdOffset, 4);
  head.writeUInt16LE(entries.length, ifdOffset);
  placed.forEach(({ entry, offset }, index) => {
    const at = ifdOffset + 2 + index * 12;
    const count = entry.values.length;
    head.writeUInt16LE(entry.tag, at);
    head.writeUInt16LE(entry.type, at + 2);
    head.writeUInt32LE(count, at + 4);
    if (offset !== undefined) head.writeUInt32LE(offset, at + 8);
    writeValues(head, entry, offset ?? at + 8);
  });
  return head;
}

function writeValues(target: Buffer, entry: Entry, at: number): void {
  if (entry.values instanceof Uint8Array) {
    target.set(entry.values, at);
    return;
  }
  entry.values.forEach((value, index) => {
    if (entry.type === SHORT) target.writeUInt16LE(value, at + index * 2);
    else target.writeUInt32LE(value, at + index * 4);
  });
}
