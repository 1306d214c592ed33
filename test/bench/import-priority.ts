import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type AwsClients, createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { SqsWorkQueue } from '../../lambdas/adapters/aws/sqs-work-queue.js';
import { IMPORT_BATCH_SIZE, IMPORT_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import type { ImportItemResult } from '../../lambdas/core/imports.js';
import { mapLanes } from '../../lambdas/core/render-jobs.js';
import {
  createImportHandler,
  importDependenciesFromEnvironment,
} from '../../lambdas/handlers/import-batch.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { twinEnvironment } from '../../local/twin/index.js';
import { ApiClient } from '../support/api-client.js';
import { distinctCorpusPhotos } from '../support/corpus.js';
import { corpusImages, photoLikeJpeg } from './images.js';
import { timeUpload } from './local-latency.js';
import { ratio, type Summary, summarise } from './stats.js';

/** Where an import's render jobs go: nowhere (no import), its own capped bulk queue, or the app uploads' lanes. */
export const IMPORT_PRIORITY_ARMS = ['idle', 'bulk queue', 'app lanes'] as const;
export type ImportPriorityArm = (typeof IMPORT_PRIORITY_ARMS)[number];

export interface ImportPriorityArmResult {
  arm: ImportPriorityArm;
  /** From the end of an app upload's S3 upload to its `thumb` variant ready, wall ms. */
  toFirstThumbnail: Summary;
  /** Of `toFirstThumbnail`, against the idle arm's. */
  versusIdle: { median: number; p95: number };
  /** The library's objects the import function had judged when the last app thumbnail was ready. */
  libraryJudged: number;
  /** Of those, the images already `ready` (every variant rendered) by then. */
  libraryReady: number;
  /** The arm's pipeline start to its last app thumbnail, wall s. */
  seconds: number;
  /** The machine's 1-minute load average then: other tenants of a shared machine stretch every wall time. */
  loadAverage: number;
}

export interface ImportPriorityResult {
  library: {
    source: 'corpus' | 'generated';
    images: number;
    originals: string[];
    mb: number;
    batchSize: number;
  };
  uploads: number;
  uploadIntervalMs: number;
  photo: { width: number; height: number };
  workersPerLane: number;
  bulkWorkers: number;
  arms: ImportPriorityArmResult[];
}

/** The app's photos, as the latency bench sends (`--only latency`). */
const PHOTO = { width: 2400, height: 1800 };
/** Slow enough that many waiting uploads do not load the API themselves; the same in every arm. */
const POLL_MS = 200;
/** The import's render jobs, of either lane, on the bulk queue: its render invocations at once (the pipeline's default). */
const BULK_WORKERS = 1;

/**
 * App uploads' first thumbnail on the local runtime, with no import (idle), then while a library of
 * `imports` originals is imported by the import function (batches of `IMPORT_BATCH_SIZE`, one after
 * another) with its render jobs on the bulk queue, then the same import with its jobs on the app
 * uploads' lanes. Each arm has a fresh pipeline, the same library and the same app photos, sent one
 * every `uploadIntervalMs` from when the import's first batch is judged (a backlog exists), each
 * waited for at once: users do not wait for each other.
 *
 * The library is the shared corpus's camera photos (8 MP and up) where it is present: a generated
 * image once understated render cost fivefold. Each copy gets a JPEG comment of its own, so its bytes
 * (and so its image) are new, but its decode and render cost the photo's.
 */
export async function benchImportPriority(options: {
  imports: number;
  uploads: number;
  uploadIntervalMs: number;
  repoRoot: string;
  log: (line: string) => void;
}): Promise<ImportPriorityResult> {
  // The runtime runs in this process: its handlers' info lines would bury the tables.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const originals = await libraryOriginals(options.repoRoot);
  const library = Array.from({ length: options.imports }, (_, i) => {
    const original = originals[i % originals.length];
    if (!original) throw new Error('no library originals');
    return { key: `library/${i}-${original.name}`, bytes: withComment(original.bytes, `import copy ${i}`) };
  });
  const photos = await Promise.all(
    Array.from({ length: options.uploads }, (_, i) => photoLikeJpeg(PHOTO.width, PHOTO.height, 3000 + i)),
  );
  const arms: Omit<ImportPriorityArmResult, 'versusIdle'>[] = [];
  for (const arm of IMPORT_PRIORITY_ARMS) {
    options.log(`${arm}: starting`);
    arms.push(await runArm(arm, library, photos, options));
    options.log(`${arm}: ${JSON.stringify(arms.at(-1))}`);
  }
  const idle = arms[0]?.toFirstThumbnail;
  if (!idle) throw new Error('no idle arm');
  return {
    library: {
      source: originals[0]?.source ?? 'generated',
      images: options.imports,
      originals: originals.map((original) => original.name),
      mb: Math.round(library.reduce((sum, object) => sum + object.bytes.length, 0) / 1e5) / 10,
      batchSize: IMPORT_BATCH_SIZE,
    },
    uploads: options.uploads,
    uploadIntervalMs: options.uploadIntervalMs,
    photo: PHOTO,
    workersPerLane: availableParallelism(),
    bulkWorkers: BULK_WORKERS,
    arms: arms.map((result) => ({
      ...result,
      versusIdle: {
        median: ratio(result.toFirstThumbnail.medianMs, idle.medianMs),
        p95: ratio(result.toFirstThumbnail.p95Ms, idle.p95Ms),
      },
    })),
  };
}

async function libraryOriginals(repoRoot: string) {
  const distinct = new Set(distinctCorpusPhotos());
  const photos = (await corpusImages(repoRoot)).filter((image) => distinct.has(image.name));
  if (photos.length > 0) return photos;
  // No corpus here: a few generated 12 MP photos, cycled as the corpus's are.
  return Promise.all(
    [1, 2, 3, 4].map(async (seed) => ({
      name: `generated 12 MP #${seed}`,
      source: 'generated' as const,
      bytes: await photoLikeJpeg(4000, 3000, seed),
    })),
  );
}

/** The JPEG with a comment segment (COM) right after its start marker: other bytes, the same pixels. */
function withComment(jpeg: Buffer, comment: string): Buffer {
  const text = Buffer.from(comment, 'latin1');
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), segment, text, jpeg.subarray(2)]);
}

async function runArm(
  arm: ImportPriorityArm,
  library: Array<{ key: string; bytes: Buffer }>,
  photos: Buffer[],
  options: { uploadIntervalMs: number },
): Promise<Omit<ImportPriorityArmResult, 'versusIdle'>> {
  const started = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'aperture-import-priority-'));
  const pipeline = await startLocalPipeline({ dataDir, apiPort: 0, cdnPort: 0, bulkWorkers: BULK_WORKERS });
  const clients = createAwsClients(twinEnvironment(pipeline.twin));
  const owner = 'import-priority-library';
  let importing: ReturnType<typeof startImport> | undefined;
  try {
    const app = await ApiClient.forOwner(pipeline.apiUrl, 'import-priority-app');
    // Untimed: the first invocations' start-up (modules, the JVM's first queries) is in no arm.
    await timeUpload(app, await photoLikeJpeg(PHOTO.width, PHOTO.height, 2999), { thumbnailOnly: true });
    if (arm !== 'idle') {
      importing = startImport(arm, pipeline, clients, library, owner);
      await importing.firstBatch;
    }
    const toThumbnail = await Promise.all(
      photos.map(async (photo, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * options.uploadIntervalMs));
        return (await timeUpload(app, photo, { thumbnailOnly: true, pollMs: POLL_MS })).toThumbnail;
      }),
    );
    const judged = importing?.judged() ?? [];
    const asOwner = await ApiClient.forOwner(pipeline.apiUrl, owner);
    const ready = await Promise.all(
      judged.map(async (result) =>
        'imageId' in result
          ? (await asOwner.call('GET', `/v1/images/${result.imageId}`)).body.status === 'ready'
          : false,
      ),
    );
    return {
      arm,
      toFirstThumbnail: summarise(toThumbnail),
      libraryJudged: judged.length,
      libraryReady: ready.filter(Boolean).length,
      seconds: Math.round((performance.now() - started) / 1000),
      loadAverage: Math.round(loadavg()[0] ?? 0),
    };
  } finally {
    await importing?.stop();
    clients.s3.destroy();
    clients.sqs.destroy();
    clients.dynamo.destroy();
    // Drops the render backlog: the arm measured what it came for.
    await pipeline.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const SOURCE_BUCKET = 'import-priority-source';
/** Objects put into the source bucket at once while it is filled. */
const PUT_CONCURRENCY = 8;

/**
 * Fills the source bucket and runs the import function over it, a batch after another, as the local
 * runner does; for the `app lanes` arm its WorkQueue is the lanes' queues instead of the bulk queue.
 */
function startImport(
  arm: Exclude<ImportPriorityArm, 'idle'>,
  pipeline: LocalPipeline,
  clients: AwsClients,
  library: Array<{ key: string; bytes: Buffer }>,
  owner: string,
) {
  const deps = importDependenciesFromEnvironment(pipeline.importEnvironment);
  const importObjects = createImportHandler(
    arm === 'app lanes'
      ? {
          ...deps,
          queue: new SqsWorkQueue(
            clients.sqs,
            mapLanes((lane) => pipeline.twin.resources.queues[lane].url),
          ),
        }
      : deps,
  );
  const results: ImportItemResult[] = [];
  let stopping = false;
  let firstBatchJudged = () => {};
  const firstBatch = new Promise<void>((resolve) => {
    firstBatchJudged = resolve;
  });
  const run = (async () => {
    await clients.s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
    const items: Array<{ Key: string; Size: number; Etag: string }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: PUT_CONCURRENCY }, async () => {
        for (let object = library[next++]; object; object = library[next++]) {
          const { ETag } = await clients.s3.send(
            new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: object.key, Body: object.bytes }),
          );
          items.push({ Key: object.key, Size: object.bytes.length, Etag: ETag ?? '' });
        }
      }),
    );
    for (let start = 0; start < items.length && !stopping; start += IMPORT_BATCH_SIZE) {
      const { results: batch } = await importObjects(
        {
          Items: items.slice(start, start + IMPORT_BATCH_SIZE),
          BatchInput: { importId: 'import-priority', bucket: SOURCE_BUCKET, owner },
        },
        lambdaContext('aperture-import', { timeoutSeconds: IMPORT_TIMEOUT_SECONDS }),
      );
      results.push(...batch);
      firstBatchJudged();
    }
  })();
  return {
    /** Settles once the first batch is judged (its render jobs queued), or the import failed. */
    firstBatch: Promise.race([firstBatch, run]),
    judged: () => [...results],
    /** Lets the batch under way finish and starts no other. */
    stop: async () => {
      stopping = true;
      await run;
    },
  };
}
