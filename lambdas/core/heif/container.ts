import { ApertureError } from '../errors.js';
import type { RejectionReason } from '../rejections.js';

/**
 * The HEIF container (ISO/IEC 23008-12 over the ISO base media file format, 14496-12), judged before
 * a pixel is decoded: which image is the primary one, its size as displayed, how many pixels its
 * decode takes, its colour and its Exif. Every box and item extent is checked against its parent and
 * the file, and no loop runs longer than the bytes that back it or a fixed cap, so hostile bytes are
 * refused in time proportional to the file at worst, never by a crash or a hang.
 */

export type UnreadableHeifReason = Extract<RejectionReason, 'truncated' | 'undecodable' | 'too_many_pixels'>;

/**
 * The HEIF cannot be read: its container (here) or libheif (`decodeHeifAsTiff`) refuses it, as cut
 * short (`truncated`, as a broken download is), malformed or beyond what the pipeline decodes
 * (`undecodable`), or over the pixel budget (`too_many_pixels`). Permanent: the same bytes are
 * refused the same way every time.
 */
export class UnreadableHeifError extends ApertureError {
  readonly code = 'unreadable_heif';
  readonly reason: UnreadableHeifReason;

  constructor(reason: UnreadableHeifReason, message: string) {
    super(message, { reason });
    this.reason = reason;
  }
}

const truncated = (message: string) => new UnreadableHeifError('truncated', message);
const undecodable = (message: string) => new UnreadableHeifError('undecodable', message);

// ---------------------------------------------------------------------------------------------------
// Bounds

/**
 * Tiles a grid image may have. Each tile is an HEVC decode of its own (a decoder set up, parameter
 * sets parsed, a picture copied into place), a cost the pixel budget does not see. Phones write
 * 512x512 tiles: an iPhone's 12 MP photo has 48 of them, its 48 MP one 192, and a 200 MP sensor's
 * 16320x12240 would take 768; nothing a camera writes comes near 1024.
 */
export const MAX_GRID_TILES = 1024;

/** Widest or tallest image, tile or grid: the most JPEG and WebP allow too. */
const MAX_SIDE = 65_535;

/**
 * Items a file may have: a grid at the tile cap with an alpha grid and a gain map grid as large,
 * thumbnails and metadata stay well under it (an iPhone 48 MP photo has about 200).
 */
const MAX_ITEMS = 4096;

/** Item references in all: a few per item (a grid's `dimg` are one per tile). */
const MAX_REFERENCES = 4 * MAX_ITEMS;

/** Pieces one item's data may be split into; libheif refuses more than 32 too. */
const MAX_EXTENTS_PER_ITEM = 32;

/** NAL units walked over every coded image of one decode: 64 per tile at the tile cap. */
const MAX_NAL_UNITS = 64 * MAX_GRID_TILES;

/** Exif larger than this is not read (a JPEG's Exif has at most 64 KB). */
const MAX_EXIF_BYTES = 1 << 20;

/** The `auxC` types of an alpha plane: MPEG's for any codec, and HEVC's own that libheif writes. */
const ALPHA_URNS = new Set(['urn:mpeg:mpegB:cicp:systems:auxiliary:alpha', 'urn:mpeg:hevc:2015:auxid:1']);

/** Coded image item types, with the property holding each one's decoder configuration. */
const DECODER_CONFIG: Readonly<Record<string, string>> = { hvc1: 'hvcC', av01: 'av1C' };

// ---------------------------------------------------------------------------------------------------
// The parsed file

/**
 * One property of `ipco`: its type and its bytes after the box header (version and flags included).
 * Items associated with the same property share the object.
 */
export interface HeifProperty {
  type: string;
  body: Uint8Array;
}

/** Where a piece of an item's data is in the file: absolute offsets, checked to lie inside it. */
export interface HeifExtent {
  offset: number;
  length: number;
}

export interface HeifItem {
  id: number;
  /** `hvc1`, `av01`, `grid`, `Exif`, `mime`, … */
  type: string;
  hidden: boolean;
  /** Encrypted (an `item_protection_index`): nothing the pipeline can decode. */
  protected: boolean;
  /** In the order `ipma` associates them, which is the order transformations apply in. */
  properties: HeifProperty[];
  /** Where its data is; undefined for an item without data (none in `iloc`). */
  extents: HeifExtent[] | undefined;
  /** The items it references, by reference type (`dimg`, `thmb`, `auxl`, `cdsc`, …), in order. */
  references: Map<string, number[]>;
}

export interface HeifFile {
  bytes: Uint8Array;
  primaryId: number;
  items: Map<number, HeifItem>;
}

const fourcc = (bytes: Uint8Array, at: number) =>
  String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);

/** Reads the fields of one box body, each read checked against the box's end. */
class Fields {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private at: number,
    private readonly end: number,
    /** What the fields are of, for messages: `the iloc box`. */
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.at;
  }

  get remaining(): number {
    return this.end - this.at;
  }

  private take(length: number): number {
    if (length > this.end - this.at) throw undecodable(`${this.what} is shorter than its fields`);
    const at = this.at;
    this.at += length;
    return at;
  }

  /** Fails unless `count` entries of at least `each` bytes fit in what is left: no loop outruns the box. */
  expect(count: number, each: number, entries: string): void {
    if (count * each > this.remaining) {
      throw undecodable(`${this.what} claims ${count} ${entries} in ${this.remaining} bytes`);
    }
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  u16(): number {
    return this.view.getUint16(this.take(2));
  }

  u32(): number {
    return this.view.getUint32(this.take(4));
  }

  u64(): number {
    const at = this.take(8);
    // Past 2^53 the value is inexact, but then it is past the end of any file all the same.
    return this.view.getUint32(at) * 2 ** 32 + this.view.getUint32(at + 4);
  }

  fourcc(): string {
    return fourcc(this.bytes, this.take(4));
  }

  /** A big-endian unsigned integer of 1 to 4 bytes. */
  uint(size: number): number {
    const at = this.take(size);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + (this.bytes[at + i] as number);
    return value;
  }

  skip(length: number): void {
    this.take(length);
  }

  /** An unsigned integer of 0, 4 or 8 bytes, as `iloc` sizes its fields. */
  sized(size: number): number {
    if (size === 0) return 0;
    if (size === 4) return this.u32();
    if (size === 8) return this.u64();
    throw undecodable(`${this.what} has fields of ${size} bytes`);
  }

  /** A NUL-terminated string; one running to the end of the box is taken whole. */
  string(): string {
    const nul = this.bytes.subarray(this.at, this.end).indexOf(0);
    const length = nul < 0 ? this.remaining : nul;
    const text = String.fromCharCode(...this.bytes.subarray(this.at, this.at + Math.min(length, 256)));
    this.at += nul < 0 ? length : length + 1;
    return text;
  }

  fullBox(): { version: number; flags: number } {
    const word = this.u32();
    return { version: word >>> 24, flags: word & 0xffffff };
  }
}

interface Box {
  type: string;
  start: number;
  /** Where the body starts, after the size, type, 64-bit size and uuid that are there. */
  body: number;
  end: number;
}

/**
 * Calls `visit` for each box in [start, end), in order. A box running past the file is a cut-off file;
 * one running past its parent (but not the file) is malformed. Each box is at least 8 bytes, so the
 * walk takes at most (end - start) / 8 steps.
 */
function eachBox(
  bytes: Uint8Array,
  start: number,
  end: number,
  visit: (box: Box) => void,
  topLevel = false,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const check = (to: number, what: string) => {
    if (to > bytes.length) throw truncated(`${what} runs past the end of the file (${to} > ${bytes.length})`);
    if (to > end) throw undecodable(`${what} runs past the box it is in`);
  };
  for (let at = start; at < end; ) {
    check(at + 8, `the box header at ${at}`);
    const type = fourcc(bytes, at + 4);
    let size = view.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      check(at + 16, `the ${type} box header at ${at}`);
      size = view.getUint32(body) * 2 ** 32 + view.getUint32(body + 4);
      body += 8;
    } else if (size === 0) {
      // "To the end of the file": only the last box of the file may say so.
      if (!topLevel) throw undecodable(`the ${type} box at ${at} has no size`);
      size = end - at;
    }
    if (type === 'uuid') body += 16;
    if (size < body - at) throw undecodable(`the ${type} box at ${at} is smaller than its header`);
    check(at + size, `the ${type} box at ${at}`);
    visit({ type, start: at, body, end: at + size });
    at += size;
  }
}

/** The one box of each type in `parent` named in `types`: a second one is malformed. */
function childBoxes(bytes: Uint8Array, parent: Box, body: number, types: readonly string[]) {
  const found = new Map<string, Box>();
  eachBox(bytes, body, parent.end, (box) => {
    if (!types.includes(box.type)) return;
    if (found.has(box.type)) throw undecodable(`the ${parent.type} box has two ${box.type} boxes`);
    found.set(box.type, box);
  });
  return found;
}

function required(boxes: Map<string, Box>, type: string, parent: string): Box {
  const box = boxes.get(type);
  if (!box) throw undecodable(`the ${parent} box has no ${type} box`);
  return box;
}

/**
 * The file's item structure: every box and item extent checked against the file (`truncated` when
 * past its end) and its parent, the item references free of loops. Nothing is decoded or judged
 * here beyond the structure: `readHeifHeader` does that.
 */
export function parseHeif(bytes: Uint8Array): HeifFile {
  let ftyp = false;
  let meta: Box | undefined;
  eachBox(
    bytes,
    0,
    bytes.length,
    (box) => {
      if (!ftyp && box.type !== 'ftyp') throw undecodable(`the file starts with ${box.type}, not ftyp`);
      ftyp = true;
      if (box.type !== 'meta') return;
      if (meta) throw undecodable('the file has two meta boxes');
      meta = box;
    },
    true,
  );
  if (!meta) throw undecodable(ftyp ? 'the file has no meta box' : 'the file is empty');

  const metaFields = new Fields(bytes, meta.body, meta.end, 'the meta box');
  if (metaFields.fullBox().version !== 0) throw undecodable('the meta box is of an unknown version');
  const boxes = childBoxes(bytes, meta, metaFields.position, [
    'hdlr',
    'pitm',
    'iinf',
    'iloc',
    'iref',
    'iprp',
    'idat',
  ]);

  const hdlrBox = required(boxes, 'hdlr', 'meta');
  const hdlr = new Fields(bytes, hdlrBox.body, hdlrBox.end, 'the hdlr box');
  hdlr.fullBox();
  hdlr.u32();
  const handler = hdlr.fourcc();
  if (handler !== 'pict') throw undecodable(`the meta box is for ${handler}, not pictures`);

  const pitm = required(boxes, 'pitm', 'meta');
  const pitmFields = new Fields(bytes, pitm.body, pitm.end, 'the pitm box');
  const primaryId = pitmFields.fullBox().version === 0 ? pitmFields.u16() : pitmFields.u32();

  const items = readItemInfo(bytes, required(boxes, 'iinf', 'meta'));
  const locations = readItemLocations(bytes, required(boxes, 'iloc', 'meta'), boxes.get('idat'));
  const properties = readItemProperties(bytes, required(boxes, 'iprp', 'meta'));
  const iref = boxes.get('iref');
  const references = iref ? readItemReferences(bytes, iref) : new Map<number, Map<string, number[]>>();
  for (const item of items.values()) {
    item.extents = locations.get(item.id);
    item.properties = properties.get(item.id) ?? [];
    item.references = references.get(item.id) ?? new Map();
  }
  assertNoReferenceLoop(items);
  return { bytes, primaryId, items };
}

function readItemInfo(bytes: Uint8Array, iinf: Box): Map<number, HeifItem> {
  const fields = new Fields(bytes, iinf.body, iinf.end, 'the iinf box');
  const count = fields.fullBox().version === 0 ? fields.u16() : fields.u32();
  if (count > MAX_ITEMS) throw undecodable(`the file claims ${count} items, more than ${MAX_ITEMS}`);
  const items = new Map<number, HeifItem>();
  eachBox(bytes, fields.position, iinf.end, (box) => {
    if (box.type !== 'infe') return;
    if (items.size === count) throw undecodable(`the iinf box holds more than the ${count} items it claims`);
    const infe = new Fields(bytes, box.body, box.end, 'the infe box');
    const { version, flags } = infe.fullBox();
    // Versions 0 and 1 predate item types: HEIF requires 2 or 3.
    if (version !== 2 && version !== 3) throw undecodable(`an infe box is of version ${version}, not 2 or 3`);
    const id = version === 2 ? infe.u16() : infe.u32();
    const protectionIndex = infe.u16();
    const type = infe.fourcc();
    if (items.has(id)) throw undecodable(`item ${id} is described twice`);
    items.set(id, {
      id,
      type,
      hidden: (flags & 1) === 1,
      protected: protectionIndex !== 0,
      properties: [],
      extents: undefined,
      references: new Map(),
    });
  });
  if (items.size !== count) throw undecodable(`the iinf box holds ${items.size} items, not ${count}`);
  return items;
}

/**
 * Every item's extents from `iloc`, as absolute offsets: in the file (construction method 0) or in
 * the `idat` box (method 1), each checked to lie inside it.
 */
function readItemLocations(bytes: Uint8Array, iloc: Box, idat: Box | undefined): Map<number, HeifExtent[]> {
  const fields = new Fields(bytes, iloc.body, iloc.end, 'the iloc box');
  const { version } = fields.fullBox();
  if (version > 2) throw undecodable(`the iloc box is of version ${version}`);
  const sizes = fields.u16();
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 0xf;
  const baseOffsetSize = (sizes >> 4) & 0xf;
  const indexSize = version === 0 ? 0 : sizes & 0xf;
  const count = version < 2 ? fields.u16() : fields.u32();
  if (count > MAX_ITEMS) throw undecodable(`the iloc box claims ${count} items, more than ${MAX_ITEMS}`);
  const idSize = version < 2 ? 2 : 4;
  fields.expect(count, idSize + (version === 0 ? 0 : 2) + 2 + baseOffsetSize + 2, 'item locations');

  const locations = new Map<number, HeifExtent[]>();
  for (let i = 0; i < count; i++) {
    const id = idSize === 2 ? fields.u16() : fields.u32();
    const method = version === 0 ? 0 : fields.u16() & 0xf;
    if (method > 1) throw undecodable(`item ${id} is built from other items (construction method ${method})`);
    if (fields.u16() !== 0) throw undecodable(`item ${id} has its data in another file`);
    const base = fields.sized(baseOffsetSize);
    const extentCount = fields.u16();
    if (extentCount > MAX_EXTENTS_PER_ITEM) {
      throw undecodable(`item ${id} is split into ${extentCount} extents, more than ${MAX_EXTENTS_PER_ITEM}`);
    }
    fields.expect(extentCount, indexSize + offsetSize + lengthSize, 'extents');
    if (method === 1 && !idat) throw undecodable(`item ${id} is in an idat box the file does not have`);
    // Offsets of method 1 count from the start of the idat box's data.
    const [origin, sourceEnd] = method === 1 && idat ? [idat.body, idat.end] : [0, bytes.length];
    const extents: HeifExtent[] = [];
    for (let e = 0; e < extentCount; e++) {
      fields.sized(indexSize);
      const offset = origin + base + fields.sized(offsetSize);
      // A length of 0 is "all the rest of the data".
      const length = fields.sized(lengthSize) || Math.max(0, sourceEnd - offset);
      if (offset + length > bytes.length) {
        throw truncated(
          `item ${id}'s data runs past the end of the file (${offset + length} > ${bytes.length})`,
        );
      }
      if (offset + length > sourceEnd) throw undecodable(`item ${id}'s data runs past the idat box`);
      extents.push({ offset, length });
    }
    if (locations.has(id)) throw undecodable(`item ${id} is located twice`);
    locations.set(id, extents);
  }
  return locations;
}

/** Every item's properties from `ipco`, in the order `ipma` associates them. */
function readItemProperties(bytes: Uint8Array, iprp: Box): Map<number, HeifProperty[]> {
  const boxes: Box[] = [];
  let ipco: Box | undefined;
  eachBox(bytes, iprp.body, iprp.end, (box) => {
    if (box.type === 'ipco') {
      if (ipco) throw undecodable('the iprp box has two ipco boxes');
      ipco = box;
    } else if (box.type === 'ipma') boxes.push(box);
  });
  if (!ipco) throw undecodable('the iprp box has no ipco box');
  // One object per property, shared by the items associated with it.
  const declared: HeifProperty[] = [];
  eachBox(bytes, ipco.body, ipco.end, (box) => {
    // The most an association can name (15 bits): the rest could never be used.
    if (declared.length === 0x7fff) throw undecodable('the ipco box has more than 32,767 properties');
    declared.push({ type: box.type, body: bytes.subarray(box.body, box.end) });
  });

  const associated = new Map<number, HeifProperty[]>();
  for (const ipma of boxes) {
    const fields = new Fields(bytes, ipma.body, ipma.end, 'the ipma box');
    const { version, flags } = fields.fullBox();
    const count = fields.u32();
    if (count > MAX_ITEMS) throw undecodable(`the ipma box claims ${count} items, more than ${MAX_ITEMS}`);
    const idSize = version < 1 ? 2 : 4;
    fields.expect(count, idSize + 1, 'entries');
    for (let i = 0; i < count; i++) {
      const id = idSize === 2 ? fields.u16() : fields.u32();
      const associations = fields.u8();
      if (associated.has(id)) throw undecodable(`item ${id}'s properties are associated twice`);
      const list: HeifProperty[] = [];
      for (let a = 0; a < associations; a++) {
        // The top bit says whether the property is essential: whether a reader must understand it.
        const index = flags & 1 ? fields.u16() & 0x7fff : fields.u8() & 0x7f;
        if (index === 0) continue;
        const property = declared[index - 1];
        if (!property) {
          throw undecodable(`item ${id} has property ${index}, past the ${declared.length} there are`);
        }
        list.push(property);
      }
      associated.set(id, list);
    }
  }
  return associated;
}

/** Every item's references, from item to types to the items it references. */
function readItemReferences(bytes: Uint8Array, iref: Box): Map<number, Map<string, number[]>> {
  const fields = new Fields(bytes, iref.body, iref.end, 'the iref box');
  const { version } = fields.fullBox();
  if (version > 1) throw undecodable(`the iref box is of version ${version}`);
  const idSize = version === 0 ? 2 : 4;
  const references = new Map<number, Map<string, number[]>>();
  let total = 0;
  eachBox(bytes, fields.position, iref.end, (box) => {
    const entry = new Fields(bytes, box.body, box.end, `the ${box.type} reference box`);
    const from = idSize === 2 ? entry.u16() : entry.u32();
    const count = entry.u16();
    entry.expect(count, idSize, 'references');
    const byType = references.get(from) ?? new Map<string, number[]>();
    references.set(from, byType);
    const to = byType.get(box.type) ?? [];
    byType.set(box.type, to);
    // A grid has one `dimg` per tile: this many are refused before they are read.
    if (box.type === 'dimg' && to.length + count > MAX_GRID_TILES) {
      throw undecodable(
        `item ${from} is derived from at least ${to.length + count} images, more than the ${MAX_GRID_TILES} tiles of a grid decoded`,
      );
    }
    total += count;
    if (total > MAX_REFERENCES) throw undecodable(`the file has more than ${MAX_REFERENCES} item references`);
    for (let i = 0; i < count; i++) to.push(idSize === 2 ? entry.u16() : entry.u32());
  });
  return references;
}

/**
 * Refuses a file whose item references lead from an item back to itself, whatever their types: a
 * decoder following them (a grid's tiles, an image's alpha) would never stop. Depth-first, with an
 * explicit stack: linear in items and references, and no recursion a long chain could overflow.
 */
function assertNoReferenceLoop(items: Map<number, HeifItem>): void {
  const done = new Set<number>();
  const onPath = new Set<number>();
  const targets = (item: HeifItem) =>
    [...item.references.values()].flat().filter((id) => items.has(id) && !done.has(id));
  for (const root of items.values()) {
    if (done.has(root.id)) continue;
    const stack: { item: HeifItem; next: number[] }[] = [{ item: root, next: targets(root) }];
    onPath.add(root.id);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as (typeof stack)[number];
      const id = top.next.pop();
      if (id === undefined) {
        stack.pop();
        onPath.delete(top.item.id);
        done.add(top.item.id);
        continue;
      }
      if (onPath.has(id)) throw undecodable(`the references of item ${id} lead back to item ${id}`);
      if (done.has(id)) continue;
      const item = items.get(id) as HeifItem;
      onPath.add(id);
      stack.push({ item, next: targets(item) });
    }
  }
}

/** The item's data: one view into the file, or its extents joined. */
export function itemData(file: HeifFile, item: HeifItem): Uint8Array {
  const extents = item.extents ?? [];
  if (extents.length === 1) {
    const [only] = extents as [HeifExtent];
    return file.bytes.subarray(only.offset, only.offset + only.length);
  }
  const out = new Uint8Array(itemLength(item));
  let at = 0;
  for (const { offset, length } of extents) {
    out.set(file.bytes.subarray(offset, offset + length), at);
    at += length;
  }
  return out;
}

const itemLength = (item: HeifItem) => (item.extents ?? []).reduce((sum, extent) => sum + extent.length, 0);

// ---------------------------------------------------------------------------------------------------
// The header: the primary image judged

export interface HeifHeader {
  primary: {
    itemId: number;
    /** `hvc1`, `av01`, or `grid` (of tiles of those). */
    itemType: string;
    /**
     * As displayed: the `ispe` size, width and height swapped by a quarter turn. A clean aperture
     * (`clap`) crop is not applied: phones write none (libheif's encoder crops with a grid instead).
     */
    width: number;
    height: number;
    /** `irot`: anticlockwise, as the standard has it; applied before `mirror`. */
    rotation: 0 | 90 | 180 | 270;
    /**
     * `imir`, named after the flip as libheif names it: `vertical` (axis 0) exchanges top and
     * bottom, `horizontal` (axis 1) left and right (ISO/IEC 23008-12:2022 6.5.12).
     */
    mirror: 'vertical' | 'horizontal' | undefined;
    /** An auxiliary image (`auxl`) of the primary is its alpha plane. */
    hasAlpha: boolean;
    /** 1, or the number of tiles of the grid. */
    tiles: number;
    /** Pixels of every coded image the decode takes: the tiles, and the alpha plane's. */
    codedPixels: number;
  };
  /** The primary's ICC profile (`colr` of type `prof` or `rICC`). */
  icc: Uint8Array | undefined;
  /** The primary's coding-independent colour (`colr` of type `nclx`), ITU-T H.273 code points. */
  nclx:
    | {
        colourPrimaries: number;
        transferCharacteristics: number;
        matrixCoefficients: number;
        fullRange: boolean;
      }
    | undefined;
  /** The primary's Exif (`cdsc` item), from the TIFF header on. */
  exif: Uint8Array | undefined;
}

export interface HeifReadOptions {
  /** Width x height, displayed or coded, above which the image is refused as `too_many_pixels`. */
  maxInputPixels: number;
}

interface Size {
  width: number;
  height: number;
}

/** What decoding an image item takes: its own size, and the coded images behind it. */
interface Picture extends Size {
  tiles: number;
  codedPixels: number;
}

export const property = (item: HeifItem, type: string) => item.properties.find((p) => p.type === type);
const label = (item: HeifItem) => `item ${item.id} (${item.type})`;

function checkSize(size: Size, what: string): void {
  if (size.width === 0 || size.height === 0) throw undecodable(`${what} is ${size.width}x${size.height}`);
  if (size.width > MAX_SIDE || size.height > MAX_SIDE) {
    throw undecodable(`${what} is ${size.width}x${size.height}, more than ${MAX_SIDE} a side`);
  }
}

function spatialExtent(item: HeifItem): Size {
  const ispe = property(item, 'ispe');
  if (!ispe) throw undecodable(`${label(item)} has no ispe: its size is unknown`);
  const fields = new Fields(ispe.body, 0, ispe.body.length, 'the ispe box');
  fields.fullBox();
  const size = { width: fields.u32(), height: fields.u32() };
  checkSize(size, label(item));
  return size;
}

/**
 * A coded image (not derived from others): a type the pipeline knows, with its decoder configuration
 * and, for HEVC, parameter sets that code exactly the size `ispe` says.
 */
function codedImage(file: HeifFile, item: HeifItem, seen: Seen): Picture {
  const configType = DECODER_CONFIG[item.type];
  if (!configType) {
    throw undecodable(`${label(item)} is not a coded image the pipeline knows`);
  }
  if (item.protected) throw undecodable(`${label(item)} is encrypted`);
  const config = property(item, configType);
  if (!config) throw undecodable(`${label(item)} has no ${configType} decoder configuration`);
  if (itemLength(item) === 0) throw undecodable(`${label(item)} has no data`);
  const size = spatialExtent(item);
  if (item.type === 'hvc1') checkHevc(file, item, config, size, seen);
  return { ...size, tiles: 1, codedPixels: size.width * size.height };
}

/** Any image item: coded, or a grid of coded tiles. */
function picture(file: HeifFile, item: HeifItem, seen: Seen): Picture {
  return item.type === 'grid' ? grid(file, item, seen) : codedImage(file, item, seen);
}

/**
 * A grid (ISO/IEC 23008-12 6.6.2.3): rows x columns tiles of one size, from its `dimg` references in
 * order, covering its output size; the tiles coded images, never grids themselves.
 */
function grid(file: HeifFile, item: HeifItem, seen: Seen): Picture {
  const length = itemLength(item);
  if (!item.extents || (length !== 8 && length !== 12)) {
    throw undecodable(`${label(item)} has ${length} bytes of grid description, not 8 or 12`);
  }
  const data = itemData(file, item);
  const fields = new Fields(data, 0, data.length, `the grid description of ${label(item)}`);
  const version = fields.u8();
  const wide = (fields.u8() & 1) === 1;
  if (version !== 0 || data.length !== (wide ? 12 : 8)) throw undecodable(`${label(item)} is not a grid v0`);
  const rows = fields.u8() + 1;
  const columns = fields.u8() + 1;
  const output = wide
    ? { width: fields.u32(), height: fields.u32() }
    : { width: fields.u16(), height: fields.u16() };
  if (rows * columns > MAX_GRID_TILES) {
    throw undecodable(
      `${label(item)} claims ${rows}x${columns} = ${rows * columns} tiles, more than the ${MAX_GRID_TILES} decoded`,
    );
  }
  checkSize(output, `the output of ${label(item)}`);
  const ispe = spatialExtent(item);
  if (ispe.width !== output.width || ispe.height !== output.height) {
    throw undecodable(
      `${label(item)} is ${ispe.width}x${ispe.height} by its ispe, ${output.width}x${output.height} by its grid`,
    );
  }
  const tiles = item.references.get('dimg') ?? [];
  if (tiles.length !== rows * columns) {
    throw undecodable(`${label(item)} has ${tiles.length} tiles for its ${rows}x${columns}`);
  }
  let tile: Picture | undefined;
  const decoded = new Map<number, Picture>();
  for (const id of tiles) {
    const tileItem = file.items.get(id);
    if (!tileItem) throw undecodable(`${label(item)} has tile ${id}, which is not in the file`);
    if (tileItem.type === 'grid') throw undecodable(`${label(item)} has a grid as a tile (item ${id})`);
    const next = decoded.get(id) ?? codedImage(file, tileItem, seen);
    decoded.set(id, next);
    if (tile && (next.width !== tile.width || next.height !== tile.height)) {
      throw undecodable(
        `${label(item)} has tiles of ${tile.width}x${tile.height} and ${next.width}x${next.height}`,
      );
    }
    tile = next;
  }
  const { width, height } = tile as Picture;
  if (width * columns < output.width || height * rows < output.height) {
    throw undecodable(
      `${label(item)}: ${rows}x${columns} tiles of ${width}x${height} do not cover ${output.width}x${output.height}`,
    );
  }
  return { ...output, tiles: tiles.length, codedPixels: tiles.length * width * height };
}

// HEVC ---------------------------------------------------------------------------------------------------

/** NAL unit type of a sequence parameter set (ITU-T H.265 Table 7-1). */
const SPS = 33;

/** The bits of an RBSP, MSB first; reading past its end is a malformed parameter set. */
class Bits {
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++, this.at++) {
      const byte = this.bytes[this.at >> 3];
      if (byte === undefined) throw undecodable(`${this.what} ends inside its fields`);
      value = value * 2 + ((byte >> (7 - (this.at & 7))) & 1);
    }
    return value;
  }

  skip(count: number): void {
    this.at += count;
    if (this.at > this.bytes.length * 8) throw undecodable(`${this.what} ends inside its fields`);
  }

  /** ue(v): an Exp-Golomb code, at most 32 bits long as H.265 allows. */
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) {
      if (++zeros > 31) throw undecodable(`${this.what} has an Exp-Golomb code longer than 32 bits`);
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }
}

/**
 * The payload of a NAL unit without its header and emulation prevention bytes (00 00 03): only as
 * much as the fields read here can need, a profile_tier_level of 7 sub-layers included.
 */
function rbsp(unit: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (let i = 2; i < unit.length && out.length < 256; i++) {
    const byte = unit[i] as number;
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out.push(byte);
  }
  return Uint8Array.from(out);
}

/**
 * The picture size a sequence parameter set codes, after its conformance window crop (ITU-T H.265
 * 7.3.2.2): what the decoder allocates, give or take the crop.
 */
function spsSize(unit: Uint8Array, what: string): Size {
  const bits = new Bits(rbsp(unit), what);
  bits.bits(4); // sps_video_parameter_set_id
  const subLayers = bits.bits(3); // sps_max_sub_layers_minus1
  bits.bits(1);
  bits.skip(96); // general profile, tier and level
  const present: [profile: number, level: number][] = [];
  for (let i = 0; i < subLayers; i++) present.push([bits.bits(1), bits.bits(1)]);
  if (subLayers > 0) bits.skip(2 * (8 - subLayers));
  for (const [profile, level] of present) bits.skip(88 * profile + 8 * level);
  bits.ue(); // sps_seq_parameter_set_id
  const chroma = bits.ue();
  if (chroma === 3) bits.bits(1); // separate_colour_plane_flag
  let width = bits.ue();
  let height = bits.ue();
  if (bits.bits(1) === 1) {
    // Crop offsets count in chroma samples: two luma samples across for 4:2:0 and 4:2:2, down for 4:2:0.
    const across = chroma === 1 || chroma === 2 ? 2 : 1;
    const down = chroma === 1 ? 2 : 1;
    width -= across * (bits.ue() + bits.ue());
    height -= down * (bits.ue() + bits.ue());
  }
  return { width, height };
}

function checkSps(unit: Uint8Array, size: Size, item: HeifItem): void {
  const coded = spsSize(unit, `a sequence parameter set of ${label(item)}`);
  if (coded.width !== size.width || coded.height !== size.height) {
    throw undecodable(
      `${label(item)} is ${size.width}x${size.height} by its ispe, ${coded.width}x${coded.height} as coded`,
    );
  }
}

/**
 * The NAL unit length size of an `hvcC` (ISO/IEC 14496-15 8.3.3) whose every sequence parameter set
 * codes `size`. Checked once per property and size: the tiles of a grid share one.
 */
function hevcConfig(item: HeifItem, config: HeifProperty, size: Size, seen: Seen): number {
  const key = `${size.width}x${size.height}`;
  const known = seen.configs.get(config);
  if (known?.size === key) return known.lengthSize;
  const hvcC = config.body;
  const record = new Fields(hvcC, 0, hvcC.length, 'the hvcC box');
  record.skip(21); // version, profile, tier, level, chroma format, bit depths, frame rate
  const lengthSize = (record.u8() & 3) + 1;
  if (lengthSize === 3) throw undecodable(`${label(item)} has NAL unit lengths of 3 bytes`);
  const arrays = record.u8();
  let parameterSets = 0;
  for (let a = 0; a < arrays; a++) {
    const type = record.u8() & 0x3f;
    const count = record.u16();
    record.expect(count, 2, 'NAL units');
    for (let n = 0; n < count; n++) {
      const length = record.u16();
      const at = record.position;
      record.skip(length);
      if (type !== SPS) continue;
      checkSps(hvcC.subarray(at, at + length), size, item);
      parameterSets++;
    }
  }
  if (parameterSets === 0) throw undecodable(`${label(item)} has no sequence parameter set in its hvcC`);
  seen.configs.set(config, { size: key, lengthSize });
  return lengthSize;
}

/**
 * The HEVC decoder sizes its pictures by the sequence parameter sets, not by `ispe`: every SPS of the
 * item, in its `hvcC` or among its NAL units, must code the `ispe` size, or the pixel budget would be
 * judged on a number the decoder never reads. The data must be whole length-prefixed NAL units.
 */
function checkHevc(file: HeifFile, item: HeifItem, config: HeifProperty, size: Size, seen: Seen): void {
  const lengthSize = hevcConfig(item, config, size, seen);
  const data = itemData(file, item);
  const units = new Fields(data, 0, data.length, `the data of ${label(item)}`);
  while (units.remaining > 0) {
    if (++seen.nalUnits > MAX_NAL_UNITS) {
      throw undecodable(`the coded images to decode have more than ${MAX_NAL_UNITS} NAL units`);
    }
    const length = units.uint(lengthSize);
    if (length < 2)
      throw undecodable(`${label(item)} has a NAL unit of ${length} bytes, shorter than its header`);
    const at = units.position;
    units.skip(length);
    if ((((data[at] as number) >> 1) & 0x3f) === SPS) checkSps(data.subarray(at, at + length), size, item);
  }
}

// ---------------------------------------------------------------------------------------------------
// Transformations, colour, alpha, Exif

/**
 * `irot` and `imir`: at most one of each, the rotation first. Transformations apply in the order they
 * are associated, and MIAF (ISO/IEC 23000-22 7.3.6.7) has writers associate the rotation before the
 * mirror, so that `rotation` then `mirror` is what the file means.
 */
function transformations(item: HeifItem): Pick<HeifHeader['primary'], 'rotation' | 'mirror'> {
  let rotation: HeifHeader['primary']['rotation'] | undefined;
  let mirror: HeifHeader['primary']['mirror'];
  for (const { type, body } of item.properties) {
    if (type !== 'irot' && type !== 'imir') continue;
    const value = new Fields(body, 0, body.length, `the ${type} box`).u8();
    if (type === 'irot') {
      if (rotation !== undefined) throw undecodable(`${label(item)} is rotated twice`);
      if (mirror) throw undecodable(`${label(item)} is mirrored before it is rotated`);
      rotation = ((value & 3) * 90) as 0 | 90 | 180 | 270;
    } else {
      if (mirror) throw undecodable(`${label(item)} is mirrored twice`);
      mirror = value & 1 ? 'horizontal' : 'vertical';
    }
  }
  return { rotation: rotation ?? 0, mirror };
}

/**
 * The item's `colr` properties; a grid without any has its tiles' (older iPhones put the profile on
 * every tile only, and libheif reads it from the first).
 */
function colour(file: HeifFile, item: HeifItem): Pick<HeifHeader, 'icc' | 'nclx'> {
  const firstTile = file.items.get(item.references.get('dimg')?.[0] ?? -1);
  const source = item.type === 'grid' && !property(item, 'colr') && firstTile ? firstTile : item;
  let icc: Uint8Array | undefined;
  let nclx: HeifHeader['nclx'];
  for (const { type, body } of source.properties) {
    if (type !== 'colr') continue;
    const fields = new Fields(body, 0, body.length, 'the colr box');
    const colourType = fields.fourcc();
    if (colourType === 'nclx' && !nclx) {
      nclx = {
        colourPrimaries: fields.u16(),
        transferCharacteristics: fields.u16(),
        matrixCoefficients: fields.u16(),
        fullRange: (fields.u8() & 0x80) !== 0,
      };
    } else if ((colourType === 'prof' || colourType === 'rICC') && !icc && fields.remaining > 0) {
      // A copy: the header outlives the upload's buffer without pinning it.
      icc = body.slice(fields.position);
    }
  }
  return { icc, nclx };
}

/** Items that reference `target` by `type`. */
function referencing(file: HeifFile, target: HeifItem, type: string): HeifItem[] {
  return [...file.items.values()].filter((item) => item.references.get(type)?.includes(target.id));
}

/** The auxiliary image (`auxl`) of the item that is its alpha plane, by its `auxC` type. */
export function alphaOf(file: HeifFile, item: HeifItem): HeifItem | undefined {
  return referencing(file, item, 'auxl').find((auxiliary) => {
    const auxC = property(auxiliary, 'auxC');
    if (!auxC) return false;
    const fields = new Fields(auxC.body, 0, auxC.body.length, 'the auxC box');
    fields.fullBox();
    return ALPHA_URNS.has(fields.string());
  });
}

const TIFF_HEADERS = ['II*\0', 'MM\0*'];

/**
 * The first Exif item describing (`cdsc`) the item, from its TIFF header on: the item starts with
 * the offset of that header past a 4-byte field (ISO/IEC 23008-12 A.2.1). Exif is metadata: one
 * too large or without a TIFF header where the offset says is left out, not a reason to refuse.
 */
function exifOf(file: HeifFile, item: HeifItem): Uint8Array | undefined {
  const exif = referencing(file, item, 'cdsc').find((metadata) => metadata.type === 'Exif');
  if (!exif?.extents || itemLength(exif) > MAX_EXIF_BYTES) return undefined;
  const data = itemData(file, exif);
  if (data.length < 4) return undefined;
  const start = 4 + new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  if (!TIFF_HEADERS.includes(fourcc(data, start))) return undefined;
  return data.slice(start);
}

// ---------------------------------------------------------------------------------------------------
// The header

/** What one decode's coded images have shown so far: NAL units walked, decoder configurations checked. */
interface Seen {
  nalUnits: number;
  configs: Map<HeifProperty, { size: string; lengthSize: number }>;
}

/**
 * The primary image of a HEIF file, judged from the container alone: its structure sound, every
 * coded image behind it bounded (tiles, sides, parameter sets), its pixels, displayed and coded,
 * within `maxInputPixels`. Throws `UnreadableHeifError` otherwise.
 */
export function readHeifHeader(bytes: Uint8Array, options: HeifReadOptions): HeifHeader {
  const file = parseHeif(bytes);
  const primary = file.items.get(file.primaryId);
  if (!primary) throw undecodable(`the primary item ${file.primaryId} is not in the file`);
  if (primary.hidden) throw undecodable(`the primary item ${primary.id} is hidden`);

  // The displayed size is judged first: an image merely too large is refused as such.
  const size = spatialExtent(primary);
  const { maxInputPixels } = options;
  if (size.width * size.height > maxInputPixels) {
    throw new UnreadableHeifError(
      'too_many_pixels',
      `${size.width}x${size.height} is more than ${maxInputPixels} pixels`,
    );
  }
  const seen: Seen = { nalUnits: 0, configs: new Map() };
  const image = picture(file, primary, seen);
  const alpha = alphaOf(file, primary);
  const alphaImage = alpha && picture(file, alpha, seen);
  const codedPixels = image.codedPixels + (alphaImage?.codedPixels ?? 0);
  if (codedPixels > maxInputPixels) {
    throw new UnreadableHeifError(
      'too_many_pixels',
      `decoding takes ${codedPixels} pixels of coded images, more than ${maxInputPixels}`,
    );
  }

  const { rotation, mirror } = transformations(primary);
  const quarterTurn = rotation === 90 || rotation === 270;
  return {
    primary: {
      itemId: primary.id,
      itemType: primary.type,
      width: quarterTurn ? image.height : image.width,
      height: quarterTurn ? image.width : image.height,
      rotation,
      mirror,
      hasAlpha: alpha !== undefined,
      tiles: image.tiles,
      codedPixels,
    },
    ...colour(file, primary),
    exif: exifOf(file, primary),
  };
}
