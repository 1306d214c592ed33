import { alphaOf, type HeifItem, itemData, parseHeif, property } from '../../lambdas/core/heif/container.js';
import { QUADRANTS_ALPHA_HEIC, QUADRANTS_HEIC } from './heif-fixtures.js';

/**
 * HEIF files assembled in code from HEVC coded images taken out of a real HEIC, so that tests need
 * no encoder: a single image or a grid of tiles, rotated, mirrored, with colour, alpha and Exif, and
 * the hostile variants a reader must refuse. Two layers: `assembleHeif` writes any item structure
 * (`HeifLayout`) as it is told, `buildHeif` makes the layout of a photo from options, and its
 * `tamper` hook changes that layout before it is written.
 */

/** One coded HEVC image: its decoder configuration and data, as a HEIF image item carries them. */
export interface HevcImage {
  /** The body of its `hvcC` property (HEVCDecoderConfigurationRecord). */
  hvcC: Uint8Array;
  /** The item's data: length-prefixed NAL units. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** The coded image of a HEIC's primary item (its first tile, for a grid) and of its alpha plane. */
export function extractHevc(heic: Uint8Array): { image: HevcImage; alpha: HevcImage | undefined } {
  const file = parseHeif(heic);
  const coded = (item: HeifItem | undefined): HevcImage => {
    const tileId = item?.type === 'grid' ? item.references.get('dimg')?.[0] : undefined;
    const source = tileId === undefined ? item : file.items.get(tileId);
    const hvcC = source && property(source, 'hvcC');
    const ispe = source && property(source, 'ispe');
    if (!source || !hvcC || !ispe) throw new Error('the HEIC has no HEVC image with an hvcC and an ispe');
    const size = new DataView(ispe.body.buffer, ispe.body.byteOffset, ispe.body.length);
    return {
      hvcC: hvcC.body.slice(),
      data: itemData(file, source).slice(),
      width: size.getUint32(4),
      height: size.getUint32(8),
    };
  };
  const primary = file.items.get(file.primaryId);
  const alpha = primary && alphaOf(file, primary);
  return { image: coded(primary), alpha: alpha && coded(alpha) };
}

/** The fixtures' 64x64 quadrants (red, green / blue, yellow), and the alpha plane of the second. */
export const QUADRANTS: HevcImage = extractHevc(QUADRANTS_HEIC).image;
export const QUADRANTS_ALPHA = extractHevc(QUADRANTS_ALPHA_HEIC).alpha as HevcImage;

// ---------------------------------------------------------------------------------------------------
// Boxes

const u8 = (...values: number[]) => Uint8Array.from(values);
const u16 = (value: number) => u8(value >>> 8, value & 0xff);
const u32 = (value: number) => u8(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const join = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** A box: size, type, body. */
export const box = (type: string, ...body: Uint8Array[]) => {
  const content = join(...body);
  return join(u32(8 + content.length), ascii(type), content);
};

/** A full box: version and flags before the body. */
export const fullBox = (type: string, version: number, flags: number, ...body: Uint8Array[]) =>
  box(type, u8(version), u8((flags >>> 16) & 0xff, (flags >>> 8) & 0xff, flags & 0xff), ...body);

export const ispe = (width: number, height: number) => fullBox('ispe', 0, 0, u32(width), u32(height));
export const hvcC = (record: Uint8Array) => box('hvcC', record);
/** `irot`: anticlockwise quarter turns. */
export const irot = (degrees: 0 | 90 | 180 | 270) => box('irot', u8(degrees / 90));
/** `imir`: axis 0 exchanges top and bottom, axis 1 left and right. */
export const imir = (mirror: 'vertical' | 'horizontal') => box('imir', u8(mirror === 'vertical' ? 0 : 1));
export const pixi = (...bits: number[]) => fullBox('pixi', 0, 0, u8(bits.length, ...bits));
export const auxC = (type: string) => fullBox('auxC', 0, 0, ascii(type), u8(0));
export const colrIcc = (profile: Uint8Array) => box('colr', ascii('prof'), profile);

export interface Nclx {
  colourPrimaries: number;
  transferCharacteristics: number;
  matrixCoefficients: number;
  fullRange: boolean;
}

export const colrNclx = (nclx: Nclx) =>
  box(
    'colr',
    ascii('nclx'),
    u16(nclx.colourPrimaries),
    u16(nclx.transferCharacteristics),
    u16(nclx.matrixCoefficients),
    u8(nclx.fullRange ? 0x80 : 0),
  );

/** The ImageGrid structure a grid item's data is (ISO/IEC 23008-12 6.6.2.3.2). */
export function gridDescriptor(rows: number, columns: number, width: number, height: number): Uint8Array {
  const wide = width > 0xffff || height > 0xffff;
  return join(
    u8(0, wide ? 1 : 0, rows - 1, columns - 1),
    ...(wide ? [u32(width), u32(height)] : [u16(width), u16(height)]),
  );
}

// HEVC parameter sets -------------------------------------------------------------------------------------

/** Bits written MSB first, then the RBSP trailing bits and emulation prevention (ITU-T H.265 7.4.2). */
class BitWriter {
  private readonly bits: number[] = [];

  put(value: number, count: number): this {
    for (let i = count - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  /** ue(v), Exp-Golomb. */
  ue(value: number): this {
    const length = Math.floor(Math.log2(value + 1));
    return this.put(0, length).put(value + 1, length + 1);
  }

  nal(header: number[]): Uint8Array {
    this.put(1, 1);
    while (this.bits.length % 8) this.bits.push(0);
    const out = [...header];
    let zeros = 0;
    for (let i = 0; i < this.bits.length; i += 8) {
      const byte = this.bits.slice(i, i + 8).reduce((acc, bit) => acc * 2 + bit, 0);
      if (zeros >= 2 && byte <= 3) {
        out.push(3);
        zeros = 0;
      }
      zeros = byte === 0 ? zeros + 1 : 0;
      out.push(byte);
    }
    return Uint8Array.from(out);
  }
}

/**
 * A sequence parameter set NAL unit coding `width` x `height` (4:2:0, no conformance crop), as far
 * as a header reader goes: the rest of the set is missing, so no decoder would take it.
 */
export function spsNal(width: number, height: number): Uint8Array {
  return new BitWriter()
    .put(0, 4) // sps_video_parameter_set_id
    .put(0, 3) // sps_max_sub_layers_minus1
    .put(1, 1)
    .put(0x01, 8) // Main profile, Main tier
    .put(0x60000000, 32)
    .put(0x90, 8)
    .put(0, 40)
    .put(90, 8) // level 3
    .ue(0)
    .ue(1)
    .ue(width)
    .ue(height)
    .put(0, 1)
    .nal([0x42, 0x01]);
}

/**
 * The image with its sequence parameter set claiming another size: in its `hvcC` instead of the real
 * one, or (`inBand`) as a NAL unit before its data, where a decoder reads it all the same.
 */
export function withCodedSize(image: HevcImage, width: number, height: number, inBand = false): HevcImage {
  const sps = spsNal(width, height);
  if (inBand) {
    const lengthSize = ((image.hvcC[21] ?? 3) & 3) + 1;
    const length = Buffer.alloc(lengthSize);
    length.writeUIntBE(sps.length, 0, lengthSize);
    return { ...image, data: join(length, sps, image.data) };
  }
  const record = Buffer.from(image.hvcC);
  const parts: Uint8Array[] = [record.subarray(0, 23)];
  let at = 23;
  for (let array = 0; array < (record[22] ?? 0); array++) {
    const type = (record[at] as number) & 0x3f;
    const count = record.readUInt16BE(at + 1);
    parts.push(record.subarray(at, at + 3));
    at += 3;
    for (let n = 0; n < count; n++) {
      const length = record.readUInt16BE(at);
      const unit = type === 33 ? sps : record.subarray(at + 2, at + 2 + length);
      parts.push(u16(unit.length), unit);
      at += 2 + length;
    }
  }
  return { ...image, hvcC: join(...parts) };
}

// ---------------------------------------------------------------------------------------------------
// Any item structure

export interface ItemLayout {
  id: number;
  type: string;
  hidden?: boolean;
  /** Its data, in the `mdat` box (or, with `inIdat`, in the `idat` box of the meta box, as iPhones put grids). */
  data?: Uint8Array;
  inIdat?: boolean;
  /** Whole property boxes, associated in this order (identical boxes are stored once). */
  properties?: Uint8Array[];
  /** Its references: to items by type, in order (more than 65,535 of a type take several boxes). */
  references?: { type: string; to: number[] }[];
}

export interface HeifLayout {
  brands: string[];
  primaryId: number;
  items: ItemLayout[];
}

const fits16 = (...values: number[]) => values.every((value) => value <= 0xffff);

/** The file the layout describes: ftyp, meta (hdlr, pitm, iinf, iref, iprp, iloc, idat), mdat. */
export function assembleHeif(layout: HeifLayout): Buffer {
  const ids = layout.items.map((item) => item.id);
  const narrow = fits16(layout.primaryId, ...ids);
  const id = (value: number) => (narrow ? u16(value) : u32(value));

  const ftyp = box('ftyp', ascii(layout.brands[0] ?? 'heic'), u32(0), ...layout.brands.map(ascii));

  const iinf = fullBox(
    'iinf',
    narrow ? 0 : 1,
    0,
    narrow ? u16(layout.items.length) : u32(layout.items.length),
    ...layout.items.map((item) =>
      fullBox('infe', narrow ? 2 : 3, item.hidden ? 1 : 0, id(item.id), u16(0), ascii(item.type), u8(0)),
    ),
  );

  const references = layout.items.flatMap((item) =>
    (item.references ?? []).flatMap(({ type, to }) =>
      Array.from({ length: Math.ceil(to.length / 0xffff) || 1 }, (_, part) => {
        const slice = to.slice(part * 0xffff, (part + 1) * 0xffff);
        return box(type, id(item.id), u16(slice.length), Buffer.concat(slice.map(id)));
      }),
    ),
  );
  const iref = references.length > 0 ? [fullBox('iref', narrow ? 0 : 1, 0, ...references)] : [];

  const properties: Uint8Array[] = [];
  const indexOf = new Map<string, number>();
  const associations = layout.items.map((item) =>
    (item.properties ?? []).map((property) => {
      const key = Buffer.from(property).toString('latin1');
      let index = indexOf.get(key);
      if (index === undefined) {
        properties.push(property);
        index = properties.length;
        indexOf.set(key, index);
      }
      return index;
    }),
  );
  const wideIndex = properties.length > 127;
  const ipma = fullBox(
    'ipma',
    narrow ? 0 : 1,
    wideIndex ? 1 : 0,
    u32(layout.items.length),
    ...layout.items.map((item, i) => {
      const indexes = associations[i] ?? [];
      // Transformations and the decoder configuration are essential: a reader must understand them.
      const essential = (index: number) =>
        ['irot', 'imir', 'hvcC'].includes(Buffer.from(properties[index - 1] ?? []).toString('latin1', 4, 8));
      return join(
        id(item.id),
        u8(indexes.length),
        ...indexes.map((index) => {
          const flag = essential(index) ? 1 : 0;
          return wideIndex ? u16((flag << 15) | index) : u8((flag << 7) | index);
        }),
      );
    }),
  );
  const iprp = box('iprp', box('ipco', ...properties), ipma);

  const idatData = layout.items
    .filter((item) => item.data && item.inIdat)
    .map((item) => item.data as Uint8Array);
  const mdatData = layout.items
    .filter((item) => item.data && !item.inIdat)
    .map((item) => item.data as Uint8Array);
  const idat = idatData.length > 0 ? [box('idat', ...idatData)] : [];

  // iloc v1: 4-byte offsets and lengths, construction method 1 for idat. Its size does not depend on
  // the offsets, so the meta box is made once to measure and again with them.
  const meta = (mdatStart: number) => {
    let inMdat = mdatStart;
    let inIdat = 0;
    const located = layout.items.filter((item) => item.data);
    const iloc = fullBox(
      'iloc',
      narrow ? 1 : 2,
      0,
      u16(0x4400),
      narrow ? u16(located.length) : u32(located.length),
      ...located.map((item) => {
        const data = item.data as Uint8Array;
        const offset = item.inIdat ? inIdat : inMdat;
        if (item.inIdat) inIdat += data.length;
        else inMdat += data.length;
        return join(id(item.id), u16(item.inIdat ? 1 : 0), u16(0), u16(1), u32(offset), u32(data.length));
      }),
    );
    const hdlr = fullBox('hdlr', 0, 0, u32(0), ascii('pict'), new Uint8Array(12), u8(0));
    const pitm = fullBox('pitm', narrow ? 0 : 1, 0, id(layout.primaryId));
    return fullBox('meta', 0, 0, hdlr, pitm, iinf, ...iref, iprp, iloc, ...idat);
  };
  const size = meta(0).length;
  return join(ftyp, meta(ftyp.length + size + 8), box('mdat', ...mdatData));
}

// ---------------------------------------------------------------------------------------------------
// A photo

export interface HeifOptions {
  /** The coded image shown, or every tile of the grid. @default QUADRANTS */
  image?: HevcImage;
  /** Tiles in rows and columns; the output size defaults to all of them. @default a single image */
  grid?: { rows: number; columns: number; width?: number; height?: number };
  rotation?: 0 | 90 | 180 | 270;
  mirror?: 'vertical' | 'horizontal';
  nclx?: Nclx;
  icc?: Uint8Array;
  /** An alpha plane laid out as the image (alone or in the same grid): QUADRANTS_ALPHA with `true`. */
  alpha?: HevcImage | boolean;
  /** Exif from its TIFF header on, put in an item after the `Exif\0\0` prefix as iPhones do. */
  exif?: Uint8Array;
  /** A 64x64 thumbnail item (`thmb`) of the primary. */
  thumbnail?: boolean;

  // Hostile variants
  /** The primary's `ispe`, whatever the coded image or grid is. */
  ispe?: { width: number; height: number };
  /** The grid's `dimg` references: the first tile this many times, whatever its rows and columns say. */
  claimedTiles?: number;
  /** Changes the layout before it is written. */
  tamper?: (layout: HeifLayout) => void;
}

/** Item ids: the primary, then the rest in order. */
export const PRIMARY_ID = 1;

/** A HEIC as a camera writes it, from the fixtures' HEVC unless told otherwise. */
export function buildHeif(options: HeifOptions = {}): Buffer {
  const image = options.image ?? QUADRANTS;
  const alphaImage = options.alpha === true ? QUADRANTS_ALPHA : options.alpha || undefined;
  const items: ItemLayout[] = [];
  let nextId = PRIMARY_ID + 1;

  /** An image item (and its tiles) of `coded`, with `properties` on the image itself. */
  const picture = (id: number, coded: HevcImage, properties: Uint8Array[]): ItemLayout => {
    const claimed = id === PRIMARY_ID ? options : {};
    const { grid } = options;
    if (!grid) {
      const { width, height } = claimed.ispe ?? coded;
      return {
        id,
        type: 'hvc1',
        data: coded.data,
        properties: [hvcC(coded.hvcC), ispe(width, height), ...properties],
      };
    }
    const width = grid.width ?? grid.columns * coded.width;
    const height = grid.height ?? grid.rows * coded.height;
    const tiles = Array.from({ length: grid.rows * grid.columns }, () => nextId++);
    for (const tile of tiles) {
      items.push({
        id: tile,
        type: 'hvc1',
        hidden: true,
        data: coded.data,
        properties: [hvcC(coded.hvcC), ispe(coded.width, coded.height)],
      });
    }
    const size = claimed.ispe ?? { width, height };
    const references =
      claimed.claimedTiles === undefined
        ? tiles
        : Array.from({ length: claimed.claimedTiles }, () => tiles[0] as number);
    return {
      id,
      type: 'grid',
      data: gridDescriptor(grid.rows, grid.columns, width, height),
      inIdat: true,
      properties: [ispe(size.width, size.height), ...properties],
      references: [{ type: 'dimg', to: references }],
    };
  };

  const colour = [
    ...(options.icc ? [colrIcc(options.icc)] : []),
    ...(options.nclx ? [colrNclx(options.nclx)] : []),
  ];
  const transforms = [
    ...(options.rotation !== undefined ? [irot(options.rotation)] : []),
    ...(options.mirror ? [imir(options.mirror)] : []),
  ];
  const primary = picture(PRIMARY_ID, image, [...colour, pixi(8, 8, 8), ...transforms]);
  items.unshift(primary);

  if (alphaImage) {
    // Transformed as the image is (libavif writes them so): libheif orients the alpha plane by its own.
    const alpha = picture(nextId++, alphaImage, [auxC('urn:mpeg:hevc:2015:auxid:1'), pixi(8), ...transforms]);
    items.push({
      ...alpha,
      hidden: true,
      references: [...(alpha.references ?? []), { type: 'auxl', to: [PRIMARY_ID] }],
    });
  }
  if (options.thumbnail) {
    items.push({
      id: nextId++,
      type: 'hvc1',
      hidden: false,
      data: QUADRANTS.data,
      properties: [hvcC(QUADRANTS.hvcC), ispe(QUADRANTS.width, QUADRANTS.height)],
      references: [{ type: 'thmb', to: [PRIMARY_ID] }],
    });
  }
  if (options.exif) {
    items.push({
      id: nextId++,
      type: 'Exif',
      hidden: true,
      data: join(u32(6), ascii('Exif\0\0'), options.exif),
      references: [{ type: 'cdsc', to: [PRIMARY_ID] }],
    });
  }

  const layout: HeifLayout = { brands: ['heic', 'mif1', 'heic'], primaryId: PRIMARY_ID, items };
  options.tamper?.(layout);
  return assembleHeif(layout);
}

/** The top-level boxes of a file, as far as their headers are there: type, start and end. */
export function topLevelBoxes(file: Uint8Array): { type: string; start: number; end: number }[] {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const boxes: { type: string; start: number; end: number }[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    const length = size === 0 ? bytes.length - at : size === 1 ? Number(bytes.readBigUInt64BE(at + 8)) : size;
    if (length < 8) break;
    boxes.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, end: at + length });
    at += length;
  }
  return boxes;
}

/** The top-level box of `type` in a file. */
export function topLevelBox(file: Uint8Array, type: string): { start: number; end: number } {
  const found = topLevelBoxes(file).find((box) => box.type === type);
  if (!found) throw new Error(`no ${type} box in the file`);
  return found;
}

/** The file cut off in the middle of its top-level `type` box, as a dropped download leaves it. */
export function cutInside(file: Uint8Array, type: 'meta' | 'mdat'): Buffer {
  const { start, end } = topLevelBox(file, type);
  return Buffer.from(file.subarray(0, Math.floor((start + end) / 2)));
}
