import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { itemData, parseHeif } from '../../lambdas/core/heif/container.js';
import { readHeif } from '../../lambdas/core/heif/readable.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { assembleHeif, box, gridDescriptor, type ItemLayout, ispe } from '../support/heif-builder.js';

const run = promisify(execFile);

/** The corpus's 12 MP iPhone photo: a grid of 512 px tiles, turned by `irot`, Display P3. */
const IPHONE_12MP = 'ianare__iphone_13_pro_max.HEIC';
/** A 16 MP phone photo coded as one HEVC picture, no grid. */
const NOKIA_16MP = 'ianare__HMD_Nokia_8.3_5G.heif';

export interface HeicResult {
  name: string;
  width: number;
  height: number;
  bytes: number;
  containerMs: number;
  coldDecodeMs: number;
  warmDecodeMs: number;
  decodePeakRssMb: number;
  renderMs: number;
  renderPeakRssMb: number;
  /** The same pixels as a q90 JPEG: its full decode, and the default set rendered from it. */
  jpegDecodeMs: number;
  jpegRenderMs: number;
}

/**
 * A 48 MP photo as an iPhone 14 Pro and later writes one (`heic`, a grid of 512 px HEVC tiles,
 * turned, Display P3), made of a real 12 MP iPhone HEIC's own tiles laid out twice across and twice
 * down: a 16 x 12 grid of 192 distinct tile items, each as costly to decode as a camera's.
 */
function iphone48mp(iphone12mp: Buffer): Buffer {
  const file = parseHeif(iphone12mp);
  const primary = file.items.get(file.primaryId);
  const tiles = primary?.references.get('dimg');
  if (primary?.type !== 'grid' || !tiles) throw new Error(`${IPHONE_12MP} is no grid`);
  const columns = 8;
  const rows = tiles.length / columns;
  const items: ItemLayout[] = [];
  const order: number[] = [];
  let nextId = 1000;
  for (let row = 0; row < rows * 2; row++) {
    for (let column = 0; column < columns * 2; column++) {
      const tile = file.items.get(tiles[(row % rows) * columns + (column % columns)] as number);
      if (!tile) throw new Error('a tile is missing');
      const id = nextId++;
      order.push(id);
      items.push({
        id,
        type: tile.type,
        hidden: true,
        data: itemData(file, tile),
        properties: tile.properties.map((p) => box(p.type, p.body)),
      });
    }
  }
  const width = 512 * columns * 2 - 128;
  const height = 512 * rows * 2 - 96;
  const kept = primary.properties.filter((p) => p.type !== 'ispe').map((p) => box(p.type, p.body));
  items.unshift({
    id: 1,
    type: 'grid',
    data: gridDescriptor(rows * 2, columns * 2, width, height),
    inIdat: true,
    properties: [ispe(width, height), ...kept],
    references: [{ type: 'dimg', to: order }],
  });
  return assembleHeif({ brands: ['heic', 'mif1', 'heic'], primaryId: 1, items });
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** CPU ms of `work`, the least of `runs` (sharp's threads count: they are this process's). */
async function leastCpu(runs: number, work: () => Promise<unknown>): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = cpuMs();
    await work();
    least = Math.min(least, cpuMs() - start);
  }
  return least;
}

/**
 * What a HEIC costs against the same pixels as a JPEG: the container judged (µs), the HEVC decode
 * (the first in a process also compiles libheif's WebAssembly) and peak RSS, each in a fresh process
 * (`heic-rss.ts`), and the whole default variant set. The corpus's phone photos, and a 48 MP
 * iPhone-style grid made of their tiles; nothing without the corpus (no encoder here makes HEVC).
 */
export async function benchHeic(options: {
  corpusDir: string;
  repoRoot: string;
  maxInputPixels: number;
}): Promise<HeicResult[]> {
  const iphonePath = path.join(options.corpusDir, IPHONE_12MP);
  if (!existsSync(iphonePath)) return [];
  const iphone = await readFile(iphonePath);
  const inputs: { name: string; bytes: Buffer }[] = [{ name: `${IPHONE_12MP} (12 MP grid)`, bytes: iphone }];
  const nokiaPath = path.join(options.corpusDir, NOKIA_16MP);
  if (existsSync(nokiaPath))
    inputs.push({ name: `${NOKIA_16MP} (16 MP, one picture)`, bytes: await readFile(nokiaPath) });
  inputs.push({ name: 'iPhone-style 48 MP grid (its tiles, 2 x 2)', bytes: iphone48mp(iphone) });

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'aperture-heic-bench-'));
  const results: HeicResult[] = [];
  try {
    for (const [index, input] of inputs.entries()) {
      const file = path.join(scratch, `${index}.heic`);
      await writeFile(file, input.bytes);
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(options.repoRoot, 'test/bench/heic-rss.ts'),
          file,
          String(options.maxInputPixels),
        ],
        { cwd: options.repoRoot, maxBuffer: 1 << 20 },
      );
      const child = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
      const { tiff } = await readHeif(input.bytes, options);
      const { width = 0, height = 0 } = await sharp(tiff).metadata();
      const jpeg = await sharp(tiff).jpeg({ quality: 90 }).toBuffer();
      results.push({
        name: input.name,
        width,
        height,
        bytes: input.bytes.length,
        ...child,
        jpegDecodeMs: await leastCpu(3, () => sharp(jpeg).raw().toBuffer()),
        jpegRenderMs: await leastCpu(2, () => renderVariants(jpeg, DEFAULT_VARIANTS, options)),
      });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return results;
}
