import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type HeifHeader,
  MAX_GRID_TILES,
  readHeifHeader,
  UnreadableHeifError,
} from '../../lambdas/core/heif/container.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { heicAdversarialInputs } from '../support/adversarial-inputs.js';
import { CORPUS_DIR, readCorpusManifest } from '../support/corpus.js';
import {
  auxC,
  buildHeif,
  cutInside,
  extractHevc,
  gridDescriptor,
  type HeifLayout,
  type HeifOptions,
  irot,
  PRIMARY_ID,
  QUADRANTS,
  topLevelBox,
  topLevelBoxes,
  withCodedSize,
} from '../support/heif-builder.js';
import { QUADRANTS_ALPHA_HEIC, QUADRANTS_HEIC } from '../support/heif-fixtures.js';

const LIMIT = { maxInputPixels: 100_000_000 };

/** What the reader refuses the bytes with; fails the test when it accepts them or throws anything else. */
function refusal(bytes: Uint8Array, options = LIMIT): UnreadableHeifError {
  try {
    readHeifHeader(bytes, options);
  } catch (error) {
    if (error instanceof UnreadableHeifError) return error;
    throw error;
  }
  throw new Error('the reader accepted the file');
}

/** The header, or the refusal: whatever the reader does, as long as it throws nothing but its own error. */
function outcome(bytes: Uint8Array): HeifHeader | UnreadableHeifError {
  try {
    return readHeifHeader(bytes, LIMIT);
  } catch (error) {
    if (error instanceof UnreadableHeifError) return error;
    throw error;
  }
}

const item = (layout: HeifLayout, id: number) => {
  const found = layout.items.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};
const typeOf = (property: Uint8Array) => Buffer.from(property).toString('latin1', 4, 8);
/** The item holding the alpha plane: the one with an `auxl` reference. */
const alphaItem = (layout: HeifLayout) => {
  const found = layout.items.find((candidate) => candidate.references?.some((r) => r.type === 'auxl'));
  if (!found) throw new Error('no alpha item');
  return found;
};

/** The bytes with `value` written as a big-endian integer of `size` bytes, `at` bytes after the first `type`. */
function patched(file: Uint8Array, type: string, at: number, value: number, size = 2): Buffer {
  const out = Buffer.from(file);
  const box = out.indexOf(type, 0, 'latin1');
  if (box < 0) throw new Error(`no ${type} in the file`);
  out.writeUIntBE(value, box + at, size);
  return out;
}

/** A little-endian TIFF whose IFD0 holds one entry: orientation 6. */
const TIFF = Buffer.from([
  0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
  0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

const p3Profile = (
  await sharp(
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
      .withIccProfile('p3')
      .png()
      .toBuffer(),
  ).metadata()
).icc as Buffer;

const grid = { rows: 2, columns: 2 };

describe('the HEIF header of a built file', () => {
  it('reads a single coded image', () => {
    expect(readHeifHeader(buildHeif(), LIMIT)).toEqual({
      primary: {
        itemId: PRIMARY_ID,
        itemType: 'hvc1',
        width: 64,
        height: 64,
        rotation: 0,
        mirror: undefined,
        hasAlpha: false,
        tiles: 1,
        codedPixels: 64 * 64,
      },
      icc: undefined,
      nclx: undefined,
      exif: undefined,
    });
  });

  it.each([
    ['2x3 tiles, all of them shown', { rows: 2, columns: 3 }, [192, 128], 6],
    [
      'one tile cropped to an odd size, as heif-enc writes 63x45',
      { rows: 1, columns: 1, width: 63, height: 45 },
      [63, 45],
      1,
    ],
    ['2x2 tiles cropped to 100x70', { rows: 2, columns: 2, width: 100, height: 70 }, [100, 70], 4],
  ] as const)('reads a grid of %s', (_, layout, [width, height], tiles) => {
    const { primary } = readHeifHeader(buildHeif({ grid: layout }), LIMIT);
    expect(primary).toMatchObject({ itemType: 'grid', width, height, tiles, codedPixels: tiles * 64 * 64 });
  });

  it.each([
    [0, [128, 64]],
    [90, [64, 128]],
    [180, [128, 64]],
    [270, [64, 128]],
  ] as const)('turns a 128x64 grid by irot %i degrees: displayed as %j', (rotation, size) => {
    const { primary } = readHeifHeader(buildHeif({ grid: { rows: 1, columns: 2 }, rotation }), LIMIT);
    expect([primary.width, primary.height, primary.rotation]).toEqual([...size, rotation]);
  });

  it.each(['vertical', 'horizontal'] as const)('reads a %s mirror, after the rotation', (mirror) => {
    const { primary } = readHeifHeader(buildHeif({ rotation: 90, mirror }), LIMIT);
    expect([primary.rotation, primary.mirror]).toEqual([90, mirror]);
  });

  it('reads the ICC profile and the nclx colour of the primary', () => {
    const nclx = { colourPrimaries: 12, transferCharacteristics: 13, matrixCoefficients: 6, fullRange: true };
    const header = readHeifHeader(buildHeif({ icc: p3Profile, nclx }), LIMIT);
    expect(Buffer.from(header.icc ?? [])).toEqual(p3Profile);
    expect(header.nclx).toEqual(nclx);
  });

  it("takes a grid's colour from its first tile when the grid has none, as older iPhones write it", () => {
    const file = buildHeif({
      grid,
      icc: p3Profile,
      tamper: (layout) => {
        const primary = item(layout, PRIMARY_ID);
        const colr = primary.properties?.find((property) => typeOf(property) === 'colr') as Uint8Array;
        primary.properties = primary.properties?.filter((property) => property !== colr);
        for (const tile of layout.items.filter((candidate) => candidate.id !== PRIMARY_ID)) {
          tile.properties = [...(tile.properties ?? []), colr];
        }
      },
    });
    expect(Buffer.from(readHeifHeader(file, LIMIT).icc ?? [])).toEqual(p3Profile);
  });

  it.each([
    ['a single image', {}, 2 * 64 * 64],
    ['a grid, with an alpha grid', { grid }, 2 * 4 * 64 * 64],
  ] as const)('finds the alpha plane of %s and counts its pixels as decoded', (_, options, codedPixels) => {
    const { primary } = readHeifHeader(buildHeif({ ...options, alpha: true }), LIMIT);
    expect([primary.hasAlpha, primary.codedPixels]).toEqual([true, codedPixels]);
  });

  it('takes an auxiliary image that is not alpha (a depth map) for neither alpha nor pixels to decode', () => {
    const file = buildHeif({
      alpha: true,
      tamper: (layout) => {
        const depth = alphaItem(layout);
        depth.properties = depth.properties?.map((property) =>
          typeOf(property) === 'auxC' ? auxC('urn:mpeg:hevc:2015:auxid:2') : property,
        );
      },
    });
    expect(readHeifHeader(file, LIMIT).primary).toMatchObject({ hasAlpha: false, codedPixels: 64 * 64 });
  });

  it('reads the Exif of the primary from its TIFF header on', () => {
    expect(Buffer.from(readHeifHeader(buildHeif({ exif: TIFF }), LIMIT).exif ?? [])).toEqual(TIFF);
  });

  it.each([
    [
      'the Exif of another item (the thumbnail)',
      (layout: HeifLayout) => {
        const exif = layout.items.find((candidate) => candidate.type === 'Exif');
        const thumbnail = layout.items.find((candidate) =>
          candidate.references?.some((r) => r.type === 'thmb'),
        );
        if (exif) exif.references = [{ type: 'cdsc', to: [thumbnail?.id ?? 0] }];
      },
    ],
    [
      'an Exif whose TIFF header offset points past its data',
      (layout: HeifLayout) => {
        const exif = layout.items.find((candidate) => candidate.type === 'Exif');
        if (exif?.data) exif.data = Buffer.concat([Buffer.from([0, 0, 0x10, 0]), TIFF]);
      },
    ],
  ])('leaves out %s', (_, tamper) => {
    const header = readHeifHeader(buildHeif({ exif: TIFF, thumbnail: true, tamper }), LIMIT);
    expect(header.exif).toBeUndefined();
    expect(header.primary.width).toBe(64);
  });

  it('counts only the primary: not its thumbnail', () => {
    const { primary } = readHeifHeader(buildHeif({ grid, thumbnail: true }), LIMIT);
    expect(primary).toMatchObject({ itemId: PRIMARY_ID, tiles: 4, codedPixels: 4 * 64 * 64 });
  });

  it('reads the HEICs heif-enc made, which the builder takes its HEVC from', () => {
    expect(readHeifHeader(QUADRANTS_HEIC, LIMIT).primary).toMatchObject({ width: 64, hasAlpha: false });
    expect(readHeifHeader(QUADRANTS_ALPHA_HEIC, LIMIT).primary).toMatchObject({ width: 64, hasAlpha: true });
    const { image, alpha } = extractHevc(QUADRANTS_ALPHA_HEIC);
    expect([image.width, image.height, alpha?.width, alpha?.height]).toEqual([64, 64, 64, 64]);
  });

  it(`reads a grid of ${MAX_GRID_TILES} tiles, the most it takes, and refuses one more row`, () => {
    const largest = readHeifHeader(buildHeif({ grid: { rows: 32, columns: 32 } }), LIMIT);
    expect(largest.primary).toMatchObject({ width: 2048, height: 2048, tiles: MAX_GRID_TILES });
    expect(refusal(buildHeif({ grid: { rows: 33, columns: 32 } }))).toMatchObject({
      reason: 'undecodable',
      message: expect.stringMatching(/1056 images, more than the 1024 tiles/),
    });
  });
});

describe('refusing a hostile or broken HEIF', () => {
  const photo = buildHeif({ grid, alpha: true, exif: TIFF, icc: p3Profile });
  const mdat = topLevelBox(photo, 'mdat');
  const meta = topLevelBox(photo, 'meta');
  const ispeAt = photo.indexOf('ispe', 0, 'latin1') - 4;
  const ipcoAt = photo.indexOf('ipco', 0, 'latin1') - 4;
  /** An ispe size reaching 8 bytes past the end of the ipco box it is in, still inside the file. */
  const pastIpco = ipcoAt + photo.readUInt32BE(ipcoAt) + 8 - ispeAt;
  const withIspeSize = (size: number) => {
    const out = Buffer.from(photo);
    out.writeUInt32BE(size, ispeAt);
    return out;
  };
  const layoutOf = (tamper: (layout: HeifLayout) => void, options: HeifOptions = { grid }) =>
    buildHeif({ ...options, tamper });

  it.each([
    ['cut in its mdat box', cutInside(photo, 'mdat'), /the mdat box at \d+ runs past the end of the file/],
    ['cut in its meta box', cutInside(photo, 'meta'), /the meta box at \d+ runs past the end of the file/],
    ['cut in a box header', photo.subarray(0, meta.start + 5), /box header at \d+ runs past the end/],
    [
      'whose mdat, cut, was given the size of what is left: the items run past the end',
      (() => {
        const out = Buffer.from(photo.subarray(0, mdat.end - 10));
        out.writeUInt32BE(mdat.end - 10 - mdat.start, mdat.start);
        return out;
      })(),
      /item \d+'s data runs past the end of the file/,
    ],
    [
      'with a box whose 64-bit size claims 1 TB',
      Buffer.concat([photo, Buffer.from([0, 0, 0, 1, 0x66, 0x72, 0x65, 0x65, 0, 0, 1, 0, 0, 0, 0, 0])]),
      /the free box at \d+ runs past the end of the file/,
    ],
    [
      'whose ispe box claims 2 GB',
      withIspeSize(0x7fffffff),
      /the ispe box at \d+ runs past the end of the file/,
    ],
  ])('%s: truncated', (_, bytes, message) => {
    expect(refusal(bytes)).toMatchObject({ reason: 'truncated', message: expect.stringMatching(message) });
  });

  it.each([
    // The boxes
    [
      'an ispe box running past its parent',
      withIspeSize(pastIpco),
      /the ispe box at \d+ runs past the box it is in/,
    ],
    [
      'a file not starting with ftyp',
      Buffer.concat([Buffer.from([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65]), photo]),
      /starts with free, not ftyp/,
    ],
    [
      'two meta boxes',
      Buffer.concat([photo.subarray(0, meta.end), photo.subarray(meta.start)]),
      /two meta boxes/,
    ],
    [
      'no meta box',
      Buffer.concat([photo.subarray(0, meta.start), photo.subarray(mdat.start)]),
      /no meta box/,
    ],
    ['a meta box for video', patched(photo, 'pict', 0, 0x76696465, 4), /for vide, not pictures/],
    ['an infe box of version 1', patched(photo, 'infe', 4, 1, 1), /an infe box is of version 1, not 2 or 3/],
    ['more items than it may have', patched(photo, 'iinf', 8, 5000), /claims 5000 items, more than 4096/],
    [
      'item locations without the bytes',
      patched(photo, 'iloc', 10, 4000),
      /claims 4000 item locations in \d+ bytes/,
    ],
    ['an item in 33 pieces', patched(photo, 'iloc', 18, 33), /33 extents, more than 32/],
    ['an item built from other items', patched(photo, 'iloc', 14, 2), /construction method 2/],
    ['an item whose data is in another file', patched(photo, 'iloc', 16, 1), /data in another file/],
    [
      'a property past those there are',
      patched(photo, 'ipma', 15, 0x7f, 1),
      /property 127, past the \d+ there are/,
    ],
    [
      'references without the bytes',
      patched(photo, 'dimg', 6, 60_000),
      /claims 60000 references in \d+ bytes/,
    ],

    // The primary item
    [
      'a primary item that is not in the file',
      layoutOf((layout) => {
        layout.primaryId = 404;
      }),
      /the primary item 404 is not in the file/,
    ],
    [
      'a hidden primary item',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).hidden = true;
      }),
      /the primary item 1 is hidden/,
    ],
    [
      'a primary item without ispe',
      layoutOf((layout) => {
        const primary = item(layout, PRIMARY_ID);
        primary.properties = primary.properties?.filter((property) => typeOf(property) !== 'ispe');
      }, {}),
      /item 1 \(hvc1\) has no ispe/,
    ],
    [
      'a primary item of a type nothing decodes',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).type = 'mime';
      }, {}),
      /item 1 \(mime\) is not a coded image/,
    ],
    [
      'an HEVC image without its decoder configuration',
      layoutOf((layout) => {
        const primary = item(layout, PRIMARY_ID);
        primary.properties = primary.properties?.filter((property) => typeOf(property) !== 'hvcC');
      }, {}),
      /no hvcC decoder configuration/,
    ],
    [
      'an HEVC image without data',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).data = undefined;
      }, {}),
      /item 1 \(hvc1\) has no data/,
    ],
    [
      'HEVC data that is not whole NAL units',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).data = QUADRANTS.data.subarray(0, QUADRANTS.data.length - 5);
      }, {}),
      /the data of item 1 \(hvc1\) is shorter than its fields/,
    ],
    [
      'a mirror before the rotation',
      layoutOf(
        (layout) => {
          const primary = item(layout, PRIMARY_ID);
          primary.properties = [...(primary.properties ?? [])].sort(
            (a, b) => Number(typeOf(a) === 'irot') - Number(typeOf(b) === 'irot'),
          );
        },
        { rotation: 90, mirror: 'vertical' },
      ),
      /mirrored before it is rotated/,
    ],
    [
      'two rotations',
      layoutOf(
        (layout) => {
          const primary = item(layout, PRIMARY_ID);
          primary.properties = [...(primary.properties ?? []), irot(180)];
        },
        { rotation: 90 },
      ),
      /rotated twice/,
    ],

    // Sizes
    ['an image of 0x0', buildHeif({ ispe: { width: 0, height: 0 } }), /item 1 \(hvc1\) is 0x0/],
    [
      'an image wider than 65,535',
      buildHeif({ grid: { rows: 1, columns: 2, width: 70_000, height: 64 } }),
      /is 70000x64, more than 65535 a side/,
    ],
    [
      'tiles that do not cover the grid',
      buildHeif({ grid: { ...grid, width: 200, height: 100 } }),
      /2x2 tiles of 64x64 do not cover 200x100/,
    ],
    [
      'an ispe other than the grid',
      buildHeif({ grid, ispe: { width: 128, height: 100 } }),
      /128x100 by its ispe, 128x128 by its grid/,
    ],
    [
      'an HEVC parameter set coding another size than the ispe',
      buildHeif({ image: withCodedSize(QUADRANTS, 16_384, 16_384) }),
      /64x64 by its ispe, 16384x16384 as coded/,
    ],
    [
      'an HEVC parameter set in the data, coding another size',
      buildHeif({ grid, image: withCodedSize(QUADRANTS, 4096, 64, true) }),
      /64x64 by its ispe, 4096x64 as coded/,
    ],

    // Grids
    [
      'a tile that is not in the file',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).references = [{ type: 'dimg', to: [2, 3, 4, 999] }];
      }),
      /has tile 999, which is not in the file/,
    ],
    [
      'fewer tiles than rows x columns',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).references = [{ type: 'dimg', to: [2, 3, 4] }];
      }),
      /has 3 tiles for its 2x2/,
    ],
    [
      'a tile that is no coded image',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID + 1).type = 'Exif';
      }),
      /item 2 \(Exif\) is not a coded image/,
    ],
    [
      'a grid as a tile',
      layoutOf((layout) => {
        layout.items.push({
          id: 99,
          type: 'grid',
          data: gridDescriptor(1, 1, 128, 128),
          inIdat: true,
          properties: [],
          references: [{ type: 'dimg', to: [PRIMARY_ID] }],
        });
        const primary = item(layout, PRIMARY_ID);
        item(layout, 99).properties = primary.properties;
        layout.primaryId = 99;
      }),
      /item 99 \(grid\) has a grid as a tile \(item 1\)/,
    ],
    [
      'a grid claiming 40x40 = 1600 tiles',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID).data = gridDescriptor(40, 40, 128, 128);
      }),
      /claims 40x40 = 1600 tiles, more than the 1024 decoded/,
    ],
    [
      'a grid whose references claim 100,000 tiles',
      buildHeif({ grid, claimedTiles: 100_000 }),
      /derived from at least 65535 images, more than the 1024 tiles of a grid decoded/,
    ],

    // Reference loops
    [
      'a tile derived from its grid',
      layoutOf((layout) => {
        item(layout, PRIMARY_ID + 1).references = [{ type: 'dimg', to: [PRIMARY_ID] }];
      }),
      /the references of item \d+ lead back to item \d+/,
    ],
    [
      'an image and its alpha plane auxiliary to each other',
      layoutOf(
        (layout) => {
          item(layout, PRIMARY_ID).references = [{ type: 'auxl', to: [alphaItem(layout).id] }];
        },
        { alpha: true },
      ),
      /the references of item \d+ lead back/,
    ],
    [
      'an Exif item describing itself',
      layoutOf(
        (layout) => {
          const exif = layout.items.find((candidate) => candidate.type === 'Exif');
          if (exif) exif.references = [{ type: 'cdsc', to: [exif.id] }];
        },
        { exif: TIFF },
      ),
      /the references of item \d+ lead back/,
    ],
  ])('%s: undecodable', (_, bytes, message) => {
    expect(refusal(bytes)).toMatchObject({ reason: 'undecodable', message: expect.stringMatching(message) });
  });

  it.each([
    [
      'displayed pixels over the budget',
      buildHeif({ grid: { rows: 16, columns: 16 } }),
      1_000_000,
      /1024x1024 is more than 1000000 pixels/,
    ],
    [
      'coded pixels over the budget, the displayed ones within it',
      buildHeif({ grid: { ...grid, width: 65, height: 65 } }),
      10_000,
      /decoding takes 16384 pixels of coded images, more than 10000/,
    ],
    ['the alpha plane over the budget', buildHeif({ alpha: true }), 8191, /8192 pixels of coded images/],
    [
      'a claim over the budget, judged before the structure behind it',
      buildHeif({ grid: { ...grid, width: 20_000, height: 20_000 } }),
      100_000_000,
      /20000x20000 is more than 100000000 pixels/,
    ],
  ] as const)('%s: too_many_pixels', (_, bytes, maxInputPixels, message) => {
    expect(refusal(bytes, { maxInputPixels })).toMatchObject({
      reason: 'too_many_pixels',
      message: expect.stringMatching(message),
    });
  });

  it('takes exactly the budget', () => {
    const header = readHeifHeader(buildHeif({ grid: { rows: 16, columns: 16 }, alpha: true }), {
      maxInputPixels: 2 * 1024 * 1024,
    });
    expect(header.primary.codedPixels).toBe(2 * 1024 * 1024);
  });

  it('refuses every hostile HEIC of the adversarial suite as the suite expects', () => {
    const { maxInputPixels } = parseSettings();
    const inputs = heicAdversarialInputs();
    expect(inputs.length).toBeGreaterThanOrEqual(10);
    for (const input of inputs) {
      const expected = input.expected.outcome === 'rejected' ? input.expected.reason : 'accepted';
      expect([input.name, refusal(input.bytes, { maxInputPixels }).reason]).toEqual([input.name, expected]);
    }
  });

  it('reads a file cut inside any box as truncated, and one cut between boxes as truncated or undecodable', () => {
    const boxes = topLevelBoxes(photo);
    const wrong: string[] = [];
    for (let cut = 0; cut < photo.length; cut++) {
      const { reason } = refusal(photo.subarray(0, cut));
      const inside = boxes.some((box) => box.start < cut && cut < box.end);
      if (inside ? reason !== 'truncated' : reason === 'too_many_pixels') wrong.push(`${cut}: ${reason}`);
    }
    expect(wrong).toEqual([]);
    // Between boxes: no meta box at all after the ftyp, the items' data missing after the meta box.
    expect(refusal(photo.subarray(0, meta.start)).reason).toBe('undecodable');
    expect(refusal(photo.subarray(0, mdat.start)).reason).toBe('truncated');
  });

  it('survives any one byte of its meta box changed: a header or its own refusal, nothing else', () => {
    const file = buildHeif({ grid, alpha: true, exif: TIFF, rotation: 90, thumbnail: true });
    const { start, end } = topLevelBox(file, 'meta');
    const outcomes = { read: 0, refused: 0 };
    for (let at = start; at < end; at++) {
      for (const value of [0x00, 0xff, (file[at] as number) ^ 0x01]) {
        const changed = Buffer.from(file);
        changed[at] = value;
        outcomes[outcome(changed) instanceof UnreadableHeifError ? 'refused' : 'read']++;
      }
    }
    // Both happen: names and spare bits are not checked, sizes and counts are.
    expect(outcomes.read).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// The real HEICs of the shared corpus

const realHeics = (readCorpusManifest() ?? []).filter(
  (entry) => entry.format === 'heic' && existsSync(join(CORPUS_DIR, entry.file)),
);

describe.skipIf(realHeics.length === 0)('the real HEICs of the shared corpus', () => {
  const read = (file: string) => readFileSync(join(CORPUS_DIR, file));

  it.each(realHeics.map((entry) => [entry.file, entry] as const))(
    '%s: its size as the manifest says, Exif, an ICC profile where the manifest notes one',
    (file, entry) => {
      const header = readHeifHeader(read(file), LIMIT);
      const { primary } = header;
      expect([primary.width, primary.height]).toEqual([entry.width, entry.height]);
      expect(primary.codedPixels).toBeGreaterThanOrEqual(entry.width * entry.height);
      expect(['II*\0', 'MM\0*']).toContain(Buffer.from(header.exif ?? []).toString('latin1', 0, 4));
      expect(header.icc !== undefined, 'ICC').toBe(entry.notable.includes('ICC'));
      // An ICC profile carries its signature at byte 36.
      if (header.icc) expect(Buffer.from(header.icc).toString('latin1', 36, 40)).toBe('acsp');
    },
  );

  it.skipIf(!realHeics.some((entry) => entry.file === 'ianare__iphone_13_pro_max.HEIC'))(
    'reads an iPhone photo as a grid of 512x512 tiles turned a quarter',
    () => {
      const { primary } = readHeifHeader(read('ianare__iphone_13_pro_max.HEIC'), LIMIT);
      expect(primary).toMatchObject({
        itemType: 'grid',
        rotation: 270,
        tiles: 48,
        codedPixels: 48 * 512 * 512,
      });
    },
  );

  it.each(realHeics.map((entry) => [entry.file] as const))(
    '%s: cut inside any box, reads as truncated; between boxes, as truncated or undecodable at worst',
    (file) => {
      const bytes = read(file);
      const boxes = topLevelBoxes(bytes);
      const meta = topLevelBox(bytes, 'meta');
      // Every byte of the head and of the meta box, each box's edges, and a cut every 1/500 of the file.
      const cuts = new Set<number>();
      for (let cut = 0; cut <= 64; cut++) cuts.add(cut);
      for (let cut = meta.start - 16; cut <= meta.end + 16; cut++) cuts.add(Math.max(0, cut));
      for (const box of boxes) for (const edge of [-1, 0, 1]) cuts.add(box.start + edge).add(box.end + edge);
      for (let i = 0; i < 500; i++) cuts.add(Math.floor((bytes.length * i) / 500));
      const wrong: string[] = [];
      for (const cut of [...cuts].filter((at) => at >= 0 && at < bytes.length)) {
        const inside = boxes.some((box) => box.start < cut && cut < box.end);
        const result = outcome(bytes.subarray(0, cut));
        const reason = result instanceof UnreadableHeifError ? result.reason : 'read';
        if (inside ? reason !== 'truncated' : reason === 'too_many_pixels') wrong.push(`${cut}: ${reason}`);
      }
      expect(wrong).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------------
// libheif's own reading of the built files, where its command-line tools are installed (not on CI)

const heifConvert = spawnSync('heif-convert', ['--help'], { stdio: 'ignore' }).error === undefined;

describe.skipIf(!heifConvert)('libheif (heif-convert) decoding built files as their headers describe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heif-container-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The quadrants' colours, 1 bit a channel: red, green / blue, yellow as the fixtures store them. */
  const STORED = [
    ['100', '010'],
    ['001', '110'],
  ];

  /** The 2x2 quadrants turned anticlockwise, then mirrored, as the header says to show them. */
  function displayed({ rotation, mirror }: HeifHeader['primary']): string[][] {
    let out = STORED;
    for (let turn = 0; turn < rotation / 90; turn++) {
      out = [
        [out[0]?.[1], out[1]?.[1]],
        [out[0]?.[0], out[1]?.[0]],
      ] as string[][];
    }
    if (mirror === 'vertical') out = [out[1], out[0]] as string[][];
    if (mirror === 'horizontal') out = out.map((row) => [...row].reverse());
    return out;
  }

  async function decode(bytes: Buffer, name: string) {
    const [input, output] = [join(dir, `${name}.heic`), join(dir, `${name}.png`)];
    writeFileSync(input, bytes);
    expect(spawnSync('heif-convert', [input, output], { stdio: 'ignore' }).status).toBe(0);
    const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) =>
      [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x + 1) * info.channels)]
        .map((value) => (value > 127 ? 1 : 0))
        .join('');
    const [left, right, top, bottom] = [8, info.width - 8, 8, info.height - 8];
    return {
      size: [info.width, info.height],
      channels: info.channels,
      corners: [
        [at(left, top), at(right, top)],
        [at(left, bottom), at(right, bottom)],
      ],
      at,
    };
  }

  it.each([
    ['upright', {}],
    ['turned 90', { rotation: 90 }],
    ['turned 270', { rotation: 270 }],
    ['mirrored vertically', { mirror: 'vertical' }],
    ['mirrored horizontally', { mirror: 'horizontal' }],
    ['turned 90 and mirrored vertically', { rotation: 90, mirror: 'vertical' }],
  ] as const)('%s', async (name, options) => {
    const header = readHeifHeader(buildHeif(options), LIMIT);
    const decoded = await decode(buildHeif(options), name.replaceAll(' ', '-'));
    expect(decoded.size).toEqual([header.primary.width, header.primary.height]);
    expect(decoded.corners.map((row) => row.map((pixel) => pixel.slice(0, 3)))).toEqual(
      displayed(header.primary),
    );
  });

  it('a 1x2 grid turned 270, with its alpha grid turned alike', async () => {
    const options = { grid: { rows: 1, columns: 2 }, rotation: 270, alpha: true } as const;
    const header = readHeifHeader(buildHeif(options), LIMIT);
    const decoded = await decode(buildHeif(options), 'grid-alpha');
    expect([decoded.size, decoded.channels]).toEqual([[64, 128], 4]);
    expect([header.primary.width, header.primary.height, header.primary.tiles]).toEqual([64, 128, 2]);
    // Each 64x64 tile is opaque on its left half; a quarter turn clockwise puts the halves in rows.
    const alpha = [16, 48, 80, 112].map((y) => decoded.at(32, y).slice(3));
    expect(alpha).toEqual(['1', '0', '1', '0']);
  });
});
