/**
 * What each render lane costs on camera photos, the figures the cost model is calibrated on
 * (`cli/commands/cost-model.ts`, `PHOTO_BENCH`): the corpus's 12–24 MP JPEGs, each lane's job as the
 * render worker runs it (`renderVariants` on the lane's variants, the whole set known), at one libvips
 * thread, with production's encoders (`PRODUCTION_ENCODERS`) or, with `--encoders baseline`, those
 * Aperture ran before ADR 10. Per photo: each
 * lane's CPU, the same job without encodes (decode, resizes, crop), the variants lane's encodes of
 * each format alone, and the derivative bytes of each format. The least CPU of `--runs` runs each.
 * Prints a table and the figures as JSON, to be copied into the cost model.
 *
 *   node --import tsx test/bench/render-photos.ts [--runs 2] [--encoders baseline]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  BASELINE_ENCODERS,
  type EncoderSettings,
  PRODUCTION_ENCODERS,
} from '../../lambdas/core/encoder-settings.js';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from '../../lambdas/core/formats.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { laneOf, WORK_LANES, type WorkLane } from '../../lambdas/core/render-jobs.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';
import { CORPUS_DIR } from '../support/corpus.js';
import { markdownTable } from './stats.js';

/** Camera JPEGs of the corpus: two 12 MP (one progressive), one 24 MP. */
export const RENDER_PHOTOS = [
  'ianare__42_IndexError.jpg',
  'immich__book-beside-flowers.jpg',
  'immich__craft-beer.jpg',
] as const;

export interface LaneFigures {
  /** The lane's job: decode, resizes and every encode. */
  cpuMs: number;
  /** The same job with no formats to encode: decode, resizes, crop (and the thumbnails' fingerprint). */
  decodeCpuMs: number;
}

export interface PhotoFigures {
  image: (typeof RENDER_PHOTOS)[number];
  width: number;
  height: number;
  bytes: number;
  lanes: Record<WorkLane, LaneFigures>;
  /** The variants lane's encodes of each format alone: that format's job less the job without encodes. */
  variantsEncodeCpuMs: Record<OutputFormat, number>;
  /** Every derivative of the default set, summed by format. */
  derivativeBytes: Record<OutputFormat, number>;
}

export interface RenderPhotosResult {
  date: string;
  /** The encoders that made these figures. */
  encoders: EncoderSettings;
  sharp: string;
  threads: number;
  photos: PhotoFigures[];
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function leastCpu<T>(runs: number, work: () => Promise<T>): Promise<{ cpuMs: number; result: T }> {
  let least = Number.POSITIVE_INFINITY;
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const start = cpuMs();
    result = await work();
    least = Math.min(least, cpuMs() - start);
  }
  return { cpuMs: Math.round(least), result: result as T };
}

const onlyFormats = (variants: readonly VariantSpec[], formats: readonly OutputFormat[]): VariantSpec[] =>
  variants.map((variant) => ({
    ...variant,
    formats: variant.formats.filter((encoding) => formats.includes(encoding.format)),
  }));

export async function benchRenderPhotos(
  runs: number,
  encoders: EncoderSettings,
): Promise<RenderPhotosResult> {
  sharp.cache(false);
  sharp.concurrency(1);
  const options = { maxInputPixels: 100_000_000, variantSet: DEFAULT_VARIANTS, encoders };
  const photos: PhotoFigures[] = [];
  for (const image of RENDER_PHOTOS) {
    const bytes = await readFile(path.join(CORPUS_DIR, image));
    const { width = 0, height = 0, orientation = 1 } = await sharp(bytes).metadata();
    const upright = orientation >= 5 ? { width: height, height: width } : { width, height };
    const laneFigures = {} as Record<WorkLane, LaneFigures>;
    const derivativeBytes = { avif: 0, webp: 0, jpeg: 0 };
    for (const lane of WORK_LANES) {
      const variants = DEFAULT_VARIANTS.filter((variant) => laneOf(variant) === lane);
      const fingerprint = lane === 'thumbnails';
      const whole = await leastCpu(runs, () => renderVariants(bytes, variants, { ...options, fingerprint }));
      for (const object of whole.result.objects) derivativeBytes[object.format] += object.bytes.length;
      const bare = await leastCpu(runs, () =>
        renderVariants(bytes, onlyFormats(variants, []), { ...options, fingerprint }),
      );
      laneFigures[lane] = { cpuMs: whole.cpuMs, decodeCpuMs: bare.cpuMs };
    }
    const variants = DEFAULT_VARIANTS.filter((variant) => laneOf(variant) === 'variants');
    const variantsEncodeCpuMs = { avif: 0, webp: 0, jpeg: 0 };
    for (const format of OUTPUT_FORMAT_NAMES) {
      const alone = await leastCpu(runs, () =>
        renderVariants(bytes, onlyFormats(variants, [format]), options),
      );
      variantsEncodeCpuMs[format] = Math.max(0, alone.cpuMs - laneFigures.variants.decodeCpuMs);
    }
    photos.push({
      image,
      ...upright,
      bytes: bytes.length,
      lanes: laneFigures,
      variantsEncodeCpuMs,
      derivativeBytes,
    });
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    encoders,
    sharp: sharp.versions.sharp ?? '',
    threads: sharp.concurrency(),
    photos,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '1' }, encoders: { type: 'string', default: 'production' } },
  });
  if (!existsSync(CORPUS_DIR)) throw new Error(`no corpus at ${CORPUS_DIR}`);
  const encoders = values.encoders === 'baseline' ? BASELINE_ENCODERS : PRODUCTION_ENCODERS;
  const result = await benchRenderPhotos(Number(values.runs), encoders);
  console.log(
    markdownTable(
      [
        'photo',
        'MP',
        'thumbnails lane CPU ms (decode)',
        'variants lane CPU ms (decode)',
        'AVIF / WebP / JPEG encodes ms',
        'bytes AVIF / WebP / JPEG',
      ],
      result.photos.map((photo) => [
        photo.image,
        ((photo.width * photo.height) / 1e6).toFixed(1),
        `${photo.lanes.thumbnails.cpuMs} (${photo.lanes.thumbnails.decodeCpuMs})`,
        `${photo.lanes.variants.cpuMs} (${photo.lanes.variants.decodeCpuMs})`,
        OUTPUT_FORMAT_NAMES.map((format) => photo.variantsEncodeCpuMs[format]).join(' / '),
        OUTPUT_FORMAT_NAMES.map((format) => photo.derivativeBytes[format]).join(' / '),
      ]),
    ),
  );
  console.log(JSON.stringify(result, null, 2));
}
