import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ASSUMED,
  BYTES_PER_MEGAPIXEL,
  type CostEstimate,
  costedDeployment,
  DECODE_MS_PER_MEGAPIXEL,
  type Deployment,
  ENCODE_MS_PER_MEGAPIXEL,
  estimateCost,
  INGEST_BENCH,
  INGEST_MS_PER_MEGAPIXEL,
  LANE_ENCODE_FACTOR,
  LANE_MEMORY_SIZES_MB,
  LATENCY_GOALS_MS,
  ORIGINAL_BYTES_PER_MEGAPIXEL,
  originalSize,
  PHOTO_BENCH,
  type PhotoRenderFigures,
  PRICES,
  type PriceTable,
  plannedDerivatives,
  renderCpuMs,
  sizeLanes,
  type Workload,
} from '../../cli/commands/cost-model.js';
import { holderToItem, imageToItem, linkToItem } from '../../lambdas/adapters/aws/catalog-items.js';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { RENDER_MEMORY_MB, RENDER_MIN_MEMORY_MB } from '../../lambdas/contract.js';
import { PRODUCTION_ENCODERS } from '../../lambdas/core/encoder-settings.js';
import type { Enrichment } from '../../lambdas/core/enrichment.js';
import { OUTPUT_FORMAT_NAMES } from '../../lambdas/core/formats.js';
import { indexTerm } from '../../lambdas/core/index-terms.js';
import { area } from '../../lambdas/core/render/geometry.js';
import { WORK_LANES, type WorkLane } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec, watermarkedPreview } from '../../lambdas/core/variants.js';
import type { IngestResult } from '../bench/ingest.js';
import { type PhotoFigures, RENDER_PHOTOS, type RenderPhotosResult } from '../bench/render-photos.js';
import { CORPUS_DIR, readCorpusManifest } from '../support/corpus.js';

const GB = 1024 ** 3;
const manifest = readCorpusManifest();
const deployment = costedDeployment(parseSettings());
/** Every capability on: tags, captions, embeddings, moderation, near-duplicates. */
const enriched = costedDeployment(
  parseSettings({ enrichment: { enabled: true, moderation: { enabled: true } } }),
);
const workload = (fields: Partial<Workload> = {}): Workload => ({
  images: 1000,
  megapixels: 12,
  viewsPerImagePerMonth: 10,
  months: 12,
  ...fields,
});
const withVariants = (variants: VariantSpec[]): Deployment => costedDeployment(parseSettings({ variants }));
const lines = (estimate: CostEstimate) =>
  Object.values(estimate.sections).flatMap((section) => section.items);
const item = (estimate: CostEstimate, name: string) => {
  const found = lines(estimate).find((line) => line.item.startsWith(name));
  if (!found) throw new Error(`no line ${name}`);
  return found;
};

describe('cost model', () => {
  it.each([
    ['12 MP', workload(), deployment],
    ['2 MP, no views', workload({ megapixels: 2, viewsPerImagePerMonth: 0 }), deployment],
    [
      '48 MP, given sizes',
      workload({ megapixels: 48, originalBytes: 20e6, bytesPerView: 150_000 }),
      deployment,
    ],
    ['12 MP, enriched, shared by 3 owners', workload({ linksPerImage: 3 }), enriched],
  ])('%s: twice the images cost twice as much, line by line', (_, base, deployment) => {
    const once = estimateCost(base, deployment);
    const twice = estimateCost({ ...base, images: base.images * 2 }, deployment);
    expect(lines(twice).map((line) => line.cost)).toEqual(
      lines(once).map((line) => expect.closeTo(line.cost * 2, 10)),
    );
    expect(twice.totals.overMonths).toBeCloseTo(once.totals.overMonths * 2, 8);
    expect(twice.perMillionImages).toEqual(
      Object.fromEntries(
        Object.entries(once.perMillionImages).map(([key, value]) => [key, expect.closeTo(value, 8)]),
      ),
    );
  });

  it.each([0, 1, 12, 36])(
    'keeps the images %i months: storage and delivery are paid each month',
    (months) => {
      const estimate = estimateCost(workload({ months }), enriched);
      const { ingest, enrichment, storage, enrichmentStorage, delivery } = estimate.sections;
      expect(storage.period).toBe('month');
      expect(enrichmentStorage.period).toBe('month');
      const monthly = storage.total + enrichmentStorage.total + delivery.total;
      expect(estimate.totals.perMonth).toBeCloseTo(monthly, 10);
      expect(estimate.totals.overMonths).toBeCloseTo(ingest.total + enrichment.total + months * monthly, 10);
      expect(estimate.sections).toEqual(estimateCost(workload({ months: 1 }), enriched).sections);
    },
  );

  it('charges no CloudFront and no origin reads when nobody views', () => {
    const none = estimateCost(workload({ viewsPerImagePerMonth: 0 }), deployment);
    expect(none.sections.delivery.items.length).toBeGreaterThan(0);
    for (const line of none.sections.delivery.items) expect(line.cost, line.item).toBe(0);
    expect(none.sections.delivery.total).toBe(0);
    const some = estimateCost(workload({ viewsPerImagePerMonth: 10 }), deployment);
    for (const line of some.sections.delivery.items) expect(line.cost, line.item).toBeGreaterThan(0);
  });

  it.each([
    ['the default set at 12 MP', DEFAULT_VARIANTS, 12, 12],
    ['the default set and a watermarked preview', [...DEFAULT_VARIANTS, watermarkedPreview()], 12, 14],
    ['the thumbnail only', DEFAULT_VARIANTS.slice(0, 1), 12, 3],
    // 1633×1225 fits in the large box: rendered at its own size, still every variant.
    ['the default set at 2 MP', DEFAULT_VARIANTS, 2, 12],
    // 632×474 fits in every inside box: only the smallest (small) is rendered, with the thumbnail.
    ['the default set at 0.3 MP', DEFAULT_VARIANTS, 0.3, 6],
  ] as const)('writes the derivatives the workers would for %s', (_, variants, megapixels, objects) => {
    const estimate = estimateCost(workload({ megapixels }), withVariants([...variants]));
    expect(estimate.perImage.derivatives).toHaveLength(objects);
    expect(item(estimate, 'S3 PUT').quantity).toBe(1000 * (objects + 2));
    expect(estimate.perImage.derivativeBytes).toBe(
      estimate.perImage.derivatives.reduce((sum, derivative) => sum + derivative.bytes, 0),
    );
  });

  it('renders the preview as a variants-lane job in WebP and JPEG at 1200 px', () => {
    const preview = plannedDerivatives([watermarkedPreview()], originalSize(12)).map(
      ({ variant, format, lane, width, height }) => ({ variant, format, lane, width, height }),
    );
    expect(preview).toEqual([
      { variant: 'preview', format: 'webp', lane: 'variants', width: 1200, height: 900 },
      { variant: 'preview', format: 'jpeg', lane: 'variants', width: 1200, height: 900 },
    ]);
    const more = renderCpuMs([...DEFAULT_VARIANTS, watermarkedPreview()], originalSize(12));
    const base = renderCpuMs(DEFAULT_VARIANTS, originalSize(12));
    expect(more.thumbnails).toBe(base.thumbnails);
    expect(more.variants).toBeGreaterThan(base.variants ?? Number.POSITIVE_INFINITY);
  });

  it('reproduces each bench photo, lane by lane, from its rates per megapixel', () => {
    for (const photo of PHOTO_BENCH.photos) {
      const cpu = renderCpuMs(DEFAULT_VARIANTS, photo);
      for (const lane of WORK_LANES) {
        // Pooled rates, not the photo's own: within a quarter of what the bench measured of it.
        expect(cpu[lane], `${photo.image} ${lane}`).toBeGreaterThan(photo.lanes[lane].cpuMs * 0.75);
        expect(cpu[lane], `${photo.image} ${lane}`).toBeLessThan(photo.lanes[lane].cpuMs * 1.25);
      }
    }
  });

  it('scales with the input by the decode rate, and with the outputs by each format’s rate', () => {
    const at = (megapixels: number, variants: readonly VariantSpec[] = DEFAULT_VARIANTS) =>
      renderCpuMs(variants, originalSize(megapixels));
    // Above the largest variant the outputs stop growing: twice the pixels add only their decode.
    const [twelve, twentyFour] = [at(12), at(24)];
    const added = area(originalSize(24)) / 1e6 - area(originalSize(12)) / 1e6;
    for (const lane of WORK_LANES) {
      expect((twentyFour[lane] ?? 0) - (twelve[lane] ?? 0), lane).toBeCloseTo(
        DECODE_MS_PER_MEGAPIXEL[lane] * added,
        6,
      );
    }
    // A format dropped from every variant takes its encodes away, and nothing else.
    for (const format of OUTPUT_FORMAT_NAMES) {
      const without = DEFAULT_VARIANTS.map((variant) => ({
        ...variant,
        formats: variant.formats.filter((encoding) => encoding.format !== format),
      }));
      const encodes = plannedDerivatives(DEFAULT_VARIANTS, originalSize(12))
        .filter((derivative) => derivative.format === format)
        .reduce(
          (sum, d) => sum + (area(d) / 1e6) * ENCODE_MS_PER_MEGAPIXEL[format] * LANE_ENCODE_FACTOR[d.lane],
          0,
        );
      const less = at(12, without);
      const total = (cpu: Partial<Record<WorkLane, number>>) => (cpu.thumbnails ?? 0) + (cpu.variants ?? 0);
      expect(total(twelve) - total(less), format).toBeCloseTo(encodes, 6);
    }
    expect(at(2).variants).toBeLessThan(twelve.variants ?? 0);
  });

  it('bills Lambda for wall time at the configured memory: slower below a vCPU, no faster above', () => {
    const estimate = estimateCost(workload(), deployment);
    const cpu = estimate.perImage.renderCpuMs;
    const variants = item(estimate, 'Lambda compute: render variants');
    expect(variants.item).toContain(`(${RENDER_MEMORY_MB.variants} MB)`);
    expect(variants.quantity).toBeCloseTo(
      (1000 * ((cpu.variants ?? 0) + ASSUMED.renderJobWaitMs) * RENDER_MEMORY_MB.variants) / 1024 / 1000,
      6,
    );
    const thumbnails = item(estimate, 'Lambda compute: render thumbnails');
    const share = RENDER_MEMORY_MB.thumbnails / ASSUMED.mbPerVcpu;
    expect(thumbnails.quantity).toBeCloseTo(
      (1000 * ((cpu.thumbnails ?? 0) / share + ASSUMED.renderJobWaitMs) * RENDER_MEMORY_MB.thumbnails) /
        1024 /
        1000,
      6,
    );
  });

  it('applies the list prices: a case worked by hand', () => {
    const estimate = estimateCost(
      {
        images: 1000,
        megapixels: 12,
        originalBytes: 5e6,
        viewsPerImagePerMonth: 10,
        months: 3,
        bytesPerView: 100_000,
      },
      deployment,
    );
    const cost = (name: string) => item(estimate, name).cost;
    // 2 requests an image at $1.00 per million.
    expect(cost('HTTP API requests')).toBeCloseTo(0.002, 12);
    // Upload, original and 12 derivatives at $0.005 per 1,000.
    expect(cost('S3 PUT')).toBeCloseTo(0.07, 12);
    // Upload and one original read per job at $0.0004 per 1,000.
    expect(cost('S3 GET: upload')).toBeCloseTo(0.0012, 12);
    // 2 jobs, 3 requests each, at $0.40 per million.
    expect(cost('SQS')).toBeCloseTo(0.0024, 12);
    // 13 WRU (1 + a transaction of 4 items at 2 + 1 + 2 jobs + 1) at $0.625 per million.
    expect(cost('DynamoDB writes')).toBeCloseTo(0.008125, 12);
    // 7 RRU at $0.125 per million.
    expect(cost('DynamoDB reads')).toBeCloseTo(0.000875, 12);
    // 5,000 MB of originals for a month at $0.023 per GB.
    expect(cost('S3 Standard: originals')).toBeCloseTo(((1000 * 5e6) / GB) * 0.023, 12);
    // No reprocess scan: at rest the upkeep reads no item, a fixed cost outside the model.
    expect(lines(estimate).filter((line) => /reprocess|scan/.test(line.item))).toEqual([]);
    // The upkeep index: its entry written once (1 WRU), then the image filed as settled: the record
    // (1 WRU) and the entry's key changed (a delete and a put, 2 WRU); 4 WRU at $0.625 per million.
    expect(cost('DynamoDB writes: upkeep index')).toBeCloseTo(1000 * 4 * 0.625e-6, 12);
    // Its entries, 200 bytes an image, kept at $0.25 per GB.
    expect(cost('DynamoDB storage: upkeep index')).toBeCloseTo(((1000 * 200) / GB) * 0.25, 12);
    // 10,000 views of 100 kB at $0.085 per GB, $0.01 per 10,000 requests, $0.10 per million functions.
    expect(cost('CloudFront transfer')).toBeCloseTo((1e4 * 1e5 * 0.085) / GB, 12);
    expect(cost('CloudFront HTTPS')).toBeCloseTo(0.01, 12);
    expect(cost('CloudFront Function')).toBeCloseTo(0.001, 12);
    // A tenth of the views miss the caches.
    expect(cost('S3 GET: cache misses')).toBeCloseTo(1000 * 0.0004e-3, 12);
    expect(estimate.totals.overMonths).toBeCloseTo(estimate.totals.once + 3 * estimate.totals.perMonth, 12);
  });

  it('prices every line from the one table, and takes another table', () => {
    const estimate = estimateCost(workload({ searchesPerMonth: 5000 }), enriched);
    expect(estimate.sections.search.items.length).toBeGreaterThan(0);
    const prices = Object.values(PRICES);
    for (const line of lines(estimate)) {
      expect(prices, line.item).toContainEqual({
        service: line.service,
        usd: line.unitPrice,
        per: line.per,
        unit: line.unit,
      });
      expect(line.cost).toBeCloseTo((line.quantity / line.per) * line.unitPrice, 12);
    }
    const doubled = Object.fromEntries(
      Object.entries(PRICES).map(([name, price]) => [name, { ...price, usd: price.usd * 2 }]),
    ) as PriceTable;
    const twice = estimateCost(workload({ searchesPerMonth: 5000 }), enriched, doubled);
    expect(twice.totals.overMonths).toBeCloseTo(estimate.totals.overMonths * 2, 8);
    expect(twice.totals.searchPerMonth).toBeCloseTo(estimate.totals.searchPerMonth * 2, 8);
  });

  it('refuses a workload it cannot price', () => {
    expect(() => estimateCost(workload({ megapixels: 0 }), deployment)).toThrow(RangeError);
    expect(() => estimateCost(workload({ viewsPerImagePerMonth: -1 }), deployment)).toThrow(RangeError);
    expect(() => estimateCost(workload({ linksPerImage: 0 }), deployment)).toThrow(RangeError);
    expect(() => estimateCost(workload({ searchesPerMonth: -1 }), deployment)).toThrow(RangeError);
  });
});

describe('lane sizing', () => {
  const sizing = (cpu: Partial<Record<WorkLane, number>>, ingestMs = 400) => sizeLanes(cpu, ingestMs);

  it('bills each size its CPU at its share of a vCPU, and the waits', () => {
    const [thumbnails] = sizing({ thumbnails: 600 });
    expect(thumbnails?.sizes.map((size) => size.memoryMb)).toEqual([...LANE_MEMORY_SIZES_MB]);
    for (const size of thumbnails?.sizes ?? []) {
      const share = Math.min(1, size.memoryMb / ASSUMED.mbPerVcpu);
      expect(size.jobMs).toBeCloseTo(600 / share + ASSUMED.renderJobWaitMs, 9);
      expect(size.gbSeconds).toBeCloseTo((size.jobMs / 1000) * (size.memoryMb / 1024), 9);
      expect(size.latencyMs).toBeCloseTo(400 + size.jobMs, 9);
      expect(size.usdPerThousand).toBeCloseTo(
        1000 * (size.gbSeconds * PRICES.lambdaCompute.usd + PRICES.lambdaRequests.usd / 1e6),
        12,
      );
      expect(size.holdsOriginals).toBe(size.memoryMb >= RENDER_MIN_MEMORY_MB);
    }
  });

  it.each([
    // A job so short every size meets the goal: the smallest that holds every original.
    ['every size meets the goal', 1, RENDER_MIN_MEMORY_MB],
    // None meets it: a whole vCPU is the fastest, and the cheapest of the fastest.
    ['no size meets the goal', 60_000, ASSUMED.mbPerVcpu],
  ])('chooses a size when %s', (_, cpuMs, chosen) => {
    for (const lane of sizing({ thumbnails: cpuMs, variants: cpuMs })) expect(lane.chosenMb).toBe(chosen);
  });

  it('chooses the smallest size that meets the goal when some do', () => {
    // 2 s of CPU: ready in 0.4 + 2 / share + 0.25 s, under 5 s from 1,024 MB (4.1 s) but not at 512 MB.
    const [variants] = sizing({ variants: 2000 });
    const meeting = variants?.sizes.filter((size) => size.meetsGoal && size.holdsOriginals) ?? [];
    expect(meeting.length).toBeGreaterThan(0);
    expect(variants?.chosenMb).toBe(Math.min(...meeting.map((size) => size.memoryMb)));
    expect(variants?.sizes.find((size) => size.memoryMb === variants.chosenMb)?.latencyMs).toBeLessThan(
      LATENCY_GOALS_MS.ready,
    );
  });

  it('gives each lane the size the model chooses for a 12 MP photo (lambdas/contract.ts cites it)', () => {
    const estimate = estimateCost(workload({ megapixels: 12 }), deployment);
    expect(estimate.perImage.laneSizing.map(({ lane, goal }) => [lane, goal])).toEqual([
      ['thumbnails', 'firstThumbnail'],
      ['variants', 'ready'],
    ]);
    for (const { lane, chosenMb } of estimate.perImage.laneSizing)
      expect(RENDER_MEMORY_MB[lane]).toBe(chosenMb);
  });
});

describe('cost model inputs', () => {
  // The bench's figures change with every run, machine and encoder setting: the constants are checked
  // against what the bench measures and what a real run could produce, never against the last run.
  it('name the bench script, its fields and the corpus photos it renders', () => {
    expect(existsSync(new URL(`../../${PHOTO_BENCH.script}`, import.meta.url))).toBe(true);
    // The fields each constant is copied from: a renamed or retyped bench field fails `tsc` here.
    expectTypeOf(PHOTO_BENCH.photos[0]).toExtend<PhotoFigures>();
    expectTypeOf<PhotoFigures>().toExtend<PhotoRenderFigures>();
    expectTypeOf(PHOTO_BENCH.date).toExtend<RenderPhotosResult['date']>();
    expectTypeOf(PHOTO_BENCH.encoders).toExtend<RenderPhotosResult['encoders']>();
    expectTypeOf(INGEST_BENCH.photos[0].cpuMs).toExtend<IngestResult['ingest']['cpu']['medianMs']>();
    expectTypeOf(INGEST_BENCH.photos[0].megapixels).toExtend<IngestResult['megapixels']>();
    expect(PHOTO_BENCH.photos.map((photo) => photo.image)).toEqual([...RENDER_PHOTOS]);
    expect(INGEST_BENCH.photos.map((photo) => photo.image)).toEqual([...RENDER_PHOTOS]);
    for (const bench of [PHOTO_BENCH, INGEST_BENCH]) {
      expect(bench.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(new Date(bench.date).getTime()).toBeLessThanOrEqual(Date.now());
    }
  });

  it('are of the encoders production runs (else rerun test/bench/render-photos.ts and copy its figures)', () => {
    expect(PHOTO_BENCH.encoders).toEqual(PRODUCTION_ENCODERS);
  });

  it.skipIf(manifest === undefined)(
    'match the corpus files they name (skipped without ../shared/corpus)',
    () => {
      for (const photo of PHOTO_BENCH.photos) {
        const entry = manifest?.find((row) => row.file === photo.image);
        expect(entry, photo.image).toBeDefined();
        expect(statSync(join(CORPUS_DIR, photo.image)).size, photo.image).toBe(photo.bytes);
        expect(photo.width * photo.height, photo.image).toBe(entry?.pixels);
        const ingested = INGEST_BENCH.photos.find((row) => row.image === photo.image);
        expect(ingested?.megapixels).toBeCloseTo((photo.width * photo.height) / 1e6, 1);
      }
    },
  );

  it('are in the ranges a real bench run produces', () => {
    for (const photo of PHOTO_BENCH.photos) {
      const pixels = photo.width * photo.height;
      const ingest = INGEST_BENCH.photos.find((row) => row.image === photo.image)?.cpuMs ?? 0;
      // A camera JPEG: well under its raw 24-bit pixels, far above nothing.
      expect(photo.bytes).toBeGreaterThan(pixels * 3 * 0.01);
      expect(photo.bytes).toBeLessThan(pixels * 3);
      // Ingest probes and trial-decodes; the thumbnails lane decodes and encodes the smallest
      // outputs; the variants lane encodes nine larger ones: each costs more than the one before.
      expect(ingest).toBeGreaterThan(0);
      expect(photo.lanes.thumbnails.cpuMs).toBeGreaterThan(ingest);
      expect(photo.lanes.variants.cpuMs).toBeGreaterThan(photo.lanes.thumbnails.cpuMs);
      for (const lane of WORK_LANES) {
        expect(photo.lanes[lane].decodeCpuMs).toBeGreaterThan(0);
        expect(photo.lanes[lane].decodeCpuMs).toBeLessThan(photo.lanes[lane].cpuMs);
      }
      // The encodes of each format alone add up to the lane's encodes, give or take a run's noise.
      const encodes = Object.values(photo.variantsEncodeCpuMs).reduce((sum, ms) => sum + ms, 0);
      const lane = photo.lanes.variants;
      expect(encodes).toBeGreaterThan((lane.cpuMs - lane.decodeCpuMs) * 0.8);
      expect(encodes).toBeLessThan((lane.cpuMs - lane.decodeCpuMs) * 1.2);
      // Seconds, not minutes, for the default set of a camera photo on one thread.
      expect(photo.lanes.variants.cpuMs).toBeLessThan(120_000);
      for (const format of OUTPUT_FORMAT_NAMES) {
        expect(photo.variantsEncodeCpuMs[format]).toBeGreaterThan(0);
        // Each format's default variants, a few megapixels together, take fewer bytes than the original.
        expect(photo.derivativeBytes[format]).toBeGreaterThan(0);
        expect(photo.derivativeBytes[format]).toBeLessThan(photo.bytes);
      }
    }
    for (const rate of [
      ...Object.values(DECODE_MS_PER_MEGAPIXEL),
      ...Object.values(ENCODE_MS_PER_MEGAPIXEL),
      ...Object.values(BYTES_PER_MEGAPIXEL),
      ...Object.values(LANE_ENCODE_FACTOR),
      ORIGINAL_BYTES_PER_MEGAPIXEL,
      INGEST_MS_PER_MEGAPIXEL,
    ])
      expect(Number.isFinite(rate) && rate > 0).toBe(true);
    // The variants lane's encodes are the sum of each format's alone; the thumbnails' cost more per pixel.
    expect(LANE_ENCODE_FACTOR.variants).toBeGreaterThan(0.8);
    expect(LANE_ENCODE_FACTOR.variants).toBeLessThan(1.2);
    expect(LANE_ENCODE_FACTOR.thumbnails).toBeGreaterThan(LANE_ENCODE_FACTOR.variants * 0.8);
  });

  it('assume catalog items as the adapter writes them, each at most 1 KB', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const imageId = 'a'.repeat(64);
    const uploadId = '0d9a7c1e-1111-4222-8333-944455556666';
    const image = imageToItem({
      imageId,
      format: 'jpeg',
      contentType: 'image/jpeg',
      width: 4000,
      height: 3000,
      pages: 1,
      orientation: 1,
      hasAlpha: false,
      hasIcc: true,
      animated: false,
      bytes: 4_170_000,
      status: 'ready',
      variantSetVersion: 'abcdefabcdef',
      refCount: 1,
      createdAt: now,
      createdByUpload: uploadId,
      jobsQueuedAt: now,
      variants: Object.fromEntries(DEFAULT_VARIANTS.map((variant) => [variant.name, 'ready' as const])),
      placeholder: { thumbHash: 'XaUJI4aId4d/eAiIeICHB3g=', dominantColour: '#387ac8' },
      technicalMetadata: {
        cameraMake: 'HMD Global',
        cameraModel: 'Nokia 8.3 5G',
        lens: 'Nokia 8.3 5G back camera 5.43mm f/1.89',
        iso: 100,
        exposureTime: 0.000541,
        fNumber: 2.2,
        focalLength: 2.75,
        takenAt: '2022-08-14T14:12:31+03:00',
      },
    });
    const imageLink = {
      owner: 'arn:aws:sts::123456789012:assumed-role/app/session-1234',
      imageId,
      uploadId,
      collection: 'holidays-2026',
      filename: 'IMG_20260712_123456.jpg',
      linkedAt: now,
    };
    const link = linkToItem(imageLink);
    const holder = holderToItem(imageLink);
    // The ready image also carries `readyAt`, set by its last render job.
    const ready = { ...image, readyAt: now.toISOString() };
    expect(dynamoSize(ready)).toBeLessThanOrEqual(1024);
    expect(dynamoSize(ready)).toBeLessThanOrEqual(ASSUMED.imageItemBytes);
    expect(dynamoSize(ready)).toBeGreaterThan(ASSUMED.imageItemBytes * 0.7);
    expect(dynamoSize(link)).toBeLessThanOrEqual(ASSUMED.linkItemBytes);
    expect(dynamoSize(link)).toBeGreaterThan(ASSUMED.linkItemBytes * 0.7);
    expect(dynamoSize(holder)).toBeLessThanOrEqual(ASSUMED.holderItemBytes);
    expect(dynamoSize(holder)).toBeGreaterThan(ASSUMED.holderItemBytes * 0.7);
  });

  it('assume per-owner entries as the adapter writes them', () => {
    const owner = 'arn:aws:sts::123456789012:assumed-role/app/session-1234';
    for (const term of [indexTerm.tag('person'), indexTerm.word('photography'), indexTerm.colour('blue')]) {
      const entry = catalogKeys.indexEntry(owner, term, 'a'.repeat(64));
      expect(dynamoSize(entry), term).toBeLessThanOrEqual(ASSUMED.indexEntryBytes);
      expect(dynamoSize(entry), term).toBeGreaterThan(ASSUMED.indexEntryBytes * 0.7);
    }
  });

  it('assume the enrichment a record gains as stored: the most tags, a caption, five colours', () => {
    const { maxTags } = parseSettings().enrichment.tags;
    // Labels as Rekognition names a walk in a snowy wood, normalised.
    const LABELS = (
      'person adult female woman outdoors nature tree plant vegetation land forest woodland path ' +
      'walking coat clothing snow winter sky photography'
    ).split(' ');
    expect(LABELS.length).toBeGreaterThanOrEqual(maxTags);
    // As an adapter stores it: the date as an ISO string, like the record's others.
    const enrichment: Omit<Enrichment, 'enrichedAt'> & { enrichedAt: string } = {
      status: 'done',
      version: 'abcdefabcdef',
      enrichedAt: new Date('2026-11-23T12:00:00Z').toISOString(),
      tags: LABELS.slice(0, maxTags).map((name) => ({ name, confidence: 0.987 })),
      caption: {
        text: 'A woman in a red coat walks along a snowy forest path under a pale winter sky.',
        source: 'amazon.nova-lite-v1:0',
      },
      colours: Array.from({ length: 5 }, () => ({ hex: '#a1b2c3', name: 'orange', share: 0.213 })),
      embedding: { modelId: 'amazon.titan-embed-image-v1', dimensions: 1024, semantic: true },
    };
    expect(dynamoSize({ enrichment })).toBeLessThanOrEqual(ASSUMED.enrichmentBytes);
    expect(dynamoSize({ enrichment })).toBeGreaterThan(ASSUMED.enrichmentBytes * 0.7);
  });
});

/**
 * An item's size as DynamoDB bills it: each attribute's name and value; strings by their UTF-8 bytes,
 * numbers by about one byte per two digits plus one, booleans and nulls one byte, maps and lists
 * three bytes plus a byte per element.
 */
function dynamoSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).replace(/[^0-9]/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value))
    return 3 + value.reduce((sum: number, element) => sum + 1 + dynamoSize(element), 0);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return entries.reduce((sum, [name, v]) => sum + 1 + Buffer.byteLength(name) + dynamoSize(v), 3);
  }
  return 0;
}
