import {
  API_MEMORY_MB,
  INGEST_MEMORY_MB,
  RENDER_MEMORY_MB,
  REPROCESS_INTERVAL_HOURS,
  REPROCESS_MEMORY_MB,
} from '../../lambdas/contract.js';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from '../../lambdas/core/formats.js';
import { area, planVariants, type Size } from '../../lambdas/core/render/geometry.js';
import { laneOf, WORK_LANES, type WorkLane } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';

/**
 * What a workload costs on AWS: ingest and render once, storage and delivery every month, line by
 * line, from list prices and the bench's measured CPU times. Pure: every input is explicit, and every
 * number it assumes is named here and listed in the estimate's `assumptions`. docs/cost.md explains
 * each formula; `aperture cost` prints it.
 */

// ---------------------------------------------------------------------------------------------------
// Prices

/** A list price: `usd` for every `per` units of `unit`. */
export interface Price {
  service: string;
  usd: number;
  per: number;
  unit: string;
}

/**
 * Public on-demand list prices, us-east-1, as taken on `PRICES_TAKEN_ON`: check them against
 * https://aws.amazon.com/pricing before relying on an estimate. Lambda is arm64 (Aperture's functions
 * are); S3 is Standard, first tier (up to 50 TB a month); CloudFront is the first 10 TB a month from
 * North America and Europe (Aperture's default price class 100). Free tiers are left out.
 */
export const PRICES = {
  lambdaCompute: { service: 'Lambda', usd: 0.0000133334, per: 1, unit: 'GB-s' },
  lambdaRequests: { service: 'Lambda', usd: 0.2, per: 1_000_000, unit: 'requests' },
  s3Storage: { service: 'S3', usd: 0.023, per: 1, unit: 'GB-month' },
  /** PUT, COPY, POST and LIST. */
  s3Writes: { service: 'S3', usd: 0.005, per: 1000, unit: 'requests' },
  /** GET (and every other request but DELETE, which is free). */
  s3Reads: { service: 'S3', usd: 0.0004, per: 1000, unit: 'requests' },
  /** Standard queues; every 64 KB chunk of a request counts as one (render jobs are well under). */
  sqsRequests: { service: 'SQS', usd: 0.4, per: 1_000_000, unit: 'requests' },
  /** On demand: a write of up to 1 KB is 1 WRU, 2 WRU in a transaction. */
  dynamoWrites: { service: 'DynamoDB', usd: 0.625, per: 1_000_000, unit: 'WRU' },
  /** On demand: a strongly consistent read of up to 4 KB is 1 RRU. */
  dynamoReads: { service: 'DynamoDB', usd: 0.125, per: 1_000_000, unit: 'RRU' },
  dynamoStorage: { service: 'DynamoDB', usd: 0.25, per: 1, unit: 'GB-month' },
  /** Point-in-time recovery (continuous backups), on for the catalog. */
  dynamoBackup: { service: 'DynamoDB', usd: 0.2, per: 1, unit: 'GB-month' },
  cloudFrontTransfer: { service: 'CloudFront', usd: 0.085, per: 1, unit: 'GB' },
  /** HTTPS requests (every Aperture URL is HTTPS). */
  cloudFrontRequests: { service: 'CloudFront', usd: 0.01, per: 10_000, unit: 'requests' },
  cloudFrontFunctions: { service: 'CloudFront', usd: 0.1, per: 1_000_000, unit: 'invocations' },
  apiRequests: { service: 'API Gateway', usd: 1, per: 1_000_000, unit: 'requests' },
  logsIngestion: { service: 'CloudWatch', usd: 0.5, per: 1, unit: 'GB' },
} as const satisfies Record<string, Price>;

export type PriceTable = Readonly<Record<keyof typeof PRICES, Price>>;

export const PRICES_TAKEN_ON = '2026-11-23';
export const PRICES_REGION = 'us-east-1';

/** AWS bills storage and transfer in binary gigabytes. */
const GB = 1024 ** 3;
/** AWS's month for monthly prices: 730 hours. */
export const HOURS_PER_MONTH = 730;

// ---------------------------------------------------------------------------------------------------
// Measured inputs

/**
 * The bench's figures the render and ingest costs are calibrated on: `npm run bench`, run of
 * 2026-11-23 (test/bench/results.json: 2 vCPU AMD EPYC, Node 20.20, sharp 0.35.5, libvips at one
 * thread), on its generated photo-like 12 MP JPEG (4000×3000, q90). Copied by hand after a bench
 * run; test/unit/cost-model.test.ts checks they name the bench's fields and image and lie in the
 * ranges a real run gives, without reading results.json (which every bench run rewrites).
 */
export const BENCH = {
  date: '2026-11-23',
  /** `ingest`, "generated 12 MP": its size and bytes (`mb`, 10^6 bytes). */
  original: { width: 4000, height: 3000, bytes: 4_170_000 },
  /** `renderCompare`, contender `pipeline`: `renderVariants`, the default set's 12 outputs, median CPU ms. */
  renderCpuMs: 5790.5,
  /** `render.perLaneSteps.thumb`: the thumbnails lane's job alone, median ms at one thread (≈ CPU). */
  thumbnailsLaneMs: 162.5,
  /** `ingest`, "generated 12 MP": stream and hash, sniff, probe and trial decode, median CPU ms. */
  ingestCpuMs: 45.6,
  /** `renderCompare`, contender `pipeline`: bytes of each format, summed over the four default variants. */
  derivativeBytes: { avif: 38_944, webp: 227_138, jpeg: 195_126 },
} as const;

/**
 * Each format's share of encoding work per output pixel: AVIF most of it. Not in results.json: the
 * render comparison's one-off split (README, Benchmarks), where naive sharp's four AVIFs took 5.3 s of
 * CPU and its WebPs and JPEGs 1.2 s together, split evenly between those two.
 */
export const ENCODE_SHARE: Readonly<Record<OutputFormat, number>> = {
  avif: 5.3 / 6.5,
  webp: 0.6 / 6.5,
  jpeg: 0.6 / 6.5,
};

// ---------------------------------------------------------------------------------------------------
// Assumed inputs (estimates, not measured; each is listed in an estimate's `assumptions`)

export const ASSUMED = {
  /** Originals are 4:3 landscape, as the bench's (and most cameras'). */
  aspect: 4 / 3,
  /** Lambda's CPU share grows with memory: one whole vCPU at this size, a share of one below. */
  mbPerVcpu: 1769,
  /** API requests per image: its POST /v1/uploads and one GET /v1/uploads/{id} for its status. */
  apiRequestsPerImage: 2,
  /** Wall time of one API request in its function (a presign or two catalog calls). */
  apiRequestMs: 50,
  /** Time ingest waits on S3, DynamoDB and SQS per upload: read, copy, four catalog calls, two sends. */
  ingestWaitMs: 300,
  /** Time a render job waits on S3 and DynamoDB: read the original, write in rounds of six, record. */
  renderJobWaitMs: 250,
  /**
   * Catalog items per image, as stored (DynamoDB adds 100 bytes each): the image record, one link,
   * and the link's holder item (its mirror under the image, without the collection index's keys).
   */
  imageItemBytes: 1000,
  linkItemBytes: 650,
  holderItemBytes: 550,
  /** DynamoDB's per-item storage overhead. */
  itemOverheadBytes: 100,
  /** The scheduled reprocess's scan, as Lambda time per MB of catalog read (1 MB pages). */
  reprocessScanMsPerMb: 150,
  /** Log bytes per function invocation: Lambda's START/END/REPORT, one Powertools line, one EMF line. */
  logBytesPerInvocation: 1500,
  /** Log bytes per API access log line. */
  logBytesPerApiRequest: 300,
  /** Share of views CloudFront answers from its caches; the rest are S3 GETs (transfer to CloudFront is free). */
  cdnHitRatio: 0.9,
} as const;

/** The bench's original in megapixels (12). */
const BENCH_MEGAPIXELS = area(BENCH.original) / 1e6;

/** Bytes of an original per megapixel when none is given: the bench's generated JPEGs at q90 (0.35 MB). */
export const ORIGINAL_BYTES_PER_MEGAPIXEL = BENCH.original.bytes / BENCH_MEGAPIXELS;

/** Output pixels of each format in the bench's run: the default set's placements on its original. */
const benchPixels: Record<OutputFormat, number> = (() => {
  const pixels = { avif: 0, webp: 0, jpeg: 0 };
  for (const { variant, placement } of planVariants(DEFAULT_VARIANTS, BENCH.original).planned) {
    for (const { format } of variant.formats) pixels[format] += area(placement.output);
  }
  return pixels;
})();

/** CPU ms per megapixel of the original that a job spends before encoding: the ingest bench's rate. */
const INPUT_MS_PER_MEGAPIXEL = BENCH.ingestCpuMs / BENCH_MEGAPIXELS;

/**
 * CPU ms per output pixel of each format, so that the default set on the bench's original costs what
 * the bench measured: its one decode taken out, the rest shared by format (`ENCODE_SHARE`).
 */
const ENCODE_MS_PER_PIXEL: Record<OutputFormat, number> = (() => {
  const encodeMs = BENCH.renderCpuMs - INPUT_MS_PER_MEGAPIXEL * BENCH_MEGAPIXELS;
  return Object.fromEntries(
    OUTPUT_FORMAT_NAMES.map((format) => [format, (ENCODE_SHARE[format] * encodeMs) / benchPixels[format]]),
  ) as Record<OutputFormat, number>;
})();

/** Bytes per output pixel of each format, as the bench's outputs came out. */
const BYTES_PER_PIXEL: Record<OutputFormat, number> = Object.fromEntries(
  OUTPUT_FORMAT_NAMES.map((format) => [format, BENCH.derivativeBytes[format] / benchPixels[format]]),
) as Record<OutputFormat, number>;

// ---------------------------------------------------------------------------------------------------
// The model

/** What is stored and served: images ingested at once, then kept and viewed for `months`. */
export interface Workload {
  /** Images ingested, each new (a duplicate costs its upload and ingest, but no render or storage). */
  images: number;
  /** Their average size in megapixels. */
  megapixels: number;
  /** @default megapixels × `ORIGINAL_BYTES_PER_MEGAPIXEL` */
  originalBytes?: number;
  /** Views of each image a month; a view is one request for one variant. */
  viewsPerImagePerMonth: number;
  /** @default one variant, each of the set as likely, in the format the CDN prefers (AVIF, WebP, JPEG) */
  bytesPerView?: number;
  /** How long the images are kept and viewed. */
  months: number;
}

/** The deployment the workload runs on: its settings, and what the construct gives its functions. */
export interface Deployment {
  settings: Pick<Settings, 'variants'>;
  memoryMb: { api: number; ingest: number; reprocess: number } & Readonly<Record<WorkLane, number>>;
  /** Runs of the scheduled reprocess, a consistent scan of the whole catalog, per hour. */
  reprocessRunsPerHour: number;
}

/** The deployment a cost estimate bills: these settings on the functions the construct makes. */
export function costedDeployment(settings: Pick<Settings, 'variants'>): Deployment {
  return {
    settings,
    memoryMb: {
      api: API_MEMORY_MB,
      ingest: INGEST_MEMORY_MB,
      reprocess: REPROCESS_MEMORY_MB,
      ...RENDER_MEMORY_MB,
    },
    reprocessRunsPerHour: 1 / REPROCESS_INTERVAL_HOURS,
  };
}

export type CostSectionName = 'ingest' | 'storage' | 'delivery';

export interface LineItem {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  /** USD per `per` units. */
  unitPrice: number;
  per: number;
  cost: number;
}

export interface CostSection {
  title: string;
  period: 'once' | 'month';
  items: LineItem[];
  total: number;
}

/** One derivative object an image gets. */
export interface PlannedDerivative {
  variant: string;
  format: OutputFormat;
  lane: WorkLane;
  width: number;
  height: number;
  /** Estimated, from the bench's bytes per output pixel of its format. */
  bytes: number;
}

export interface CostEstimate {
  workload: Required<Workload>;
  perImage: {
    original: Size & { bytes: number };
    derivatives: PlannedDerivative[];
    derivativeBytes: number;
    /** Render jobs (one per lane with variants) and each one's CPU time. */
    renderCpuMs: Partial<Record<WorkLane, number>>;
    ingestCpuMs: number;
    /** Billed seconds of each function per image. */
    lambdaSeconds: Record<string, number>;
  };
  sections: Record<CostSectionName, CostSection>;
  totals: {
    once: number;
    perMonth: number;
    /** Once, then `months` of storage and delivery. */
    overMonths: number;
  };
  /** The same, for a million images of this workload (every line scales with the number of images). */
  perMillionImages: CostEstimate['totals'] & { storagePerMonth: number; deliveryPerMonth: number };
  prices: { region: string; takenOn: string };
  assumptions: string[];
  /** What the estimate leaves out. */
  excluded: string[];
}

/** An original of `megapixels` at the assumed aspect ratio. */
export function originalSize(megapixels: number): Size {
  const width = Math.max(1, Math.round(Math.sqrt(megapixels * 1e6 * ASSUMED.aspect)));
  return { width, height: Math.max(1, Math.round(width / ASSUMED.aspect)) };
}

/**
 * The derivative objects the render workers write for an original of this size: every planned
 * variant (a size that would only repeat another is skipped, as the workers skip it) in each format.
 */
export function plannedDerivatives(variants: readonly VariantSpec[], size: Size): PlannedDerivative[] {
  return planVariants(variants, size).planned.flatMap(({ variant, placement }) =>
    variant.formats.map(({ format }) => ({
      variant: variant.name,
      format,
      lane: laneOf(variant),
      ...placement.output,
      bytes: Math.round(area(placement.output) * BYTES_PER_PIXEL[format]),
    })),
  );
}

/**
 * CPU ms of each lane's render job: the original's decode and first resize, linear in its pixels
 * (the ingest bench's rate per megapixel), then each output's encode, linear in its pixels at its
 * format's rate. Above the largest variant the outputs stop growing, and so does most of the cost.
 */
export function renderCpuMs(variants: readonly VariantSpec[], size: Size): Partial<Record<WorkLane, number>> {
  const derivatives = plannedDerivatives(variants, size);
  const lanes = WORK_LANES.filter((lane) => variants.some((variant) => laneOf(variant) === lane));
  return Object.fromEntries(
    lanes.map((lane) => [
      lane,
      INPUT_MS_PER_MEGAPIXEL * (area(size) / 1e6) +
        derivatives
          .filter((derivative) => derivative.lane === lane)
          .reduce((sum, d) => sum + area(d) * ENCODE_MS_PER_PIXEL[d.format], 0),
    ]),
  );
}

/** Wall time of `cpuMs` at this memory: CPU-bound work slows below a whole vCPU and gains nothing above. */
function wallMs(cpuMs: number, memoryMb: number): number {
  return cpuMs / Math.min(1, memoryMb / ASSUMED.mbPerVcpu);
}

const gbSeconds = (ms: number, memoryMb: number) => (ms / 1000) * (memoryMb / 1024);

/** The view's bytes when none is given: each variant as likely, in the first format the CDN would pick. */
function defaultBytesPerView(derivatives: readonly PlannedDerivative[]): number {
  const served = new Map<string, PlannedDerivative>();
  for (const format of OUTPUT_FORMAT_NAMES) {
    for (const derivative of derivatives) {
      if (derivative.format === format && !served.has(derivative.variant))
        served.set(derivative.variant, derivative);
    }
  }
  const sizes = [...served.values()].map((derivative) => derivative.bytes);
  return sizes.length === 0 ? 0 : sizes.reduce((sum, bytes) => sum + bytes, 0) / sizes.length;
}

/** Estimates what `workload` costs on `deployment` at `prices`. Every line is proportional to `images`. */
export function estimateCost(
  workload: Workload,
  deployment: Deployment,
  prices: PriceTable = PRICES,
): CostEstimate {
  const { images, megapixels, viewsPerImagePerMonth: views, months } = workload;
  if (!(images >= 0 && megapixels > 0 && views >= 0 && months >= 0)) {
    throw new RangeError('a workload needs images, views and months of 0 or more, and megapixels over 0');
  }
  const { variants } = deployment.settings;
  const memory = deployment.memoryMb;
  const size = originalSize(megapixels);
  const originalBytes = workload.originalBytes ?? Math.round(megapixels * ORIGINAL_BYTES_PER_MEGAPIXEL);
  const derivatives = plannedDerivatives(variants, size);
  const derivativeBytes = derivatives.reduce((sum, derivative) => sum + derivative.bytes, 0);
  const bytesPerView = workload.bytesPerView ?? defaultBytesPerView(derivatives);
  const renderCpu = renderCpuMs(variants, size);
  const lanes = WORK_LANES.filter((lane) => renderCpu[lane] !== undefined);
  const jobs = lanes.length;
  const ingestCpuMs = INPUT_MS_PER_MEGAPIXEL * megapixels;

  const lambdaMs: Record<string, { ms: number; memoryMb: number }> = {
    api: { ms: ASSUMED.apiRequestsPerImage * ASSUMED.apiRequestMs, memoryMb: memory.api },
    ingest: { ms: wallMs(ingestCpuMs, memory.ingest) + ASSUMED.ingestWaitMs, memoryMb: memory.ingest },
    ...Object.fromEntries(
      lanes.map((lane) => [
        lane,
        {
          ms: wallMs(renderCpu[lane] ?? 0, memory[lane]) + ASSUMED.renderJobWaitMs,
          memoryMb: memory[lane],
        },
      ]),
    ),
  };
  const invocations = ASSUMED.apiRequestsPerImage + 1 + jobs;

  const line = (price: keyof PriceTable, item: string, quantity: number): LineItem => {
    const { service, usd, per, unit } = prices[price];
    return { service, item, quantity, unit, unitPrice: usd, per, cost: (quantity / per) * usd };
  };
  const section = (title: string, period: CostSection['period'], items: LineItem[]): CostSection => ({
    title,
    period,
    items,
    total: items.reduce((sum, item) => sum + item.cost, 0),
  });

  // The catalog's writes for one new image: the upload's record (API); ingest's transaction of four
  // items (image, link, holder, upload decided: 2 WRU each) and its mark that the jobs are queued; one
  // conditional update per render job; the update to `ready`. Reads are strongly consistent: the
  // API's duplicate check and status read (upload and image), ingest's upload and image, one per job.
  const writeUnits = 1 + 4 * 2 + 1 + jobs + 1;
  const readUnits = 3 + 2 + jobs;
  const logBytes =
    invocations * ASSUMED.logBytesPerInvocation + ASSUMED.apiRequestsPerImage * ASSUMED.logBytesPerApiRequest;

  const ingest = section('Ingest and render', 'once', [
    line('apiRequests', 'HTTP API requests', images * ASSUMED.apiRequestsPerImage),
    line('lambdaRequests', 'Lambda requests', images * invocations),
    ...Object.entries(lambdaMs).map(([name, { ms, memoryMb }]) =>
      line(
        'lambdaCompute',
        `Lambda compute: ${name === 'api' || name === 'ingest' ? name : `render ${name}`} (${memoryMb} MB)`,
        images * gbSeconds(ms, memoryMb),
      ),
    ),
    line('s3Writes', 'S3 PUT/COPY: upload, original, derivatives', images * (2 + derivatives.length)),
    line('s3Reads', 'S3 GET: upload, original per job', images * (1 + jobs)),
    line('sqsRequests', 'SQS requests: send, receive, delete per job', images * jobs * 3),
    line('dynamoWrites', 'DynamoDB writes', images * writeUnits),
    line('dynamoReads', 'DynamoDB reads', images * readUnits),
    line('logsIngestion', 'CloudWatch Logs ingested', (images * logBytes) / GB),
  ]);

  const catalogBytes = ASSUMED.imageItemBytes + ASSUMED.linkItemBytes + ASSUMED.holderItemBytes;
  const catalogGb = (images * (catalogBytes + 3 * ASSUMED.itemOverheadBytes)) / GB;
  const reprocessRuns = deployment.reprocessRunsPerHour * HOURS_PER_MONTH;
  const scannedMb = (images * catalogBytes) / 1e6;
  const storage = section('Storage', 'month', [
    line('s3Storage', 'S3 Standard: originals', (images * originalBytes) / GB),
    line('s3Storage', 'S3 Standard: derivatives', (images * derivativeBytes) / GB),
    line('dynamoStorage', 'DynamoDB storage: image records, links, holders', catalogGb),
    line('dynamoBackup', 'DynamoDB point-in-time recovery', catalogGb),
    line(
      'dynamoReads',
      `DynamoDB reads: reprocess scans (${count(reprocessRuns)} a month)`,
      (reprocessRuns * images * catalogBytes) / 4096,
    ),
    line(
      'lambdaCompute',
      `Lambda compute: reprocess (${memory.reprocess} MB)`,
      reprocessRuns * gbSeconds(scannedMb * ASSUMED.reprocessScanMsPerMb, memory.reprocess),
    ),
  ]);

  const viewCount = images * views;
  const delivery = section('Delivery', 'month', [
    line('cloudFrontTransfer', 'CloudFront transfer out', (viewCount * bytesPerView) / GB),
    line('cloudFrontRequests', 'CloudFront HTTPS requests', viewCount),
    line('cloudFrontFunctions', 'CloudFront Function (format by Accept)', viewCount),
    line('s3Reads', 'S3 GET: cache misses', viewCount * (1 - ASSUMED.cdnHitRatio)),
  ]);

  const perMonth = storage.total + delivery.total;
  const totals = { once: ingest.total, perMonth, overMonths: ingest.total + months * perMonth };
  const perMillion = (usd: number) => (images === 0 ? 0 : (usd * 1e6) / images);

  return {
    workload: { images, megapixels, originalBytes, viewsPerImagePerMonth: views, bytesPerView, months },
    perImage: {
      original: { ...size, bytes: originalBytes },
      derivatives,
      derivativeBytes,
      renderCpuMs: renderCpu,
      ingestCpuMs,
      lambdaSeconds: Object.fromEntries(Object.entries(lambdaMs).map(([name, { ms }]) => [name, ms / 1000])),
    },
    sections: { ingest, storage, delivery },
    totals,
    perMillionImages: {
      once: perMillion(totals.once),
      perMonth: perMillion(totals.perMonth),
      overMonths: perMillion(totals.overMonths),
      storagePerMonth: perMillion(storage.total),
      deliveryPerMonth: perMillion(delivery.total),
    },
    prices: { region: PRICES_REGION, takenOn: PRICES_TAKEN_ON },
    assumptions: assumptions(size, originalBytes, bytesPerView, workload, renderCpu),
    excluded: EXCLUDED,
  };
}

const count = (value: number) => new Intl.NumberFormat('en-US').format(Math.round(value));

/** Bytes as an estimate reads them, in decimal units with three significant digits: `461 kB`, `4.17 MB`. */
export function decimalBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${Number(value.toPrecision(3))} ${units[unit]}`;
}
const kb = decimalBytes;

function assumptions(
  size: Size,
  originalBytes: number,
  bytesPerView: number,
  workload: Workload,
  renderCpu: Partial<Record<WorkLane, number>>,
): string[] {
  const lanes = Object.entries(renderCpu)
    .map(([lane, ms]) => `${lane} ${count(ms ?? 0)} ms`)
    .join(', ');
  return [
    `Prices: ${PRICES_REGION} on-demand list prices of ${PRICES_TAKEN_ON}, arm64 Lambda, no free tier; check them against aws.amazon.com/pricing.`,
    `Every image is new (a duplicate costs its upload and ingest, no render or storage), ${size.width}×${size.height} (4:3).`,
    workload.originalBytes === undefined
      ? `Originals ${kb(originalBytes)}: ${kb(ORIGINAL_BYTES_PER_MEGAPIXEL)} per megapixel, as the bench's generated JPEGs at q90.`
      : `Originals ${kb(originalBytes)}, as given.`,
    `Render CPU per image: ${lanes}; calibrated on the bench of ${BENCH.date} (${count(BENCH.renderCpuMs)} ms for the default set at 12 MP): decode linear in input pixels (${INPUT_MS_PER_MEGAPIXEL.toFixed(1)} ms per megapixel, the ingest bench's rate), encodes linear in output pixels, AVIF ${Math.round(ENCODE_SHARE.avif * 100)}% of the encoding work.`,
    `Lambda bills wall time: CPU time divided by the memory's share of a vCPU (a whole one at ${count(ASSUMED.mbPerVcpu)} MB, so at 2 GB wall ≈ CPU, no gain from the extra share), plus waiting on S3, DynamoDB and SQS: ${ASSUMED.ingestWaitMs} ms per ingest, ${ASSUMED.renderJobWaitMs} ms per render job, ${ASSUMED.apiRequestMs} ms per API request (estimates, not measured).`,
    `One Lambda invocation per render job (thumbnail batches fill only under a backlog); SQS: send, receive and delete per job.`,
    `${ASSUMED.apiRequestsPerImage} API requests per image (POST /v1/uploads with the sha256, one status GET).`,
    `Derivative sizes from the bench's bytes per output pixel of each format; the bench's images are generated and smoother than camera photos, whose derivatives come out larger (docs/cost.md).`,
    workload.bytesPerView === undefined
      ? `A view is one variant, each as likely, in the format the CDN prefers (AVIF, then WebP, then JPEG): ${kb(bytesPerView)}.`
      : `A view is ${kb(bytesPerView)}, as given.`,
    `CloudFront answers ${Math.round(ASSUMED.cdnHitRatio * 100)}% of views from its caches; the rest are S3 GETs.`,
    `Catalog: ${kb(ASSUMED.imageItemBytes)} image record, ${kb(ASSUMED.linkItemBytes)} link and ${kb(ASSUMED.holderItemBytes)} holder per image (each at most 1 KB: 1 WRU a write, 2 in a transaction), read whole by the hourly reprocess's consistent scan (${ASSUMED.reprocessScanMsPerMb} ms of Lambda per MB).`,
    `Logs: ${kb(ASSUMED.logBytesPerInvocation)} per invocation, ${kb(ASSUMED.logBytesPerApiRequest)} per API access log line.`,
  ];
}

const EXCLUDED = [
  'Free tiers; volume tiers (S3 past 50 TB, CloudFront past 10 TB a month are cheaper).',
  'Fixed monthly costs that do not grow with images: alarms, the dashboard, the pollers’ empty SQS receives, the scheduled reprocess’s invocations.',
  'KMS: no keys to pay for: the buckets use SSE-S3, the queues SQS-managed keys, the table the AWS-managed key (whose few calls an hour DynamoDB caches). NAT gateways: none, the functions run outside a VPC.',
  'Transfer from S3 to CloudFront (free), into AWS (free), and the uploads bucket’s storage (objects live seconds).',
  'S3 and CloudFront access logs (about 0.5 KB per request, kept 30 days), log storage, X-Ray (off by default).',
  'On-demand renders (only for variants not rendered yet), reprocessing after a variant set changes, deletes.',
  'CPU the bench does not measure: the thumbnails job’s placeholder and camera facts, a watermark’s compositing.',
  'Upload records (kept 30 days after their decision) and a link’s copy in the collection index.',
];
