import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoMaintenanceCatalog } from '../../lambdas/adapters/aws/dynamo-maintenance-catalog.js';
import { derivativeKey, originalKey } from '../../lambdas/core/keys.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { planRenderJobs, WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import type { ImageLink, ImageRecord, UploadRecord } from '../../lambdas/ports/catalog.js';
import type { CatalogEntry } from '../../lambdas/ports/maintenance-catalog.js';
import type { ReconcileReport } from '../../lambdas/services/reconcile/reconcile.js';
import type { ReprocessReport } from '../../lambdas/services/reprocess-images.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { twinEnvironment } from '../../local/twin/index.js';
import { ApiClient } from '../support/api-client.js';
import { makeImage } from '../support/images.js';
import { aperture } from '../support/operations.js';

/**
 * The pipeline under a mixed load of 500 uploads while things go wrong as they do in AWS: SQS
 * delivers some render jobs twice at once, a render worker is killed mid-batch, poison messages
 * arrive, S3 delivers some events twice and late, DynamoDB goes away and comes back, and the API
 * takes 1,000 presigns at once. Afterwards a full scan checks that nothing is stuck, lost, orphaned
 * or counted wrong, and a sample of derivatives is rendered again and compared byte for byte.
 */

const REPOSITORY = resolve(import.meta.dirname, '../..');
const settings = parseSettings();
const DISTINCT = 420;
const REPEATS = 40;
const INVALID = 40;
const OWNERS = ['ava', 'bo', 'cas'];
/** Short, so jobs of a killed worker and poison messages come back within the test. */
const VISIBILITY_TIMEOUT_SECONDS = 20;

interface SentUpload {
  uploadId: string;
  owner: string;
  valid: boolean;
  sha256: string;
}

let dataDir: string;
let pipeline: LocalPipeline;
let clients: ReturnType<typeof createAwsClients>;
const workers: ChildProcess[] = [];
const sent: SentUpload[] = [];
const faults = {
  killedMidBatch: false,
  dynamoRestarted: false,
  /** The burst's first answers, by status. */
  presigns: new Map<number, number>(),
  /** What the burst's refusals said (`status code`). */
  presignRefusals: new Set<string>(),
  /** Refused presigns a client retrying as told still could not get granted. */
  presignsNeverGranted: 0,
  poisoned: false,
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'aperture-faults-'));
  pipeline = await startLocalPipeline({
    dataDir,
    apiPort: 0,
    cdnPort: 0,
    renderInProcess: false,
    // Covers the DynamoDB outage below (Lambda's own retries come after one and two minutes).
    ingestRetryDelaysMs: [2_000, 4_000, 8_000],
    // One S3 event in four is delivered again, up to three seconds later: after the first delivery
    // has removed the upload object, and after later uploads' events.
    redeliverS3EventAfterMs: (record) =>
      digit(record.key) % 4 === 0 ? 300 + digit(record.key) * 180 : undefined,
  });
  clients = createAwsClients(twinEnvironment(pipeline.twin));
  for (const lane of WORK_LANES) {
    await clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: pipeline.twin.resources.queues[lane].url,
        Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
      }),
    );
  }
  workers.push(await startWorker());
});

afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await pipeline?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the pipeline under faults', () => {
  it('settles every upload of a mixed load of 500 correctly while things go wrong', async () => {
    const inputs = await mixedLoad();
    const api = new Map(
      await Promise.all(
        OWNERS.map(async (owner) => [owner, await ApiClient.forOwner(pipeline.apiUrl, owner)] as const),
      ),
    );
    let next = 0;
    const uploader = async () => {
      for (let input = inputs[next++]; input; input = inputs[next++]) {
        const client = api.get(input.owner) as ApiClient;
        const uploadId = await uploadWithRetries(client, input.bytes, input.contentType);
        // No upload id: the owner already had these bytes (the presign's pre-check).
        if (uploadId)
          sent.push({ uploadId, owner: input.owner, valid: input.valid, sha256: sha256(input.bytes) });
        else answeredDuplicate += 1;
        await faultsDue(sent.length + answeredDuplicate);
      }
    };
    let answeredDuplicate = 0;
    await Promise.all(Array.from({ length: 12 }, uploader));
    expect(sent.length + answeredDuplicate).toBe(inputs.length);
    expect(answeredDuplicate).toBeLessThanOrEqual(REPEATS / 2);
    expect(faults).toMatchObject({ killedMidBatch: true, dynamoRestarted: true, poisoned: true });

    await waitForQuiet();
    // A job whose every delivery met the DynamoDB outage is in its dead-letter queue, its image still
    // processing: the deployment's hourly upkeep (`reprocess`) queues such stalled variants again.
    // Here it runs once the queues are quiet, as it would within the hour. How many jobs the outage
    // caught depends on how fast the machine is; that the upkeep queues exactly their images does not.
    const stalled = [...(await scanCatalog()).images.values()].filter(
      (image) => image.status === 'processing' && image.jobsQueuedAt,
    ).length;
    const upkeep = await aperture(
      ['reprocess', '--json', '--local', '--data-dir', dataDir, '--stuck-after', '0', '--rate', '1000'],
      {},
    );
    expect(upkeep.status, upkeep.stderr).toBe(0);
    const { requeued } = JSON.parse(upkeep.stdout) as ReprocessReport;
    expect(requeued).toBe(stalled);
    await waitForQuiet();

    // The 1,000 presigns at once were each answered, never dropped: with a grant, or with a refusal
    // the API documents as one to retry (a throttle, or the catalog queue outlasting the request's
    // time budget, which depends on the machine). Most were granted at once, and every refused one
    // on a retry.
    const answered = [...faults.presigns.values()].reduce((sum, n) => sum + n, 0);
    expect(answered).toBe(1000);
    const statuses = Object.fromEntries(faults.presigns);
    expect(
      Object.keys(statuses).filter((status) => !['201', '429', '503'].includes(status)),
      JSON.stringify(statuses),
    ).toEqual([]);
    expect([...faults.presignRefusals].filter((refusal) => refusal.startsWith('503 '))).toEqual(
      faults.presigns.has(503) ? ['503 dependency_unavailable'] : [],
    );
    expect(faults.presigns.get(201) ?? 0, JSON.stringify(statuses)).toBeGreaterThan(answered / 2);
    expect(faults.presignsNeverGranted).toBe(0);

    const catalog = await scanCatalog();
    // Every upload sent is decided: valid bytes accepted, their image ready; the rest rejected with a reason.
    for (const upload of sent) {
      const record = catalog.uploads.get(upload.uploadId);
      if (upload.valid) {
        expect(record, upload.uploadId).toMatchObject({ state: 'accepted', imageId: upload.sha256 });
        expect(
          catalog.images.get(upload.sha256)?.status,
          JSON.stringify(catalog.images.get(upload.sha256)),
        ).toBe('ready');
      } else {
        expect(record?.state, upload.uploadId).toBe('rejected');
        expect(record?.rejection?.reason).toMatch(/^[a-z_]+$/);
      }
    }
    // None stuck: no image is still processing, and each failed one says why.
    for (const image of catalog.images.values()) {
      expect(image.status === 'ready' || (image.status === 'failed' && image.failure?.reason)).toBeTruthy();
    }
    // Reference counts equal links; one original per image, nothing else under originals/.
    for (const image of catalog.images.values()) {
      const links = catalog.links.filter((link) => link.imageId === image.imageId).length;
      expect(image.refCount, image.imageId).toBe(links);
    }
    const originals = await listKeys('originals/');
    expect(originals).toHaveLength(catalog.images.size);
    expect(new Set(originals.map((key) => key.split('/').pop())).size).toBe(catalog.images.size);
    expect(catalog.images.size).toBe(DISTINCT);

    // The whole-pipeline check: no orphan objects, dangling links, missing variants or unmarked images.
    // Everything has settled, so objects of any age are judged, orphans included.
    const reconcile = await aperture(
      ['reconcile', '--json', '--local', '--data-dir', dataDir, '--stuck-after', '0', '--grace', '0'],
      {},
    );
    expect(reconcile.status, reconcile.stderr).toBe(0);
    expect((JSON.parse(reconcile.stdout) as ReconcileReport).findings).toEqual([]);

    // The poison messages ended in the dead-letter queues; the surviving worker is still serving.
    const deadLetters = await Promise.all(
      WORK_LANES.map((lane) => queueDepth(pipeline.twin.resources.queues[lane].deadLetterUrl)),
    );
    expect(deadLetters.reduce((sum, depth) => sum + depth, 0)).toBeGreaterThanOrEqual(4);
    expect(workers.at(-1)?.exitCode).toBeNull();

    // A sample of ready images rendered again gives the very bytes stored.
    const sample = [...catalog.images.values()].filter((_, i) => i % 50 === 0);
    for (const image of sample) await expectStoredDerivativesMatch(image.imageId);
  }, 600_000);
});

/** The load: distinct images (some sent again by their owner or another), and bytes that are not images. */
async function mixedLoad(): Promise<{ owner: string; bytes: Buffer; contentType: string; valid: boolean }[]> {
  const formats = ['jpeg', 'png', 'webp'] as const;
  const load: { owner: string; bytes: Buffer; contentType: string; valid: boolean }[] = [];
  for (let i = 0; i < DISTINCT; i++) {
    const format = formats[i % formats.length] ?? 'jpeg';
    const bytes = await makeImage(format, { seed: 90_000 + i, width: 48, height: 32 });
    load.push({
      owner: OWNERS[i % OWNERS.length] as string,
      bytes,
      contentType: `image/${format}`,
      valid: true,
    });
  }
  for (let i = 0; i < REPEATS; i++) {
    const original = load[i * 7] as (typeof load)[number];
    // Half by the same owner (a link already there), half by another (a second link).
    const owner =
      i % 2 === 0 ? original.owner : (OWNERS[(OWNERS.indexOf(original.owner) + 1) % OWNERS.length] as string);
    load.push({ ...original, owner });
  }
  for (let i = 0; i < INVALID; i++) {
    const bytes =
      i % 2 === 0
        ? Buffer.from(`<html><body>not an image ${i}</body></html>`)
        : (load[i] as (typeof load)[number]).bytes.subarray(0, 40);
    load.push({ owner: OWNERS[i % OWNERS.length] as string, bytes, contentType: 'image/jpeg', valid: false });
  }
  // Interleaved, so repeats and refusals arrive amid everything else.
  return load
    .map((item, i) => ({ item, key: digit(`${i}`) * 1000 + i }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

/** Sends one upload as a careful client does: a refused or unreachable request is tried again. */
async function uploadWithRetries(
  client: ApiClient,
  bytes: Buffer,
  contentType: string,
): Promise<string | undefined> {
  for (let attempt = 1; attempt <= 20; attempt++) {
    try {
      const answer = await client.upload(bytes, { contentType, filename: 'load.bin', method: 'POST' });
      if (answer.status === 201 && (answer.s3Status ?? 500) < 300) return String(answer.body.uploadId);
      if (answer.status === 200) return undefined;
      if (answer.status < 500 && answer.status !== 429)
        throw new Error(`refused: ${JSON.stringify(answer.body)}`);
    } catch (error) {
      if ((error as Error).message.startsWith('refused')) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }
  throw new Error('the upload never got through');
}

/** Each fault at its point in the load. */
async function faultsDue(uploads: number): Promise<void> {
  if (uploads === 100 && !faults.killedMidBatch) {
    faults.killedMidBatch = true;
    await killWorkerMidBatch();
  }
  if (uploads === 200 && !faults.dynamoRestarted) {
    faults.dynamoRestarted = true;
    await pipeline.restartDynamoDb();
  }
  if (uploads === 250 && faults.presigns.size === 0) {
    faults.presigns.set(0, 0);
    await hammerPresigns();
  }
  if (uploads === 300 && !faults.poisoned) {
    faults.poisoned = true;
    await sendPoison();
  }
}

async function killWorkerMidBatch(): Promise<void> {
  const worker = workers.at(-1) as ChildProcess;
  // Mid-batch: some jobs received and not yet settled.
  for (let waited = 0; waited < 10_000; waited += 20) {
    if ((await inFlight()) > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  worker.kill('SIGKILL');
  await once(worker, 'exit');
  workers.push(await startWorker());
}

async function hammerPresigns(): Promise<void> {
  const client = await ApiClient.forOwner(pipeline.apiUrl, 'hammer');
  faults.presigns.clear();
  const presign = (i: number) =>
    client.call('POST', '/v1/uploads', { contentType: 'image/png', size: 1000 + i, filename: `h${i}.png` });
  const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => presign(i)));
  for (const { status, body } of answers) {
    faults.presigns.set(status, (faults.presigns.get(status) ?? 0) + 1);
    if (status !== 201) faults.presignRefusals.add(`${status} ${(body.error as { code?: string })?.code}`);
  }
  // As clients told to retry do: after a pause, the refused presigns again, a few at a time.
  let refused = answers.flatMap((answer, i) => (answer.status === 201 ? [] : [i]));
  for (let attempt = 1; attempt <= 5 && refused.length > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    const stillRefused: number[] = [];
    for (let start = 0; start < refused.length; start += 50) {
      const batch = refused.slice(start, start + 50);
      const again = await Promise.all(batch.map(presign));
      stillRefused.push(...batch.filter((_, j) => again[j]?.status !== 201));
    }
    refused = stillRefused;
  }
  faults.presignsNeverGranted = refused.length;
}

/** Messages no render job could come from: not JSON, JSON of another shape, and a job for no image. */
async function sendPoison(): Promise<void> {
  const bodies = [
    'not json at all',
    '{"imageId": 42}',
    JSON.stringify({ ...planRenderJobs('f'.repeat(64), settings)[1], originalKey: 'originals/nowhere' }),
  ];
  for (const lane of WORK_LANES) {
    for (const body of bodies) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: pipeline.twin.resources.queues[lane].url, MessageBody: body }),
      );
    }
  }
}

async function startWorker(): Promise<ChildProcess> {
  const config = { twin: pipeline.twin, settings, cdnUrl: pipeline.cdnUrl, workers: 2, redeliverRate: 0.2 };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/faults/render-worker.ts', JSON.stringify(config)],
    {
      cwd: REPOSITORY,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    },
  );
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  if (!line.toString().includes('ready')) throw new Error(`the render worker did not start: ${line}`);
  return child;
}

/** Until every lane's queue is empty (poison included, moved to its dead-letter queue). */
async function waitForQuiet(): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const depths = await Promise.all(
      WORK_LANES.map(async (lane) => {
        const url = pipeline.twin.resources.queues[lane].url;
        return (await queueDepth(url)) + (await queueDepth(url, 'ApproximateNumberOfMessagesNotVisible'));
      }),
    );
    if (depths.every((depth) => depth === 0)) return;
    if (Date.now() > deadline) throw new Error(`queues never emptied: ${depths.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function inFlight(): Promise<number> {
  const depths = await Promise.all(
    WORK_LANES.map((lane) =>
      queueDepth(pipeline.twin.resources.queues[lane].url, 'ApproximateNumberOfMessagesNotVisible'),
    ),
  );
  return depths.reduce((sum, depth) => sum + depth, 0);
}

async function queueDepth(
  url: string,
  attribute:
    | 'ApproximateNumberOfMessages'
    | 'ApproximateNumberOfMessagesNotVisible' = 'ApproximateNumberOfMessages',
): Promise<number> {
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [attribute] }),
  );
  return Number(Attributes?.[attribute] ?? 0);
}

async function scanCatalog(): Promise<{
  images: Map<string, ImageRecord>;
  links: ImageLink[];
  uploads: Map<string, UploadRecord>;
}> {
  const catalog = new DynamoMaintenanceCatalog(clients.dynamo, pipeline.twin.resources.table);
  const entries: CatalogEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await catalog.scanCatalog(cursor);
    entries.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return {
    images: new Map(
      entries.flatMap((e) => (e.kind === 'image' ? [[e.image.imageId, e.image] as const] : [])),
    ),
    links: entries.flatMap((e) => (e.kind === 'link' ? [e.link] : [])),
    uploads: new Map(
      entries.flatMap((e) => (e.kind === 'upload' ? [[e.upload.uploadId, e.upload] as const] : [])),
    ),
  };
}

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({
        Bucket: pipeline.twin.resources.imageBucket,
        Prefix: prefix,
        ContinuationToken: token,
      }),
    );
    keys.push(...(page.Contents ?? []).map((object) => String(object.Key)));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

async function readObject(key: string): Promise<Buffer> {
  const object = await clients.s3.send(
    new GetObjectCommand({ Bucket: pipeline.twin.resources.imageBucket, Key: key }),
  );
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** Renders the image's jobs again, lane by lane as the workers do, and compares with what is stored. */
async function expectStoredDerivativesMatch(imageId: string): Promise<void> {
  const original = await readObject(originalKey(imageId));
  for (const job of planRenderJobs(imageId, settings)) {
    const specs = settings.variants.filter((variant) => job.variants.includes(variant.name));
    const rendered = await renderVariants(original, specs, {
      maxInputPixels: settings.maxInputPixels,
      variantSet: settings.variants,
    });
    for (const object of rendered.objects) {
      const spec = specs.find((variant) => variant.name === object.variant);
      if (!spec) throw new RangeError(`rendered ${object.variant}, which the job did not ask for`);
      const key = derivativeKey(imageId, spec, object.format, object.page);
      expect(sha256(await readObject(key)), key).toBe(sha256(object.bytes));
    }
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A small number from a string, stable across runs: which events to deliver twice, the load's order. */
function digit(text: string): number {
  return (createHash('sha256').update(text).digest()[0] as number) % 16;
}
