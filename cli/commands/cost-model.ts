import {
  ANNOUNCE_MEMORY_MB,
  API_MEMORY_MB,
  CATALOG_TABLE,
  ENRICHMENT_MEMORY_MB,
  INGEST_MEMORY_MB,
  RENDER_MEMORY_MB,
  RENDER_MIN_MEMORY_MB,
  REPROCESS_MEMORY_MB,
} from '../../lambdas/contract.js';
import type { EncoderSettings } from '../../lambdas/core/encoder-settings.js';
import { ANALYSIS_MAX_EDGE } from '../../lambdas/core/enrichment.js';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from '../../lambdas/core/formats.js';
import { area, place, planVariants, type Size } from '../../lambdas/core/render/geometry.js';
import { laneOf, WORK_LANES, type WorkLane } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';

/**
 * What a workload costs on AWS: ingest, render and enrichment once, storage and delivery every month,
 * search by the number of searches, line by line, from list prices and the bench's CPU times measured on camera photos. Pure: every input is explicit, and every
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
  /** Custom events put on a bus; each 64 KB of an entry counts as one (an image's event is some 3 KB). */
  eventBridgeEvents: { service: 'EventBridge', usd: 1, per: 1_000_000, unit: 'events' },
  logsIngestion: { service: 'CloudWatch', usd: 0.5, per: 1, unit: 'GB' },

  // The enrichment lane's services, as of ENRICHMENT_PRICES_TAKEN_ON, each with its source.
  /**
   * Rekognition Image's "Group 2" APIs (DetectLabels, DetectModerationLabels and others), first tier:
   * the first million images a month (then $0.0008, $0.0006, $0.00025 an image). Each API called on
   * an image bills it once. Source: https://aws.amazon.com/rekognition/pricing/
   */
  rekognitionLabels: { service: 'Rekognition', usd: 1, per: 1000, unit: 'images' },
  rekognitionModeration: { service: 'Rekognition', usd: 1, per: 1000, unit: 'images' },
  /** Bedrock on demand, Amazon Nova Lite (`amazon.nova-lite-v1:0`). Source: https://aws.amazon.com/bedrock/pricing/ */
  novaLiteInput: { service: 'Bedrock', usd: 0.00006, per: 1000, unit: 'input tokens' },
  novaLiteOutput: { service: 'Bedrock', usd: 0.00024, per: 1000, unit: 'output tokens' },
  /**
   * Bedrock on demand, Titan Multimodal Embeddings G1 (`amazon.titan-embed-image-v1`): an image, or
   * text by its tokens (a search's query). Source: https://aws.amazon.com/bedrock/pricing/
   */
  titanImageEmbeddings: { service: 'Bedrock', usd: 0.06, per: 1000, unit: 'images' },
  titanTextEmbeddings: { service: 'Bedrock', usd: 0.0008, per: 1000, unit: 'input tokens' },
  /**
   * S3 Vectors, billed by a vector's logical bytes: 4 per dimension, its key and its metadata.
   * Source: https://aws.amazon.com/s3/pricing/ (Vectors); its worked examples, and the rates below,
   * are unchanged since the preview of July 2025.
   */
  s3VectorsStorage: { service: 'S3 Vectors', usd: 0.06, per: 1, unit: 'GB-month' },
  /** PUT, by the logical bytes uploaded. */
  s3VectorsPuts: { service: 'S3 Vectors', usd: 0.2, per: 1, unit: 'GB' },
  s3VectorsQueries: { service: 'S3 Vectors', usd: 2.5, per: 1_000_000, unit: 'requests' },
  /**
   * Data a query processes: every vector of the index queried (a filter does not narrow it) times its
   * bytes (data, key, filterable metadata), at this rate for the index's first 100,000 vectors
   * (`S3_VECTORS_FIRST_TIER`) and the next rate above. A cut of up to 80% for indexes of more than 10
   * million vectors (announced 2026-06-16) is not in the model: its rate was not found.
   */
  s3VectorsQueryDataFirst: { service: 'S3 Vectors', usd: 0.004, per: 1, unit: 'TB' },
  s3VectorsQueryData: { service: 'S3 Vectors', usd: 0.002, per: 1, unit: 'TB' },
} as const satisfies Record<string, Price>;

export type PriceTable = Readonly<Record<keyof typeof PRICES, Price>>;

export const PRICES_TAKEN_ON = '2026-11-23';
/** When the enrichment lane's prices (Rekognition, Bedrock, S3 Vectors) were taken. */
export const ENRICHMENT_PRICES_TAKEN_ON = '2026-12-06';
export const PRICES_REGION = 'us-east-1';

/** Vectors of an index that a query's data is billed for at `s3VectorsQueryDataFirst`. */
export const S3_VECTORS_FIRST_TIER = 100_000;

/** AWS bills storage and transfer in binary gigabytes, and S3 Vectors' query data in binary TB. */
const GB = 1024 ** 3;
const TB = 1024 ** 4;
/** AWS's month for monthly prices: 730 hours. */
export const HOURS_PER_MONTH = 730;

// ---------------------------------------------------------------------------------------------------
// Measured inputs

/** One camera photo's render figures, as `test/bench/render-photos.ts` prints them (`PhotoFigures`). */
export interface PhotoRenderFigures {
  image: string;
  /** Upright, as rendered. */
  width: number;
  height: number;
  bytes: number;
  /** Each lane's job (`cpuMs`), and the same job with nothing to encode (`decodeCpuMs`), CPU ms. */
  lanes: Readonly<Record<WorkLane, { cpuMs: number; decodeCpuMs: number }>>;
  /** The variants lane's encodes of each format alone, CPU ms. */
  variantsEncodeCpuMs: Readonly<Record<OutputFormat, number>>;
  /** The default set's derivatives, both lanes, summed by format. */
  derivativeBytes: Readonly<Record<OutputFormat, number>>;
}

/**
 * The render figures the model is calibrated on: `node --import tsx test/bench/render-photos.ts`
 * (its `RenderPhotosResult`, fields copied by hand), the corpus's camera JPEGs rendered by
 * `renderVariants` as each lane's job, at one libvips thread, least CPU of `runs` runs, on a shared
 * 2 vCPU AMD EPYC (Node 20.20, sharp 0.35.5). Rates per megapixel come from these (see below), so
 * photos of other sizes scale.
 *
 * Encoder settings: `encoders`, those Aperture ran before ADR 10 (`BASELINE_ENCODERS`: AVIF effort 4
 * at 4:4:4 chroma, WebP effort 4, every mozjpeg tool, progressive), at the default set's qualities
 * (AVIF 50, WebP 80, JPEG 80). test/unit/cost-model.test.ts holds them equal to
 * `PRODUCTION_ENCODERS`: when production's change, rerun the script and replace `date`, `encoders`
 * and each photo's `lanes`, `variantsEncodeCpuMs` and `derivativeBytes`, numbers only.
 */
export const PHOTO_BENCH = {
  script: 'test/bench/render-photos.ts',
  date: '2026-12-06',
  encoders: {
    avif: { effort: 4, chromaSubsampling: '4:4:4' },
    webp: { effort: 4, smartSubsample: false },
    jpeg: {
      trellisQuantisation: true,
      overshootDeringing: true,
      optimiseScans: true,
      quantisationTable: 3,
      progressive: true,
    },
  },
  runs: 1,
  photos: [
    {
      image: 'ianare__42_IndexError.jpg',
      width: 4032,
      height: 3024,
      bytes: 2_913_134,
      lanes: {
        thumbnails: { cpuMs: 507, decodeCpuMs: 88 },
        variants: { cpuMs: 12_845, decodeCpuMs: 121 },
      },
      variantsEncodeCpuMs: { avif: 12_096, webp: 476, jpeg: 343 },
      derivativeBytes: { avif: 232_082, webp: 441_100, jpeg: 546_319 },
    },
    {
      image: 'immich__book-beside-flowers.jpg',
      width: 3024,
      height: 4032,
      bytes: 1_581_031,
      lanes: {
        thumbnails: { cpuMs: 594, decodeCpuMs: 114 },
        variants: { cpuMs: 12_278, decodeCpuMs: 321 },
      },
      variantsEncodeCpuMs: { avif: 11_569, webp: 471, jpeg: 411 },
      derivativeBytes: { avif: 311_124, webp: 657_930, jpeg: 649_009 },
    },
    {
      image: 'immich__craft-beer.jpg',
      width: 6000,
      height: 4000,
      bytes: 1_697_684,
      lanes: {
        thumbnails: { cpuMs: 788, decodeCpuMs: 368 },
        variants: { cpuMs: 11_478, decodeCpuMs: 338 },
      },
      variantsEncodeCpuMs: { avif: 10_886, webp: 407, jpeg: 562 },
      derivativeBytes: { avif: 190_902, webp: 355_774, jpeg: 468_133 },
    },
  ],
} as const satisfies { encoders: EncoderSettings; photos: readonly PhotoRenderFigures[] } & Record<
  string,
  unknown
>;

/**
 * Ingest's CPU on the same photos: `npm run bench -- --only ingest`, section `ingest`, field
 * `ingest.cpu.medianMs` of each photo's row (stream and hash, sniff, probe and trial decode), run of
 * 2026-12-06 (test/bench/results.json). Independent of the encoder settings.
 */
export const INGEST_BENCH = {
  section: 'ingest',
  date: '2026-12-06',
  photos: [
    { image: 'ianare__42_IndexError.jpg', megapixels: 12.2, cpuMs: 39.9 },
    { image: 'immich__book-beside-flowers.jpg', megapixels: 12.2, cpuMs: 105.3 },
    { image: 'immich__craft-beer.jpg', megapixels: 24, cpuMs: 184.2 },
  ],
} as const;

// ---------------------------------------------------------------------------------------------------
// Assumed inputs (estimates, not measured; each is listed in an estimate's `assumptions`)

export const ASSUMED = {
  /** Originals are 4:3, as most cameras' (and two of the bench's three photos). */
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
  /**
   * An image's entry in the upkeep index, keys only: its `pk` (`IMAGE#` and 64 hex), `sk` and
   * `upkeepKey` (the upkeep version and shard, ~20 bytes), their names, and DynamoDB's 100 bytes per
   * index item.
   */
  upkeepIndexItemBytes: 200,
  /** Log bytes per function invocation: Lambda's START/END/REPORT, one Powertools line, one EMF line. */
  logBytesPerInvocation: 1500,
  /**
   * Invocations of the announce function per image: some six changes of an image's records pass its
   * filter (the upload recorded and decided, the image created, its jobs queued, each lane's result),
   * which the stream hands over in batches of up to 50 within a second; a quiet pipeline sees them
   * nearly one by one, a busy one many images to a batch. An estimate, not a measurement.
   */
  announceInvocationsPerImage: 3,
  /** Wall time of one announce invocation: a few catalog reads, a ledger claim and mark, one PutEvents. */
  announceInvocationMs: 60,
  /** Events per owner link of a new image: `image.ingested`, then `image.ready`. */
  eventsPerLink: 2,
  /** Log bytes per API access log line. */
  logBytesPerApiRequest: 300,
  /** Share of views CloudFront answers from its caches; the rest are S3 GETs (transfer to CloudFront is free). */
  cdnHitRatio: 0.9,

  // Enrichment, near-duplicates and search

  /**
   * The enrichment function's wait per image on S3 and DynamoDB: read the analysis JPEG, the record
   * and its holders, write the record and the owners' entries.
   */
  enrichmentWaitMs: 300,
  /**
   * The wait on each model, called one after another (the captioner is handed the tags): the usual
   * latency of each service for one 1024 px JPEG, not measured here.
   */
  modelWaitMs: { tags: 700, moderation: 500, caption: 1500, embedding: 400 },
  /**
   * Nova's input tokens for one analysis image. Nova rescales an image to its nearest listed aspect
   * ratio with a side of at least 896 px: a 1024×768 JPEG becomes about 1344×896, close to its guide's
   * example of 1400×900 at ~1,800 tokens
   * (https://docs.aws.amazon.com/nova/latest/userguide/modalities-image.html, as of 2026-12-06).
   */
  captionImageTokens: 1800,
  /** The caption request's text: the instruction and the tags it is handed. */
  captionPromptTokens: 150,
  /** The answer: one sentence. */
  captionOutputTokens: 40,
  /** What the image record gains: 20 tags, a caption, 5 colours, the embedding's model, status, version. */
  enrichmentBytes: 1200,
  /** One per-owner entry as stored: the key-only item `INDEX#{owner}#{term}` / `{sha256}`. */
  indexEntryBytes: 180,
  /**
   * An image's search words, besides its tags: each tag's own words (`q` matches tags too), and the
   * caption's words that no tag already gives (stop words dropped).
   */
  searchWordsPerTag: 1,
  captionWordsBeyondTags: 6,
  /** Dominant colours covering enough of an image to be searched by (`MIN_SEARCHABLE_COLOUR_SHARE`). */
  searchableColours: 2,
  /** Bands of the near-duplicate fingerprint, one entry each per link. */
  nearDuplicateBands: 4,
  /** A vector's key (owner and image) and its filterable metadata (`owner`, `imageId`), in bytes. */
  vectorKeyBytes: 120,
  vectorMetadataBytes: 140,
  /** A search: one index query per term asked for, then a page of results, each checked against the caller's link and read. */
  searchTerms: 2,
  searchResults: 20,
  /** Tokens of a search's text, embedded to query the vectors. */
  searchTextTokens: 10,
  /** Wall time of a search in the API function: its queries and reads, and the text's embedding and vector query when semantic. */
  searchRequestMs: 300,
} as const;

/** Sums `of` over the bench's photos. */
const overPhotos = (of: (photo: PhotoRenderFigures) => number): number =>
  PHOTO_BENCH.photos.reduce((sum, photo) => sum + of(photo), 0);

/** Output megapixels of each format and lane the default set gives a photo: what the workers render. */
function outputMegapixels(size: Size, lanes: readonly WorkLane[] = WORK_LANES): Record<OutputFormat, number> {
  const pixels = { avif: 0, webp: 0, jpeg: 0 };
  for (const { variant, placement } of planVariants(DEFAULT_VARIANTS, size).planned) {
    if (!lanes.includes(laneOf(variant))) continue;
    for (const { format } of variant.formats) pixels[format] += area(placement.output) / 1e6;
  }
  return pixels;
}

/**
 * CPU ms per megapixel of the original that each lane's job spends before encoding (decode, resizes,
 * the thumbnail's crop and fingerprint), pooled over the photos. The thumbnails lane decodes JPEGs at
 * an eighth of their size, so its rate is the lower.
 */
export const DECODE_MS_PER_MEGAPIXEL: Readonly<Record<WorkLane, number>> = Object.fromEntries(
  WORK_LANES.map((lane) => [
    lane,
    overPhotos((photo) => photo.lanes[lane].decodeCpuMs) / overPhotos((photo) => area(photo) / 1e6),
  ]),
) as Record<WorkLane, number>;

/** CPU ms per output megapixel of each format: the variants lane's encodes of it over its pixels. */
export const ENCODE_MS_PER_MEGAPIXEL: Readonly<Record<OutputFormat, number>> = Object.fromEntries(
  OUTPUT_FORMAT_NAMES.map((format) => [
    format,
    overPhotos((photo) => photo.variantsEncodeCpuMs[format]) /
      overPhotos((photo) => outputMegapixels(photo, ['variants'])[format]),
  ]),
) as Record<OutputFormat, number>;

/**
 * Each lane's encodes measured against what `ENCODE_MS_PER_MEGAPIXEL` gives its outputs (the job less
 * its decode, pooled over the photos): small outputs cost more per pixel, each encode having a setup
 * of its own, so the thumbnails lane's is well over 1; the variants lane's is 1 give or take noise.
 */
export const LANE_ENCODE_FACTOR: Readonly<Record<WorkLane, number>> = Object.fromEntries(
  WORK_LANES.map((lane) => [
    lane,
    overPhotos((photo) => photo.lanes[lane].cpuMs - photo.lanes[lane].decodeCpuMs) /
      overPhotos((photo) => {
        const pixels = outputMegapixels(photo, [lane]);
        return OUTPUT_FORMAT_NAMES.reduce(
          (sum, format) => sum + pixels[format] * ENCODE_MS_PER_MEGAPIXEL[format],
          0,
        );
      }),
  ]),
) as Record<WorkLane, number>;

/** Bytes per output megapixel of each format, as the photos' derivatives came out. */
export const BYTES_PER_MEGAPIXEL: Readonly<Record<OutputFormat, number>> = Object.fromEntries(
  OUTPUT_FORMAT_NAMES.map((format) => [
    format,
    overPhotos((photo) => photo.derivativeBytes[format]) /
      overPhotos((photo) => outputMegapixels(photo)[format]),
  ]),
) as Record<OutputFormat, number>;

/** Bytes of an original per megapixel when none is given: the photos' own JPEGs. */
export const ORIGINAL_BYTES_PER_MEGAPIXEL =
  overPhotos((photo) => photo.bytes) / overPhotos((photo) => area(photo) / 1e6);

/** Ingest's CPU ms per megapixel of the upload, pooled over the photos. */
export const INGEST_MS_PER_MEGAPIXEL =
  INGEST_BENCH.photos.reduce((sum, photo) => sum + photo.cpuMs, 0) /
  INGEST_BENCH.photos.reduce((sum, photo) => sum + photo.megapixels, 0);

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
  /**
   * Owners who link each image (a shared image): each link is filed under its owner, with its own
   * search entries and vector. The further owners' own uploads are not counted. @default 1
   */
  linksPerImage?: number;
  /** Searches a month (`GET /v1/search`), over all the images: priced apart from the images. @default 0 */
  searchesPerMonth?: number;
}

/** The deployment the workload runs on: its settings, and what the construct gives its functions. */
export interface Deployment {
  settings: CostedSettings;
  memoryMb: { api: number; ingest: number; reprocess: number; enrichment: number } & Readonly<
    Record<WorkLane, number>
  >;
}

/** The settings that decide what is billed: the variants, and what is derived from every image. */
export type CostedSettings = Pick<Settings, 'variants' | 'nearDuplicates' | 'enrichment'>;

/** The deployment a cost estimate bills: these settings on the functions the construct makes. */
export function costedDeployment(settings: CostedSettings): Deployment {
  return {
    settings,
    memoryMb: {
      api: API_MEMORY_MB,
      ingest: INGEST_MEMORY_MB,
      reprocess: REPROCESS_MEMORY_MB,
      enrichment: ENRICHMENT_MEMORY_MB,
      ...RENDER_MEMORY_MB,
    },
  };
}

export type CostSectionName =
  | 'ingest'
  | 'enrichment'
  | 'storage'
  | 'enrichmentStorage'
  | 'delivery'
  | 'search';

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
  /** Estimated, from the bench photos' bytes per output megapixel of its format. */
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
    /** Each lane's job at each memory size, against issue 17's latency goals (set for 12 MP). */
    laneSizing: LaneSizing[];
    /** The JPEG the enrichment lane's models read, when it is enabled. */
    analysis?: Size & { bytes: number };
    /** Entries each link is filed under in its owner's lookups, by what files them. */
    indexEntriesPerLink: { enrichment: number; nearDuplicates: number };
    /** One vector's logical bytes in S3 Vectors, when embeddings are stored. */
    vectorBytes?: number;
  };
  sections: Record<CostSectionName, CostSection>;
  totals: {
    /** Ingest, render, enrichment and near-duplicates. */
    once: number;
    /** Storage, of the images and of what enrichment derives from them, and delivery. */
    perMonth: number;
    /** Once, then `months` of storage and delivery. */
    overMonths: number;
    /** Search, priced apart: by the number of searches, at a cost that grows with the vector index. */
    searchPerMonth: number;
  };
  /** The same, for a million images of this workload (every line but search's scales with the images). */
  perMillionImages: Omit<CostEstimate['totals'], 'searchPerMonth'> & {
    storagePerMonth: number;
    deliveryPerMonth: number;
    ingestOnce: number;
    enrichmentOnce: number;
    enrichmentStoragePerMonth: number;
  };
  prices: { region: string; takenOn: string; enrichmentTakenOn: string };
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
      bytes: Math.round((area(placement.output) / 1e6) * BYTES_PER_MEGAPIXEL[format]),
    })),
  );
}

/**
 * CPU ms of each lane's render job: the original's decode and resizes, linear in its pixels at the
 * lane's rate, then each output's encode, linear in its pixels at its format's rate (times the
 * lane's `LANE_ENCODE_FACTOR`). Above the
 * largest variant the outputs stop growing, and so does most of the cost.
 */
export function renderCpuMs(variants: readonly VariantSpec[], size: Size): Partial<Record<WorkLane, number>> {
  const derivatives = plannedDerivatives(variants, size);
  const lanes = WORK_LANES.filter((lane) => variants.some((variant) => laneOf(variant) === lane));
  return Object.fromEntries(
    lanes.map((lane) => [
      lane,
      DECODE_MS_PER_MEGAPIXEL[lane] * (area(size) / 1e6) +
        LANE_ENCODE_FACTOR[lane] *
          derivatives
            .filter((derivative) => derivative.lane === lane)
            .reduce((sum, d) => sum + (area(d) / 1e6) * ENCODE_MS_PER_MEGAPIXEL[d.format], 0),
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

// ---------------------------------------------------------------------------------------------------
// Lane sizing

/** Memory sizes the lane sizing weighs, MB: from half a vCPU's share to Lambda's largest without a quota raise. */
export const LANE_MEMORY_SIZES_MB = [512, 1024, 1536, 1769, 2048, 3008] as const;

/**
 * Issue 17's latency goals, p50 for a 12 MP photo, from the upload's landing: its first thumbnail,
 * and the image `ready` (every variant written).
 */
export const LATENCY_GOALS_MS = { firstThumbnail: 1000, ready: 5000 } as const;

/** One lane's job at one memory size. */
export interface LaneSize {
  memoryMb: number;
  /** Its billed time: the CPU at this memory's share of a vCPU, and the waits on S3 and DynamoDB. */
  jobMs: number;
  gbSeconds: number;
  /** Compute and the invocation, per 1,000 images. */
  usdPerThousand: number;
  /** From the upload's landing to this lane's outputs written: ingest at its size, then this job. */
  latencyMs: number;
  /** At or above the size every original up to the pixel limit decodes in (`RENDER_MIN_MEMORY_MB`). */
  holdsOriginals: boolean;
  meetsGoal: boolean;
}

export interface LaneSizing {
  lane: WorkLane;
  goal: keyof typeof LATENCY_GOALS_MS;
  cpuMs: number;
  sizes: LaneSize[];
  /**
   * The cheapest size that holds every original and meets the goal; when none meets it, the fastest,
   * the cheapest of equals (CPU-bound work gains nothing past one vCPU).
   */
  chosenMb: number;
}

/**
 * Each lane's job at each of `LANE_MEMORY_SIZES_MB`, and the size it should have. The thumbnails
 * lane answers for the first thumbnail, the variants lane for `ready` (the lanes run at once, and a
 * thumbnails job is the shorter). CPU-bound work runs at the memory's share of a vCPU, so below one
 * vCPU its GB-seconds hardly change with the size (only the waits grow with it), and above it they
 * only grow: the cheapest size meeting a goal is the smallest that meets it. The time queues and
 * S3's event take to deliver is left out.
 */
export function sizeLanes(
  renderCpu: Partial<Record<WorkLane, number>>,
  ingestMs: number,
  prices: PriceTable = PRICES,
): LaneSizing[] {
  const goals: Record<WorkLane, keyof typeof LATENCY_GOALS_MS> = {
    thumbnails: 'firstThumbnail',
    variants: 'ready',
  };
  return WORK_LANES.flatMap((lane) => {
    const cpuMs = renderCpu[lane];
    if (cpuMs === undefined) return [];
    const goal = goals[lane];
    const sizes = LANE_MEMORY_SIZES_MB.map((memoryMb): LaneSize => {
      const jobMs = wallMs(cpuMs, memoryMb) + ASSUMED.renderJobWaitMs;
      const gbs = gbSeconds(jobMs, memoryMb);
      const usd =
        (gbs / prices.lambdaCompute.per) * prices.lambdaCompute.usd +
        prices.lambdaRequests.usd / prices.lambdaRequests.per;
      const latencyMs = ingestMs + jobMs;
      return {
        memoryMb,
        jobMs,
        gbSeconds: gbs,
        usdPerThousand: usd * 1000,
        latencyMs,
        holdsOriginals: memoryMb >= RENDER_MIN_MEMORY_MB,
        meetsGoal: latencyMs < LATENCY_GOALS_MS[goal],
      };
    });
    const eligible = sizes.filter((size) => size.holdsOriginals);
    const meeting = eligible.filter((size) => size.meetsGoal);
    const [chosen] = [...(meeting.length > 0 ? meeting : eligible)].sort(
      (a, b) => (meeting.length > 0 ? 0 : a.latencyMs - b.latencyMs) || a.usdPerThousand - b.usdPerThousand,
    );
    return [{ lane, goal, cpuMs, sizes, chosenMb: chosen?.memoryMb ?? RENDER_MIN_MEMORY_MB }];
  });
}

/** Estimates what `workload` costs on `deployment` at `prices`. Every line but search's is proportional to `images`. */
export function estimateCost(
  workload: Workload,
  deployment: Deployment,
  prices: PriceTable = PRICES,
): CostEstimate {
  const { images, megapixels, viewsPerImagePerMonth: views, months } = workload;
  const links = workload.linksPerImage ?? 1;
  const searches = workload.searchesPerMonth ?? 0;
  if (!(images >= 0 && megapixels > 0 && views >= 0 && months >= 0 && links >= 1 && searches >= 0)) {
    throw new RangeError(
      'a workload needs images, views, months and searches of 0 or more, megapixels over 0 and a link or more per image',
    );
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
  const ingestCpuMs = INGEST_MS_PER_MEGAPIXEL * megapixels;
  const lane = enrichmentLane(deployment.settings, size);

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
    announce: {
      ms: ASSUMED.announceInvocationsPerImage * ASSUMED.announceInvocationMs,
      memoryMb: ANNOUNCE_MEMORY_MB,
    },
  };
  const invocations = ASSUMED.apiRequestsPerImage + 1 + jobs + ASSUMED.announceInvocationsPerImage;

  const line: Line = (price, item, quantity) => {
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
  // The upkeep index (ADR 12): the entry ingest's put makes (unsettled), then the write that files
  // the settled image, on the record (its size then: enriched, with the lane on) and in the index,
  // where a changed key is a delete and a put.
  const upkeepWriteUnits = 1 + (lane.enabled ? lane.recordWriteUnits : 1) + 2;
  const events = links * ASSUMED.eventsPerLink;
  const readUnits = 3 + 2 + jobs;
  const logBytes =
    invocations * ASSUMED.logBytesPerInvocation + ASSUMED.apiRequestsPerImage * ASSUMED.logBytesPerApiRequest;

  const ingest = section('Ingest and render', 'once', [
    line('apiRequests', 'HTTP API requests', images * ASSUMED.apiRequestsPerImage),
    line('lambdaRequests', 'Lambda requests', images * invocations),
    ...Object.entries(lambdaMs).map(([name, { ms, memoryMb }]) =>
      line(
        'lambdaCompute',
        `Lambda compute: ${(WORK_LANES as readonly string[]).includes(name) ? `render ${name}` : name} (${memoryMb} MB)`,
        images * gbSeconds(ms, memoryMb),
      ),
    ),
    line('s3Writes', 'S3 PUT/COPY: upload, original, derivatives', images * (2 + derivatives.length)),
    line('s3Reads', 'S3 GET: upload, original per job', images * (1 + jobs)),
    line('sqsRequests', 'SQS requests: send, receive, delete per job', images * jobs * 3),
    line('dynamoWrites', 'DynamoDB writes', images * writeUnits),
    line('dynamoWrites', 'DynamoDB writes: upkeep index, filed as settled', images * upkeepWriteUnits),
    line('dynamoReads', 'DynamoDB reads', images * readUnits),
    // The events (ADR 11): each put on the bus once, claimed and marked in the ledger; the announce
    // function reads an accepted upload's image and link, and a settled image's holders.
    line('eventBridgeEvents', 'EventBridge events: ingested and ready per link', images * events),
    line('dynamoWrites', 'DynamoDB writes: event ledger (claim, published)', images * events * 2),
    line('dynamoReads', 'DynamoDB reads: building the events', images * (2 * links + 1)),
    line('logsIngestion', 'CloudWatch Logs ingested', (images * logBytes) / GB),
  ]);

  const entries = lane.entriesPerLink.enrichment + lane.entriesPerLink.nearDuplicates;
  const enrichment = section(lane.title, 'once', enrichmentLines(line, lane, deployment, images, links));

  const catalogBytes = ASSUMED.imageItemBytes + links * (ASSUMED.linkItemBytes + ASSUMED.holderItemBytes);
  const catalogGb = (images * (catalogBytes + (1 + 2 * links) * ASSUMED.itemOverheadBytes)) / GB;
  const storage = section('Storage', 'month', [
    line('s3Storage', 'S3 Standard: originals', (images * originalBytes) / GB),
    line('s3Storage', 'S3 Standard: derivatives', (images * derivativeBytes) / GB),
    line('dynamoStorage', 'DynamoDB storage: image records, links, holders', catalogGb),
    line('dynamoBackup', 'DynamoDB point-in-time recovery', catalogGb),
    line(
      'dynamoStorage',
      'DynamoDB storage: upkeep index (keys only)',
      (images * ASSUMED.upkeepIndexItemBytes) / GB,
    ),
  ]);

  // What enrichment and near-duplicates add to the table: the entries, and the record's new attributes.
  const entryBytes = links * entries * ASSUMED.indexEntryBytes + (lane.enabled ? ASSUMED.enrichmentBytes : 0);
  const entriesGb = (images * (entryBytes + links * entries * ASSUMED.itemOverheadBytes)) / GB;
  const enrichmentStorage = section(`Storage of ${lowerFirst(lane.title)}`, 'month', [
    ...(lane.enabled
      ? [line('s3Storage', 'S3 Standard: analysis JPEGs', (images * lane.analysis.bytes) / GB)]
      : []),
    ...(lane.semantic
      ? [line('s3VectorsStorage', 'S3 Vectors: the vectors', (images * links * lane.vectorBytes) / GB)]
      : []),
    ...(entryBytes > 0
      ? [
          line(
            'dynamoStorage',
            `DynamoDB storage: entries${lane.enabled ? ', the record’s enrichment' : ''}`,
            entriesGb,
          ),
          line('dynamoBackup', 'DynamoDB point-in-time recovery', entriesGb),
        ]
      : []),
  ]);

  const viewCount = images * views;
  const delivery = section('Delivery', 'month', [
    line('cloudFrontTransfer', 'CloudFront transfer out', (viewCount * bytesPerView) / GB),
    line('cloudFrontRequests', 'CloudFront HTTPS requests', viewCount),
    line('cloudFrontFunctions', 'CloudFront Function (format by Accept)', viewCount),
    line('s3Reads', 'S3 GET: cache misses', viewCount * (1 - ASSUMED.cdnHitRatio)),
  ]);

  const search = section('Search', 'month', searchLines(line, lane, images * links, searches, memory.api));

  const once = ingest.total + enrichment.total;
  const perMonth = storage.total + enrichmentStorage.total + delivery.total;
  const totals = { once, perMonth, overMonths: once + months * perMonth, searchPerMonth: search.total };
  const perMillion = (usd: number) => (images === 0 ? 0 : (usd * 1e6) / images);

  return {
    workload: {
      images,
      megapixels,
      originalBytes,
      viewsPerImagePerMonth: views,
      bytesPerView,
      months,
      linksPerImage: links,
      searchesPerMonth: searches,
    },
    perImage: {
      original: { ...size, bytes: originalBytes },
      derivatives,
      derivativeBytes,
      renderCpuMs: renderCpu,
      ingestCpuMs,
      lambdaSeconds: Object.fromEntries([
        ...Object.entries(lambdaMs).map(([name, { ms }]) => [name, ms / 1000]),
        ...(lane.enabled ? [['enrichment', lane.functionMs / 1000]] : []),
      ]),
      laneSizing: sizeLanes(renderCpu, lambdaMs.ingest?.ms ?? 0, prices),
      ...(lane.enabled ? { analysis: lane.analysis } : {}),
      indexEntriesPerLink: lane.entriesPerLink,
      ...(lane.semantic ? { vectorBytes: lane.vectorBytes } : {}),
    },
    sections: { ingest, enrichment, storage, enrichmentStorage, delivery, search },
    totals,
    perMillionImages: {
      once: perMillion(once),
      perMonth: perMillion(perMonth),
      overMonths: perMillion(totals.overMonths),
      storagePerMonth: perMillion(storage.total),
      deliveryPerMonth: perMillion(delivery.total),
      ingestOnce: perMillion(ingest.total),
      enrichmentOnce: perMillion(enrichment.total),
      enrichmentStoragePerMonth: perMillion(enrichmentStorage.total),
    },
    prices: {
      region: PRICES_REGION,
      takenOn: PRICES_TAKEN_ON,
      enrichmentTakenOn: ENRICHMENT_PRICES_TAKEN_ON,
    },
    assumptions: assumptions(
      size,
      originalBytes,
      bytesPerView,
      workload,
      renderCpu,
      deployment.settings,
      lane,
    ),
    excluded: EXCLUDED,
  };
}

/** A line of `quantity` units at one of the table's prices. */
type Line = (price: keyof PriceTable, item: string, quantity: number) => LineItem;

/** The enrichment lane's and near-duplicates' work on each new image, as the settings have it. */
function enrichmentLines(
  line: Line,
  lane: EnrichmentLane,
  { settings, memoryMb: memory }: Deployment,
  images: number,
  links: number,
): LineItem[] {
  const enrich = settings.enrichment;
  return [
    ...(lane.enabled
      ? [
          line('rekognitionLabels', 'Rekognition DetectLabels: tags', images),
          ...(enrich.moderation.enabled
            ? [line('rekognitionModeration', 'Rekognition DetectModerationLabels: moderation', images)]
            : []),
          ...(enrich.captions.enabled
            ? [
                line(
                  'novaLiteInput',
                  'Bedrock Nova Lite: caption, the image and prompt',
                  images * (ASSUMED.captionImageTokens + ASSUMED.captionPromptTokens),
                ),
                line(
                  'novaLiteOutput',
                  'Bedrock Nova Lite: caption, its sentence',
                  images * ASSUMED.captionOutputTokens,
                ),
              ]
            : []),
          ...(lane.semantic
            ? [
                line('titanImageEmbeddings', 'Bedrock Titan Multimodal Embeddings: image', images),
                line(
                  's3VectorsPuts',
                  `S3 Vectors PUT: a ${enrich.embeddings.dimensions}-d vector per link`,
                  (images * links * lane.vectorBytes) / GB,
                ),
              ]
            : []),
          line(
            'lambdaCompute',
            `Lambda compute: render thumbnails, the analysis JPEG (${memory.thumbnails} MB)`,
            images * gbSeconds(wallMs(lane.analysisCpuMs, memory.thumbnails), memory.thumbnails),
          ),
          line('s3Writes', 'S3 PUT: the analysis JPEG', images),
          line('s3Reads', 'S3 GET: the analysis JPEG', images),
          line('sqsRequests', 'SQS requests: send, receive, delete', images * 3),
          line('lambdaRequests', 'Lambda requests: enrichment', images),
          line(
            'lambdaCompute',
            `Lambda compute: enrichment (${memory.enrichment} MB)`,
            images * gbSeconds(lane.functionMs, memory.enrichment),
          ),
          line('dynamoWrites', 'DynamoDB writes: the enriched record', images * lane.recordWriteUnits),
          line(
            'dynamoWrites',
            `DynamoDB writes: search entries (${lane.entriesPerLink.enrichment} per link)`,
            images * links * lane.entriesPerLink.enrichment,
          ),
          line('dynamoReads', 'DynamoDB reads: the record and its holders', images * 2),
          line('logsIngestion', 'CloudWatch Logs ingested', (images * ASSUMED.logBytesPerInvocation) / GB),
        ]
      : []),
    ...(lane.nearDuplicates
      ? [
          line(
            'dynamoWrites',
            `DynamoDB writes: near-duplicate entries (${lane.entriesPerLink.nearDuplicates} per link)`,
            images * links * lane.entriesPerLink.nearDuplicates,
          ),
          line(
            'dynamoReads',
            "DynamoDB reads: the holders, the owner's bands",
            images * (1 + lane.entriesPerLink.nearDuplicates),
          ),
        ]
      : []),
  ];
}

/**
 * A month of searches: the owner's index entries and each result read; when semantic, the text's
 * embedding and a query of the one vector index, which processes every vector in it, whoever asks.
 */
function searchLines(
  line: Line,
  lane: EnrichmentLane,
  vectors: number,
  searches: number,
  apiMemoryMb: number,
): LineItem[] {
  return [
    ...(lane.enabled && searches > 0
      ? [
          line('apiRequests', 'HTTP API requests: GET /v1/search', searches),
          line('lambdaRequests', 'Lambda requests: api', searches),
          line(
            'lambdaCompute',
            `Lambda compute: api (${apiMemoryMb} MB)`,
            searches * gbSeconds(ASSUMED.searchRequestMs, apiMemoryMb),
          ),
          line(
            'dynamoReads',
            'DynamoDB reads: a query per term; each result, link and record',
            searches * (ASSUMED.searchTerms + 2 * ASSUMED.searchResults),
          ),
          ...(lane.semantic
            ? [
                line(
                  'titanTextEmbeddings',
                  'Bedrock Titan Multimodal Embeddings: the text',
                  searches * ASSUMED.searchTextTokens,
                ),
                line('s3VectorsQueries', 'S3 Vectors queries', searches),
                line(
                  's3VectorsQueryDataFirst',
                  `S3 Vectors query data: first ${count(S3_VECTORS_FIRST_TIER)} vectors`,
                  (searches * Math.min(vectors, S3_VECTORS_FIRST_TIER) * lane.vectorBytes) / TB,
                ),
                line(
                  's3VectorsQueryData',
                  'S3 Vectors query data: the other vectors',
                  (searches * Math.max(0, vectors - S3_VECTORS_FIRST_TIER) * lane.vectorBytes) / TB,
                ),
              ]
            : []),
          line(
            'logsIngestion',
            'CloudWatch Logs ingested',
            (searches * (ASSUMED.logBytesPerInvocation + ASSUMED.logBytesPerApiRequest)) / GB,
          ),
        ]
      : []),
  ];
}

/** What the enrichment lane and near-duplicates do per image, as the settings have them. */
interface EnrichmentLane {
  enabled: boolean;
  /** Embeddings stored in the vector index, so that `q` ranks by meaning. */
  semantic: boolean;
  nearDuplicates: boolean;
  title: string;
  /** The JPEG the models read, written by the thumbnails job. */
  analysis: Size & { bytes: number };
  analysisCpuMs: number;
  /** The models the settings call on each image, and the wait on each. */
  modelWaitMs: Partial<Record<keyof typeof ASSUMED.modelWaitMs, number>>;
  /** The enrichment function's wall time per image: its models one after another, S3 and DynamoDB. */
  functionMs: number;
  /** WRU of the record's update, at its size once enriched. */
  recordWriteUnits: number;
  entriesPerLink: { enrichment: number; nearDuplicates: number };
  /** One vector's logical bytes: data, key, filterable metadata (all of it counts for queries too). */
  vectorBytes: number;
}

function enrichmentLane(settings: CostedSettings, size: Size): EnrichmentLane {
  const { enabled, tags, captions, embeddings, moderation } = settings.enrichment;
  const output = place({ fit: 'inside', width: ANALYSIS_MAX_EDGE, height: ANALYSIS_MAX_EDGE }, size).output;
  const words =
    tags.maxTags * ASSUMED.searchWordsPerTag + (captions.enabled ? ASSUMED.captionWordsBeyondTags : 0);
  const called = {
    tags: true,
    moderation: moderation.enabled,
    caption: captions.enabled,
    embedding: embeddings.enabled,
  };
  const modelWaitMs = Object.fromEntries(
    Object.entries(ASSUMED.modelWaitMs).filter(([model]) => called[model as keyof typeof called]),
  );
  return {
    enabled,
    semantic: enabled && embeddings.enabled,
    nearDuplicates: settings.nearDuplicates,
    title:
      enabled && settings.nearDuplicates
        ? 'Enrichment and near-duplicates'
        : enabled
          ? 'Enrichment'
          : 'Near-duplicates',
    analysis: { ...output, bytes: Math.round((area(output) / 1e6) * BYTES_PER_MEGAPIXEL.jpeg) },
    // The thumbnails job has decoded the original already: the analysis JPEG costs its encode.
    analysisCpuMs: (area(output) / 1e6) * ENCODE_MS_PER_MEGAPIXEL.jpeg,
    modelWaitMs,
    functionMs: Object.values(modelWaitMs).reduce<number>((sum, ms) => sum + ms, ASSUMED.enrichmentWaitMs),
    recordWriteUnits: Math.ceil((ASSUMED.imageItemBytes + ASSUMED.enrichmentBytes) / 1024),
    entriesPerLink: {
      enrichment: enabled ? tags.maxTags + words + ASSUMED.searchableColours : 0,
      nearDuplicates: settings.nearDuplicates ? ASSUMED.nearDuplicateBands : 0,
    },
    vectorBytes: embeddings.dimensions * 4 + ASSUMED.vectorKeyBytes + ASSUMED.vectorMetadataBytes,
  };
}

/** Encoder settings in a few words: `AVIF effort 4 at 4:4:4, WebP effort 4, mozjpeg progressive`. */
function encoderSummary({ avif, webp, jpeg }: EncoderSettings): string {
  const mozjpeg = jpeg.trellisQuantisation && jpeg.overshootDeringing && jpeg.optimiseScans;
  return [
    `AVIF effort ${avif.effort} at ${avif.chromaSubsampling}`,
    `WebP effort ${webp.effort}${webp.smartSubsample ? ' with smart subsampling' : ''}`,
    `${mozjpeg ? 'mozjpeg' : 'JPEG'}${jpeg.progressive ? ' progressive' : ''}`,
  ].join(', ');
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

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
  settings: CostedSettings,
  lane: EnrichmentLane,
): string[] {
  const lanes = Object.entries(renderCpu)
    .map(([lane, ms]) => `${lane} ${count(ms ?? 0)} ms`)
    .join(', ');
  return [
    ...generalAssumptions(size, originalBytes, bytesPerView, workload, lanes),
    ...enrichmentAssumptions(workload, settings, lane),
  ];
}

function generalAssumptions(
  size: Size,
  originalBytes: number,
  bytesPerView: number,
  workload: Workload,
  lanes: string,
): string[] {
  return [
    `Prices: ${PRICES_REGION} on-demand list prices of ${PRICES_TAKEN_ON}, arm64 Lambda, no free tier; check them against aws.amazon.com/pricing.`,
    `Every image is new (a duplicate costs its upload and ingest, no render or storage), ${size.width}×${size.height} (4:3).`,
    workload.originalBytes === undefined
      ? `Originals ${kb(originalBytes)}: ${kb(ORIGINAL_BYTES_PER_MEGAPIXEL)} per megapixel, as the bench's camera JPEGs.`
      : `Originals ${kb(originalBytes)}, as given.`,
    `Render CPU per image: ${lanes}; calibrated on ${PHOTO_BENCH.photos.length} camera JPEGs of the corpus (${PHOTO_BENCH.script}, ${PHOTO_BENCH.date}; encoders: ${encoderSummary(PHOTO_BENCH.encoders)}): decode and resizes linear in input pixels (${DECODE_MS_PER_MEGAPIXEL.thumbnails.toFixed(1)} ms per megapixel for the thumbnails lane, ${DECODE_MS_PER_MEGAPIXEL.variants.toFixed(1)} for the variants lane), encodes linear in output pixels (AVIF ${count(ENCODE_MS_PER_MEGAPIXEL.avif)}, WebP ${count(ENCODE_MS_PER_MEGAPIXEL.webp)}, JPEG ${count(ENCODE_MS_PER_MEGAPIXEL.jpeg)} ms per megapixel).`,
    `Lambda bills wall time: CPU time divided by the memory's share of a vCPU (a whole one at ${count(ASSUMED.mbPerVcpu)} MB, so at 2 GB wall ≈ CPU, no gain from the extra share), plus waiting on S3, DynamoDB and SQS: ${ASSUMED.ingestWaitMs} ms per ingest, ${ASSUMED.renderJobWaitMs} ms per render job, ${ASSUMED.apiRequestMs} ms per API request (estimates, not measured).`,
    `One Lambda invocation per render job (thumbnail batches fill only under a backlog); SQS: send, receive and delete per job.`,
    `${ASSUMED.apiRequestsPerImage} API requests per image (POST /v1/uploads with the sha256, one status GET).`,
    `Derivative sizes from the bench photos' bytes per output megapixel of each format (AVIF ${kb(BYTES_PER_MEGAPIXEL.avif)}, WebP ${kb(BYTES_PER_MEGAPIXEL.webp)}, JPEG ${kb(BYTES_PER_MEGAPIXEL.jpeg)}); busier pictures come out larger.`,
    workload.bytesPerView === undefined
      ? `A view is one variant, each as likely, in the format the CDN prefers (AVIF, then WebP, then JPEG): ${kb(bytesPerView)}.`
      : `A view is ${kb(bytesPerView)}, as given.`,
    `CloudFront answers ${Math.round(ASSUMED.cdnHitRatio * 100)}% of views from its caches; the rest are S3 GETs.`,
    `Catalog: ${kb(ASSUMED.imageItemBytes)} image record, ${kb(ASSUMED.linkItemBytes)} link and ${kb(ASSUMED.holderItemBytes)} holder per image (each at most 1 KB: 1 WRU a write, 2 in a transaction), never read whole: the upkeep finds what is outstanding in a keys-only index (${kb(ASSUMED.upkeepIndexItemBytes)} an image: 1 WRU for its entry, 3 more to file it as settled) and at rest reads no item.`,
    `Logs: ${kb(ASSUMED.logBytesPerInvocation)} per invocation, ${kb(ASSUMED.logBytesPerApiRequest)} per API access log line.`,
  ];
}

function enrichmentAssumptions(workload: Workload, settings: CostedSettings, lane: EnrichmentLane): string[] {
  const { enrichment } = settings;
  const links = workload.linksPerImage ?? 1;
  const models = Object.keys(lane.modelWaitMs);
  const waits = Object.entries(lane.modelWaitMs).map(([model, ms]) => `${model} ${ms} ms`);
  const owners = links === 1 ? 'one owner links each image' : `${links} owners link each image`;
  const entries = (what: string, perLink: number) =>
    `${perLink} ${what} entries per link (${owners}), each a ${kb(ASSUMED.indexEntryBytes)} item in the catalog table: 1 WRU to write.`;
  const enriched = enrichment.enabled
    ? [
        `Enrichment prices: ${PRICES_REGION}, taken ${ENRICHMENT_PRICES_TAKEN_ON} (Rekognition's first million images a month, Bedrock on demand, S3 Vectors); sources in docs/cost.md.`,
        `Enrichment runs once per image, on a ${lane.analysis.width}×${lane.analysis.height} analysis JPEG (${kb(lane.analysis.bytes)}) the thumbnails job encodes and keeps; billed: ${models.join(', ')} (the settings' choice), and dominant colours (no service).`,
        `The enrichment function (${ENRICHMENT_MEMORY_MB} MB) waits on each model in turn: ${waits.join(', ')}, plus ${ASSUMED.enrichmentWaitMs} ms on S3 and DynamoDB (estimates, not measured); one invocation per image.`,
        ...(enrichment.captions.enabled
          ? [
              `A caption is ${count(ASSUMED.captionImageTokens)} input tokens for the image (Nova's estimate for about 1400×900), ${ASSUMED.captionPromptTokens} for the prompt, ${ASSUMED.captionOutputTokens} output tokens for one sentence.`,
            ]
          : []),
        entries('search', lane.entriesPerLink.enrichment) +
          ` They are ${enrichment.tags.maxTags} tags (the settings' most), ${lane.entriesPerLink.enrichment - enrichment.tags.maxTags - ASSUMED.searchableColours} words, ${ASSUMED.searchableColours} colours.`,
        `The enriched image record grows by ${kb(ASSUMED.enrichmentBytes)}: ${lane.recordWriteUnits} WRU to write.`,
        ...(lane.semantic
          ? [
              `One ${enrichment.embeddings.dimensions}-d vector per link: ${kb(lane.vectorBytes)} with its key and filterable metadata (owner, image); one index for every owner, so each query processes all of its vectors.`,
            ]
          : []),
      ]
    : [];
  const nearDuplicates = lane.nearDuplicates
    ? [entries('near-duplicate', lane.entriesPerLink.nearDuplicates)]
    : [];
  const search =
    enrichment.enabled && (workload.searchesPerMonth ?? 0) > 0
      ? [
          `A search: ${ASSUMED.searchTerms} index queries, a page of ${ASSUMED.searchResults} results each read with its link (${ASSUMED.searchTerms + 2 * ASSUMED.searchResults} RRU), ${ASSUMED.searchRequestMs} ms of the API function${lane.semantic ? `, and its text (${ASSUMED.searchTextTokens} tokens) embedded for one vector query` : ''}.`,
        ]
      : [];
  return [...enriched, ...nearDuplicates, ...search];
}

const EXCLUDED = [
  'Free tiers; volume tiers (S3 past 50 TB, CloudFront past 10 TB a month are cheaper).',
  `Fixed monthly costs that do not grow with images: alarms, the dashboard, the pollers’ empty SQS receives, the scheduled upkeep’s runs (at rest each is ${CATALOG_TABLE.upkeepIndex.shards} empty index queries and two empty range queries, at most ${CATALOG_TABLE.upkeepIndex.shards / 2 + 2} RRU: ${count(HOURS_PER_MONTH * (CATALOG_TABLE.upkeepIndex.shards / 2 + 2))} RRU a month, under a cent).`,
  'KMS: no keys to pay for: the buckets use SSE-S3, the queues SQS-managed keys, the table the AWS-managed key (whose few calls an hour DynamoDB caches). NAT gateways: none, the functions run outside a VPC.',
  'Transfer from S3 to CloudFront (free), into AWS (free), and the uploads bucket’s storage (objects live seconds).',
  'S3 and CloudFront access logs (about 0.5 KB per request, kept 30 days), log storage, X-Ray (off by default).',
  'On-demand renders (only for variants not rendered yet), reprocessing after a variant set changes, deletes.',
  'CPU the bench does not measure: the thumbnails job’s placeholder and camera facts, a watermark’s compositing.',
  'Upload records (kept 30 days after their decision) and a link’s copy in the collection index.',
  'Enrichment: volume tiers (Rekognition past a million images a month is cheaper), retried model calls, the upkeep’s second enrichment of every image after the enrichment settings change; render updates that land after enrichment cost a WRU more each (the record is over 1 KB).',
  'Search: similar-image requests, pages after the first, vector deletes; S3 Vectors’ cheaper query data above 10 million vectors an index (2026-06; rate not found, so the model overstates it).',
];
