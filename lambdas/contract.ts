import type { WorkLane } from './core/render-jobs.js';

/**
 * The deployment contract: every name and number the construct (`lib/`), the functions (`lambdas/`),
 * the local twin (`local/`) and the CLI must agree on, defined once so they cannot drift apart.
 *
 * Pure data, importing no AWS SDK and no CDK: the construct reads it without importing an adapter,
 * and `aperture cost` bills what `lib/` deploys without loading CDK. It takes only a type from core
 * (the lane names that key the per-lane numbers), so core may take its key prefixes from here and
 * hold no deployment facts itself.
 */

// ---------------------------------------------------------------------------------------------------
// Environment

/**
 * The contract between the construct and the functions: the environment variables CDK sets and the
 * handlers read (`lambdas/core/environment.ts` reads and writes them).
 */
export const ENV = {
  settings: 'APERTURE_SETTINGS',
  uploadBucket: 'APERTURE_UPLOAD_BUCKET',
  imageBucket: 'APERTURE_IMAGE_BUCKET',
  table: 'APERTURE_TABLE',
  cdnBaseUrl: 'APERTURE_CDN_BASE_URL',
  distributionId: 'APERTURE_DISTRIBUTION_ID',
  signedUrls: 'APERTURE_SIGNED_URLS',
  queueUrl: (lane: WorkLane) => `APERTURE_QUEUE_URL_${lane.toUpperCase()}`,
  /** The enrichment lane's queue; set only when enrichment is enabled. */
  enrichmentQueueUrl: 'APERTURE_ENRICHMENT_QUEUE_URL',
  /** The S3 Vectors index (JSON `{indexArn}`); set only when embeddings are enabled. */
  vectorIndex: 'APERTURE_VECTOR_INDEX',
  /** The EventBridge bus the pipeline's events go to (the announce function's only). */
  eventBus: 'APERTURE_EVENT_BUS',
  /** The webhook deliveries queue: set on the webhook functions (and given to the CLI, to replay). */
  webhookDeliveryQueueUrl: 'APERTURE_WEBHOOK_DELIVERY_QUEUE_URL',
  /** The deployment's own webhook endpoints (JSON, `DeploymentEndpoint[]`): set on the webhook functions. */
  webhookDeploymentEndpoints: 'APERTURE_WEBHOOK_DEPLOYMENT_ENDPOINTS',
  /** Where failed deliveries are parked: given to the CLI only, which replays them. */
  webhookDeadLetterQueueUrl: 'APERTURE_WEBHOOK_DEAD_LETTER_QUEUE_URL',
  /** The bulk render queue: set on the import function, whose render jobs all go there. */
  bulkQueueUrl: 'APERTURE_BULK_QUEUE_URL',
  /** The import's state machine: given to the CLI only, which starts and follows imports on it. */
  importStateMachineArn: 'APERTURE_IMPORT_STATE_MACHINE_ARN',
} as const;

// ---------------------------------------------------------------------------------------------------
// Object key prefixes (the keys under them are built by `lambdas/core/keys.ts`)

export const UPLOADS_PREFIX = 'uploads/';
export const ORIGINALS_PREFIX = 'originals/';
/** The only prefix the CDN serves. */
export const DERIVATIVES_PREFIX = 'derived/';
/** What the enrichment lane's models read (`ANALYSIS_MAX_EDGE` px JPEGs): never served. */
export const ANALYSIS_PREFIX = 'analysis/';

// ---------------------------------------------------------------------------------------------------
// HTTP API

/**
 * The HTTP API's route keys (API Gateway v2 `routeKey` syntax). The construct creates exactly these
 * routes and the API handler dispatches on them, so the two cannot drift apart.
 */
export const API_ROUTES = {
  createUpload: 'POST /v1/uploads',
  getUpload: 'GET /v1/uploads/{uploadId}',
  signUploadPart: 'POST /v1/uploads/{uploadId}/parts/{partNumber}',
  listUploadParts: 'GET /v1/uploads/{uploadId}/parts',
  completeUpload: 'POST /v1/uploads/{uploadId}/complete',
  abortUpload: 'DELETE /v1/uploads/{uploadId}',
  getImage: 'GET /v1/images/{imageId}',
  listImages: 'GET /v1/images',
  deleteImage: 'DELETE /v1/images/{imageId}',
  search: 'GET /v1/search',
  similarImages: 'GET /v1/images/{imageId}/similar',
  getOpenApi: 'GET /v1/openapi.json',
  createWebhook: 'POST /v1/webhooks',
  listWebhooks: 'GET /v1/webhooks',
  deleteWebhook: 'DELETE /v1/webhooks/{webhookId}',
} as const;

export type ApiRouteKey = (typeof API_ROUTES)[keyof typeof API_ROUTES];

/**
 * The routes API Gateway serves without an authorizer: the API's own description, which holds no
 * caller's data and which client generators and API consoles fetch before they have credentials.
 */
export const PUBLIC_API_ROUTES = [API_ROUTES.getOpenApi] as const satisfies readonly ApiRouteKey[];
export type PublicApiRouteKey = (typeof PUBLIC_API_ROUTES)[number];

// ---------------------------------------------------------------------------------------------------
// Catalog table

/**
 * The catalog's DynamoDB table design, shared by the construct that creates the table, the local twin
 * that recreates it, and the adapter that reads and writes it: one definition, no drift. Single table,
 * items addressed by `pk`/`sk` (their shapes: `catalogKeys` in `lambdas/adapters/aws/catalog-table.ts`).
 * The `byCollection` index lists an owner's links in one collection, newest first.
 */
export const CATALOG_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes the item some time after it passes (abandoned uploads). */
  timeToLiveAttribute: 'expiresAtEpoch',
  collectionIndex: { name: 'byCollection', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * The upkeep's index (docs/adr/0012-upkeep-by-variant-set-index.md), keys only, over image records
   * alone. `upkeepKey` is `unsettled#{shard}` while an image has work outstanding (created, moved,
   * rendering, enriching), `{upkeep version}#{shard}` once it is settled on that version, and absent
   * on a failed image. The upkeep queries the unsettled shards and those of older versions, so with
   * everything settled it reads no item. The shard (from the image's hash) spreads the current
   * version's images over `shards` partitions: one index partition takes ~1,000 writes a second.
   */
  upkeepIndex: { name: 'byUpkeep', partitionKey: 'upkeepKey', sortKey: 'pk', shards: 16 },
  /**
   * The upkeep's record of the versions images may be settled on: one item each, `sk` the prefix and
   * the version. The deploy writes the new version's (lib/reprocess.ts), the upkeep dates and retires them.
   */
  upkeepVersions: { partition: 'UPKEEP#VERSIONS', sortPrefix: 'VERSION#' },
  /**
   * What the partition key of every webhook endpoint starts with, and of nothing else: the webhook
   * functions' IAM policy lets them read only such items (`dynamodb:LeadingKeys`).
   */
  webhookPartitionPrefix: 'WEBHOOKS#',
} as const;

// ---------------------------------------------------------------------------------------------------
// Functions: memory, in MB, and timeouts, in seconds
//
// Memory also buys CPU: Lambda gives a whole vCPU at 1,769 MB, a share of one below.

/** The HTTP API's function: a presign or a catalog read per request. */
export const API_MEMORY_MB = 256;

/** The HTTP API's function timeout, in the construct and in the local API server alike. */
export const API_TIMEOUT_SECONDS = 10;

/**
 * The ingest function. An upload (up to 256 MiB by default) is held in memory, twice while its chunks
 * are joined, and sharp then decodes it, which for formats libvips cannot stream (AVIF, HEIC) means
 * every pixel, up to the pixel limit (100 megapixels by default); a 48 MP HEIC's decode peaked at
 * 610 MB. Measured: 340 MB at its peak for a
 * 101 MB uncompressed TIFF, 691 MB for a 265 MB one (docs/benchmarks.md).
 */
export const INGEST_MEMORY_MB = 1024;

/** The ingest function's timeout, in the construct and in the local S3 trigger alike. */
export const INGEST_TIMEOUT_SECONDS = 60;

/**
 * How long after its bytes land an upload may still be ingested: Lambda retries a failed S3 event for
 * up to this long (the ingest function's maximum event age), so until then the bytes are still needed.
 */
export const INGEST_RETRY_WINDOW_SECONDS = 6 * 3600;

/**
 * The least memory of a render function: libvips decodes originals of up to 100 megapixels
 * (`maxInputPixels`), fully for formats it cannot shrink on load, so neither lane goes below 1 GB.
 */
export const RENDER_MIN_MEMORY_MB = 1024;

/**
 * Each lane's render function, at least `RENDER_MIN_MEMORY_MB`. A HEIC is decoded whole
 * by libheif in WebAssembly first: a 48 MP iPhone photo peaked at 729 MB over its whole default set
 * and takes some 5 s of one core to decode (docs/benchmarks.md#heic).
 *
 * Both lanes are CPU-bound on one thread, so each gets one whole vCPU (1,769 MB) and no more: the
 * cost model's lane sizing (`aperture cost`, docs/cost.md#lane-sizes), from the corpus's camera
 * photos at today's encoder settings (2026-12-06), has a 12 MP photo's thumbnails job at 0.58 s of
 * CPU and its variants job at 12.6 s. Neither meets issue 17's goals at any size (first thumbnail
 * 1.27 s at best against 1 s, `ready` 13.3 s against 5 s), and a whole vCPU is the fastest. Above it
 * a second thread gained libvips and aom 10% of wall time here, so 2,048 MB would cost 16% more for
 * much the same time ($0.34 against $0.30 per 1,000 images for the variants job); below it the same
 * CPU takes longer at nearly the same GB-seconds (1,024 MB: first thumbnail 1.69 s, for 12% less).
 */
export const RENDER_MEMORY_MB: Readonly<Record<WorkLane, number>> = {
  thumbnails: 1769,
  variants: 1769,
};

/**
 * The timeout of each lane's render function, in seconds: the one number both the function and its
 * queue's visibility timeout derive from. A thumbnail is one small resize; a variants job encodes every
 * size in AVIF, WebP and JPEG, and AVIF at 1920 px is the slow part.
 */
export const RENDER_TIMEOUT_SECONDS: Readonly<Record<WorkLane, number>> = {
  thumbnails: 30,
  variants: 120,
};

/** The on-demand renderer: as the variants lane, an original up to the pixel limit, one variant in every format. */
export const ON_DEMAND_MEMORY_MB = RENDER_MEMORY_MB.variants;

/**
 * The on-demand renderer's timeout: one variant of one image, within the 30 s CloudFront waits for
 * an origin's answer by default.
 */
export const ON_DEMAND_TIMEOUT_SECONDS = 28;

/** The reprocess function (`aperture reprocess`, run by the deployment itself). */
export const REPROCESS_MEMORY_MB = 512;

/** Lambda's longest: a run cut short is carried on by the next (moved images are skipped). */
export const REPROCESS_TIMEOUT_SECONDS = 15 * 60;

/**
 * How often the deployment's upkeep runs (lib/reprocess.ts) besides the run each deploy that changes
 * the upkeep version starts: it carries on a run cut short and requeues what stalled or failed on the
 * way (renders, enrichments), reading only the images the upkeep index holds as unsettled or stale.
 */
export const REPROCESS_INTERVAL_HOURS = 1;

// ---------------------------------------------------------------------------------------------------
// Render queues: read by the construct and the local runtime alike

/** Receives before a message is parked in its lane's dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

/**
 * Jobs per invocation of each lane's function, rendered one after another, all within the lane's
 * `RENDER_TIMEOUT_SECONDS` or the whole batch comes back.
 *
 * - thumbnails: up to 5 jobs, 6 s each of the 30, some 30 times what a 12 MP original takes (0.2 s of
 *   CPU, ADR 5): the headroom is for originals up to the 100 MP limit (not measured yet).
 * - variants: one job per invocation: a job already takes seconds (about 6 s of CPU at 12 MP), so a
 *   batch would only risk the timeout and make one slow image hold up, or retry, the others.
 */
export const RENDER_BATCH_SIZE: Readonly<Record<WorkLane, number>> = {
  thumbnails: 5,
  variants: 1,
};

/**
 * AWS's rule for SQS event sources: visibility at least six times the function timeout, so a message
 * is not handed to a second invocation while retries of the first are still running.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Each lane queue's visibility timeout, in the construct and in the local twin alike. */
export function visibilityTimeoutSeconds(lane: WorkLane): number {
  return RENDER_TIMEOUT_SECONDS[lane] * VISIBILITY_TIMEOUT_FACTOR;
}

// ---------------------------------------------------------------------------------------------------
// Enrichment lane

/**
 * The enrichment function: it sends a 1024 px JPEG to the models and writes what they say, so it
 * waits on the network, not the CPU. Locally the offline tagger needs about 440 MB (docs/benchmarks.md).
 */
export const ENRICHMENT_MEMORY_MB = 512;

/** One image: a tagger, a captioner and an embedder called one after another, each a second or two. */
export const ENRICHMENT_TIMEOUT_SECONDS = 60;

/** One image per invocation: a slow model call then holds up no other image. */
export const ENRICHMENT_BATCH_SIZE = 1;

export const ENRICHMENT_VISIBILITY_TIMEOUT_SECONDS = ENRICHMENT_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR;

// ---------------------------------------------------------------------------------------------------
// Events: the announce function reads the catalog's stream and publishes (lambdas/core/events.ts)

/** It reads a few records and writes a few small items per change: waiting, not computing. */
export const ANNOUNCE_MEMORY_MB = 256;

export const ANNOUNCE_TIMEOUT_SECONDS = 30;

/** Changes per invocation; most announce nothing (a variant recorded, enrichment) and cost a filter. */
export const ANNOUNCE_BATCH_SIZE = 50;

/**
 * Retries of a batch that failed (the bus throttled, the table was unreachable) before its first
 * failing change is sent to the announce dead-letter queue; each retry resumes at that change.
 */
export const ANNOUNCE_RETRY_ATTEMPTS = 10;

/**
 * How long a publisher's claim on an event holds before another may take it over: longer than an
 * invocation can live, so a claim only lapses when its holder died.
 */
export const EVENT_CLAIM_SECONDS = 2 * ANNOUNCE_TIMEOUT_SECONDS;

/** How long the ledger remembers a published event: well past the 24 hours a stream keeps a change. */
export const EVENT_LEDGER_DAYS = 7;
// Webhooks

/**
 * One attempt of one delivery: connecting, sending and the whole answer. Standard Webhooks asks
 * receivers to answer at once and do the work later; an endpoint slower than this fails the attempt.
 */
export const WEBHOOK_ATTEMPT_TIMEOUT_SECONDS = 10;

/** Fan-out and delivery both wait on the network, not the CPU. */
export const WEBHOOK_MEMORY_MB = 256;

/**
 * Deliveries per invocation, attempted at once: a slow endpoint holds up the batch for one attempt's
 * timeout at most, and never another batch (Lambda runs as many as the queue needs).
 */
export const WEBHOOK_DELIVERY_BATCH_SIZE = 10;

/** The batch's attempts run side by side, so one attempt's timeout and room to settle the batch. */
export const WEBHOOK_DELIVERY_TIMEOUT_SECONDS = 3 * WEBHOOK_ATTEMPT_TIMEOUT_SECONDS;

/** Events per fan-out invocation: a query and a send each. */
export const WEBHOOK_FANOUT_BATCH_SIZE = 10;

export const WEBHOOK_FANOUT_TIMEOUT_SECONDS = 30;

export const WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS =
  WEBHOOK_DELIVERY_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR;

export const WEBHOOK_FANOUT_VISIBILITY_TIMEOUT_SECONDS =
  WEBHOOK_FANOUT_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR;

// ---------------------------------------------------------------------------------------------------
// Server-side import (a Step Functions Distributed Map over a source bucket's objects)

/**
 * Source objects per child execution of the import's Distributed Map (`ItemBatcher`): one import
 * function invocation judges this many. Large enough that Step Functions' per-transition price and
 * Lambda's per-request overhead vanish per image, small enough that a batch (`IMPORT_ITEM_CONCURRENCY`
 * at once, each up to a second or two for a large photo) stays far inside `IMPORT_TIMEOUT_SECONDS`.
 */
export const IMPORT_BATCH_SIZE = 50;

/** Source objects judged at once in one invocation: reads and writes overlap, memory holds four originals. */
export const IMPORT_ITEM_CONCURRENCY = 4;

/** The import function's timeout: a batch of 50 large photos takes well under a minute. */
export const IMPORT_TIMEOUT_SECONDS = 5 * 60;

/** As ingest's: the import function holds and decodes what ingest does (`INGEST_MEMORY_MB`). */
export const IMPORT_MEMORY_MB = INGEST_MEMORY_MB;

/**
 * Child executions (batches) at once, by default: 40 × 50 items, some 400 images/s into the catalog,
 * far below DynamoDB on-demand's and S3's per-prefix rates and Lambda's default account concurrency.
 */
export const IMPORT_MAX_CONCURRENCY = 40;

/**
 * The share of batches that may fail (after their retries) before the whole import stops, by
 * default. A rejected image is not a failure (it is an answer); a failed batch is one that kept
 * throwing (throttling, an outage), and is redriven, not lost.
 */
export const IMPORT_TOLERATED_FAILURE_PERCENTAGE = 5;

/**
 * Invocations at once of the bulk render function, which renders what imports queue: app uploads'
 * lanes keep the rest of the account's concurrency, and their first thumbnail its goal, however
 * large the library being imported.
 */
export const BULK_RENDER_MAX_CONCURRENCY = 10;
// Reconcile at scale: a Step Functions Distributed Map over slices (lib/reconcile-map.ts)

/**
 * The catalog→object half of reconcile is a parallel Scan in this many segments. At 5 million
 * images the table holds some 15 million image, holder and link items (more with enrichment's
 * index entries): a segment reads 1/256 of it, some 60,000 items, about a minute of consistent
 * pages, and keeps one small summary per image of its segment (some 20,000).
 */
export const RECONCILE_SCAN_SEGMENTS = 256;

/**
 * Slices audited at once, on AWS (the map's `MaxConcurrency`) and locally alike. Each running
 * segment reads a 1 MB page (256 consistent read units) every 100-300 ms, so 16 of them draw some
 * 15,000-40,000 read units a second: within an on-demand table's default 40,000 per table, and
 * the SDK's retries absorb a throttle. Raise it only with the table's limit.
 */
export const RECONCILE_MAX_CONCURRENCY = 16;

/** One slice holds at most a chunk of images and one page at once: memory is not what bounds it. */
export const RECONCILE_SLICE_MEMORY_MB = 512;

/** Lambda's longest; a shard of 5 million images (some 20,000) takes about a minute. */
export const RECONCILE_SLICE_TIMEOUT_SECONDS = 15 * 60;

/**
 * Findings a slice lists in its result (its counts are always exact): a Step Functions result is
 * at most 256 KB, and a finding some 200 bytes.
 */
export const RECONCILE_LISTED_FINDINGS = 100;

/** Where the map's `ResultWriter` puts each run's results, in the reconcile reports bucket. */
export const RECONCILE_REPORTS_PREFIX = 'reconcile/';
