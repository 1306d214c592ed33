import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { ENV } from '../../lambdas/contract.js';
import { ConflictError } from '../../lambdas/core/errors.js';
import { INPUT_FORMATS, type InputFormat } from '../../lambdas/core/formats.js';
import { originalKey, uploadKey } from '../../lambdas/core/keys.js';
import type { RejectionReason } from '../../lambdas/core/rejections.js';
import { type RenderJob, WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { parseSettings, type SettingsInput } from '../../lambdas/core/settings.js';
import { sniff } from '../../lambdas/core/sniff.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { variantSetVersion } from '../../lambdas/core/variants.js';
import {
  createIngestHandler,
  decodeS3Key,
  ingestDependenciesFromEnvironment,
} from '../../lambdas/handlers/ingest.js';
import type { ObjectStore } from '../../lambdas/ports/object-store.js';
import type { WorkQueue } from '../../lambdas/ports/work-queue.js';
import type { IngestOutcome } from '../../lambdas/services/ingest-upload.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { ensureWorkQueue } from '../../local/twin/provision.js';
import { CORPUS_DIR, CORPUS_MANIFEST, type CorpusEntry, readCorpusManifest } from '../support/corpus.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
let seed = firstSeed();
/** Every call makes bytes no other test has used, so tests never see each other's images. */
const freshImage = (format: InputFormat = 'jpeg', size?: { width: number; height: number }) =>
  makeImage(format, { seed: seed++, ...size });
const ownerA = uniqueOwner('owner-a');
const ownerB = uniqueOwner('owner-b');

describe('ingest against the local twin', () => {
  const info = twinInfo();
  const clients = createAwsClients(twinEnv());
  const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
  let queueUrls: Record<string, string>;

  beforeAll(async () => {
    // Private queues, so reading this file's jobs never hides another file's messages.
    const run = Date.now().toString(36);
    const entries = await Promise.all(
      WORK_LANES.map(async (lane) => [
        lane,
        (await ensureWorkQueue(clients.sqs, `ingest-${run}-${lane}`, 60)).url,
      ]),
    );
    queueUrls = Object.fromEntries(entries);
  });

  function ingester(
    settings: SettingsInput = {},
    overrides: { queue?: WorkQueue; store?: ObjectStore } = {},
  ) {
    const env = {
      ...twinFunctionEnvironment(info, parseSettings(settings), 'https://cdn.example'),
      ...Object.fromEntries(WORK_LANES.map((lane) => [ENV.queueUrl(lane), queueUrls[lane]])),
    };
    const deps = { ...ingestDependenciesFromEnvironment(env), ...overrides };
    const handler = createIngestHandler(deps);
    return async (key: string, size: number): Promise<IngestOutcome> => {
      const event = objectCreatedEvent({ bucket: info.resources.uploadBucket, key, size });
      const [outcome] = await handler(event, lambdaContext('aperture-ingest'));
      return outcome as IngestOutcome;
    };
  }

  const upload = (bytes: Buffer, options: Parameters<typeof seedUpload>[2] = {}) =>
    seedUpload({ catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket }, bytes, {
      owner: ownerA,
      ...options,
    });

  async function exists(bucket: string, key: string): Promise<boolean> {
    try {
      await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  async function originalsOf(imageId: string): Promise<string[]> {
    const { Contents = [] } = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: info.resources.imageBucket, Prefix: originalKey(imageId) }),
    );
    return Contents.map((o) => o.Key ?? '');
  }

  async function linksTo(imageId: string, owners: string[]): Promise<number> {
    const found = await Promise.all(owners.map((owner) => catalog.findLink(owner, imageId)));
    return found.filter(Boolean).length;
  }

  /** Takes every queued job for an image off this file's queues. */
  async function takeJobs(imageId: string): Promise<RenderJob[]> {
    const jobs: RenderJob[] = [];
    for (const lane of WORK_LANES) {
      for (;;) {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrls[lane],
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const job = JSON.parse(message.Body ?? '{}') as RenderJob;
          if (job.imageId !== imageId) continue;
          jobs.push(job);
          await clients.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrls[lane], ReceiptHandle: message.ReceiptHandle }),
          );
        }
      }
    }
    return jobs;
  }

  it.each(Object.keys(INPUT_FORMATS) as InputFormat[])(
    'turns a new %s into an image record, a stored original and one job per lane',
    async (format) => {
      const bytes = await freshImage(format, { width: 80, height: 60 });
      const sent = await upload(bytes, { contentType: INPUT_FORMATS[format], collection: 'c' });
      const outcome = await ingester()(sent.key, sent.size);
      const imageId = sha256(bytes);
      expect(outcome).toEqual({ outcome: 'created', uploadId: sent.uploadId, imageId });

      const image = await catalog.getImage(imageId);
      expect(image).toMatchObject({
        imageId,
        format,
        contentType: INPUT_FORMATS[format],
        width: 80,
        height: 60,
        pages: 1,
        bytes: bytes.length,
        status: 'processing',
        refCount: 1,
        createdByUpload: sent.uploadId,
        variantSetVersion: variantSetVersion(parseSettings().variants),
        variants: { thumb: 'pending', small: 'pending', medium: 'pending', large: 'pending' },
      });
      expect(image?.jobsQueuedAt).toBeInstanceOf(Date);
      expect(await catalog.getUpload(sent.uploadId)).toMatchObject({ state: 'accepted', imageId });
      expect(await linksTo(imageId, [ownerA])).toBe(1);

      expect(await originalsOf(imageId)).toEqual([originalKey(imageId)]);
      expect(await exists(info.resources.uploadBucket, sent.key)).toBe(false);

      const jobs = await takeJobs(imageId);
      expect(jobs.map((j) => [j.lane, j.variants])).toEqual(
        expect.arrayContaining([
          ['thumbnails', ['thumb']],
          ['variants', ['small', 'medium', 'large']],
        ]),
      );
      expect(jobs).toHaveLength(2);
      for (const job of jobs) {
        expect(job).toEqual({
          imageId,
          originalKey: originalKey(imageId),
          lane: job.lane,
          variantSetVersion: image?.variantSetVersion,
          variants: job.variants,
        });
      }
    },
  );

  it('stores the same bytes once: a repeat by the owner adds nothing, another owner adds a link', async () => {
    const bytes = await freshImage();
    const imageId = sha256(bytes);
    const ingest = ingester();
    const first = await upload(bytes, { owner: ownerA });
    const again = await upload(bytes, { owner: ownerA });
    const other = await upload(bytes, { owner: ownerB });

    expect((await ingest(first.key, first.size)).outcome).toBe('created');
    expect(await ingest(again.key, again.size)).toEqual({
      outcome: 'linked',
      uploadId: again.uploadId,
      imageId,
    });
    expect(await ingest(other.key, other.size)).toEqual({
      outcome: 'linked',
      uploadId: other.uploadId,
      imageId,
    });

    expect((await catalog.getImage(imageId))?.refCount).toBe(2);
    expect(await linksTo(imageId, [ownerA, ownerB])).toBe(2);
    expect(await catalog.getUpload(again.uploadId)).toMatchObject({ state: 'accepted', imageId });
    expect(await originalsOf(imageId)).toHaveLength(1);
    expect(await takeJobs(imageId)).toHaveLength(2);
    for (const sent of [first, again, other]) {
      expect(await exists(info.resources.uploadBucket, sent.key)).toBe(false);
    }
  });

  it('ends 20 concurrent uploads of one image by 20 owners as one image, 20 links and one set of jobs', async () => {
    const bytes = await freshImage('png');
    const imageId = sha256(bytes);
    const owners = Array.from({ length: 20 }, (_, i) => uniqueOwner(`racer-${i}`));
    const sent = await Promise.all(owners.map((owner) => upload(bytes, { owner, contentType: 'image/png' })));
    const ingest = ingester();
    const outcomes = await Promise.all(sent.map((s) => ingest(s.key, s.size)));

    expect(outcomes.filter((o) => o.outcome === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'linked')).toHaveLength(19);
    expect((await catalog.getImage(imageId))?.refCount).toBe(20);
    expect(await linksTo(imageId, owners)).toBe(20);
    expect(await originalsOf(imageId)).toHaveLength(1);
    expect(await takeJobs(imageId)).toHaveLength(2);
  });

  it('changes nothing when the same event arrives twice, or twice at once', async () => {
    const bytes = await freshImage();
    const imageId = sha256(bytes);
    const ingest = ingester();
    const sent = await upload(bytes);
    await ingest(sent.key, sent.size);
    const replay = await ingest(sent.key, sent.size);
    expect(replay).toEqual({ outcome: 'already_decided', uploadId: sent.uploadId, imageId });

    const other = await upload(bytes, { owner: ownerB });
    const both = await Promise.all([ingest(other.key, other.size), ingest(other.key, other.size)]);
    expect(both.map((o) => o.outcome).sort()).toEqual(['already_decided', 'linked']);

    expect((await catalog.getImage(imageId))?.refCount).toBe(2);
    expect(await linksTo(imageId, [ownerA, ownerB])).toBe(2);
    expect(await takeJobs(imageId)).toHaveLength(2);
  });

  it('repairs a crash between recording the image and queueing its jobs on the retry', async () => {
    const bytes = await freshImage();
    const imageId = sha256(bytes);
    const sent = await upload(bytes);
    const failingQueue: WorkQueue = {
      enqueue: async () => {
        throw new Error('simulated crash before the jobs were sent');
      },
    };
    await expect(ingester({}, { queue: failingQueue })(sent.key, sent.size)).rejects.toThrow(
      'simulated crash',
    );
    expect((await catalog.getImage(imageId))?.jobsQueuedAt).toBeUndefined();
    expect(await takeJobs(imageId)).toHaveLength(0);

    const retry = await ingester()(sent.key, sent.size);
    expect(retry).toEqual({ outcome: 'already_decided', uploadId: sent.uploadId, imageId });
    expect(await takeJobs(imageId)).toHaveLength(2);
    expect((await catalog.getImage(imageId))?.jobsQueuedAt).toBeInstanceOf(Date);
    expect(await exists(info.resources.uploadBucket, sent.key)).toBe(false);
  });

  describe('rejects bad uploads with a reason and keeps nothing', () => {
    const truncate = async () => {
      const jpeg = await freshImage('jpeg', { width: 400, height: 300 });
      return jpeg.subarray(0, Math.floor(jpeg.length / 2));
    };
    const cases: Array<
      [string, () => Promise<Buffer>, { contentType?: string; sha256?: string }, SettingsInput, string]
    > = [
      ['a zero-byte file', async () => Buffer.alloc(0), {}, {}, 'empty'],
      ['a truncated JPEG', truncate, {}, {}, 'truncated'],
      [
        'a JPEG header over noise',
        async () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]),
        {},
        {},
        'undecodable',
      ],
      [
        'an image over the pixel limit',
        () => freshImage('png', { width: 200, height: 200 }),
        { contentType: 'image/png' },
        { maxInputPixels: 10_000 },
        'too_many_pixels',
      ],
      [
        'an SVG with a script',
        async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        {},
        {},
        'markup_not_allowed',
      ],
      [
        'HTML named as a JPEG',
        async () => Buffer.from('\n  <!doctype html><html><body>hi</body></html>'),
        {},
        {},
        'markup_not_allowed',
      ],
      [
        'a HEIC header with no image behind it',
        async () =>
          Buffer.concat([
            Buffer.from([0, 0, 0, 24]),
            Buffer.from('ftypheic\0\0\0\0mif1heic'),
            Buffer.alloc(100),
          ]),
        { contentType: 'image/heic' },
        {},
        'undecodable',
      ],
      ['plain text', async () => Buffer.from('just some text'), {}, {}, 'unrecognised_format'],
      [
        'a PNG declared as a JPEG',
        () => freshImage('png'),
        { contentType: 'image/jpeg' },
        {},
        'content_type_mismatch',
      ],
      [
        'a GIF where GIFs are not allowed',
        () => freshImage('gif'),
        { contentType: 'image/gif' },
        { allowedFormats: ['jpeg', 'png'] },
        'format_not_allowed',
      ],
      [
        'bytes that do not match the declared SHA-256',
        () => freshImage(),
        { sha256: 'a'.repeat(64) },
        {},
        'checksum_mismatch',
      ],
      [
        'a file over the byte limit',
        () => freshImage('jpeg', { width: 300, height: 300 }),
        {},
        { maxUploadBytes: 500 },
        'too_large',
      ],
    ];

    it.each(cases)('%s', async (_, makeBytes, declared, settings, reason) => {
      const bytes = await makeBytes();
      const sent = await upload(bytes, declared);
      const outcome = await ingester(settings)(sent.key, sent.size);
      expect(outcome).toMatchObject({ outcome: 'rejected', uploadId: sent.uploadId, rejection: { reason } });
      const record = await catalog.getUpload(sent.uploadId);
      expect(record).toMatchObject({ state: 'rejected', rejection: { reason, message: expect.any(String) } });
      expect(await exists(info.resources.uploadBucket, sent.key)).toBe(false);
      expect(await catalog.getImage(sha256(bytes))).toBeUndefined();
      expect(await originalsOf(sha256(bytes))).toEqual([]);
      expect(await takeJobs(sha256(bytes))).toEqual([]);

      // A replay of a rejected upload stays rejected and queues nothing.
      expect((await ingester(settings)(sent.key, sent.size)).outcome).toBe('already_decided');
    });
  });

  describe('binds the stored original to the bytes it judged', () => {
    const uploads = info.resources.uploadBucket;
    const putUpload = (key: string, bytes: Buffer) =>
      clients.s3.send(new PutObjectCommand({ Bucket: uploads, Key: key, Body: bytes }));
    const storedOriginal = async (imageId: string) => {
      const { Body } = await clients.s3.send(
        new GetObjectCommand({ Bucket: info.resources.imageBucket, Key: originalKey(imageId) }),
      );
      return Buffer.from((await Body?.transformToByteArray()) ?? []);
    };
    /** Two images of one size, as a client would send them to one grant. */
    const twoOfOneSize = async () => {
      const judged = await freshImage('png', { width: 40, height: 30 });
      const other = Buffer.from(judged);
      other[other.length - 20] = (other[other.length - 20] ?? 0) ^ 0xff;
      return { judged, other };
    };

    it('stores the judged bytes when the grant is used again while ingest works', async () => {
      const { judged, other } = await twoOfOneSize();
      const sent = await upload(judged, { contentType: 'image/png' });
      // The second use of the grant lands right after ingest has read the first.
      const store = new (class extends S3ObjectStore {
        override async readUpload(key: string) {
          const body = await super.readUpload(key);
          const chunks: Uint8Array[] = [];
          for await (const chunk of body ?? []) chunks.push(chunk);
          await putUpload(key, other);
          return (
            body &&
            (async function* () {
              yield* chunks;
            })()
          );
        }
      })(clients.s3, { uploads, images: info.resources.imageBucket });

      const imageId = sha256(judged);
      expect(await ingester({}, { store })(sent.key, sent.size)).toEqual({
        outcome: 'created',
        uploadId: sent.uploadId,
        imageId,
      });
      expect(sha256(await storedOriginal(imageId))).toBe(imageId);
      expect(await takeJobs(imageId)).toHaveLength(2);
    });

    it('tells S3 the SHA-256 to check the original against (s3rver ignores it; S3 refuses a mismatch)', async () => {
      const bytes = await freshImage();
      const sent = await upload(bytes);
      const checksums: string[] = [];
      const s3 = createAwsClients(twinEnv()).s3;
      s3.middlewareStack.add(
        (next) => async (args) => {
          const { headers } = args.request as { headers: Record<string, string> };
          if (headers['x-amz-checksum-sha256']) checksums.push(headers['x-amz-checksum-sha256']);
          return next(args);
        },
        { step: 'finalizeRequest' },
      );
      const store = new S3ObjectStore(s3, { uploads, images: info.resources.imageBucket });
      expect((await ingester({}, { store })(sent.key, sent.size)).outcome).toBe('created');
      expect(checksums).toEqual([createHash('sha256').update(bytes).digest('base64')]);
      await takeJobs(sha256(bytes));
    });

    it('treats a grant as single-use: bytes sent after the decision are removed and change nothing', async () => {
      const { judged, other } = await twoOfOneSize();
      const sent = await upload(judged, { contentType: 'image/png' });
      const ingest = ingester();
      const imageId = sha256(judged);
      expect((await ingest(sent.key, sent.size)).outcome).toBe('created');
      const decided = await catalog.getImage(imageId);
      await takeJobs(imageId);

      await putUpload(sent.key, other);
      expect(await ingest(sent.key, other.length)).toEqual({
        outcome: 'already_decided',
        uploadId: sent.uploadId,
        imageId,
      });
      expect(await exists(uploads, sent.key)).toBe(false);
      expect(await storedOriginal(imageId)).toEqual(judged);
      expect(await catalog.getImage(imageId)).toEqual(decided);
      expect(await catalog.getImage(sha256(other))).toBeUndefined();
      expect(await takeJobs(imageId)).toEqual([]);
    });

    it('lets a redelivery store the original only from the judged bytes, never from what replaced them', async () => {
      const { judged, other } = await twoOfOneSize();
      const sent = await upload(judged, { contentType: 'image/png' });
      const imageId = sha256(judged);
      // The first delivery elects the upload, then stops before the original is stored.
      const crashing = new (class extends S3ObjectStore {
        override async storeOriginal(): Promise<void> {
          throw new Error('the function was stopped');
        }
      })(clients.s3, { uploads, images: info.resources.imageBucket });
      await expect(ingester({}, { store: crashing })(sent.key, sent.size)).rejects.toThrow('stopped');
      expect(await catalog.getUpload(sent.uploadId)).toMatchObject({ state: 'accepted', imageId });

      // The grant is used again before the redelivery: it stores nothing, and removes those bytes.
      await putUpload(sent.key, other);
      await expect(ingester()(sent.key, other.length)).rejects.toThrow(ConflictError);
      expect(await originalsOf(imageId)).toEqual([]);
      expect(await exists(uploads, sent.key)).toBe(false);
      expect(await takeJobs(imageId)).toEqual([]);

      // The judged bytes sent again complete the image.
      await putUpload(sent.key, judged);
      expect((await ingester()(sent.key, judged.length)).outcome).toBe('already_decided');
      expect(await storedOriginal(imageId)).toEqual(judged);
      expect(await takeJobs(imageId)).toHaveLength(2);
    });
  });

  it('deletes bytes that arrive under uploads/ without a grant, and ignores other keys', async () => {
    const key = uploadKey(newUploadId());
    const bytes = await freshImage();
    await clients.s3.send(
      new PutObjectCommand({ Bucket: info.resources.uploadBucket, Key: key, Body: bytes }),
    );
    expect(await ingester()(key, bytes.length)).toMatchObject({
      outcome: 'rejected',
      rejection: { reason: 'no_upload_record' },
    });
    expect(await exists(info.resources.uploadBucket, key)).toBe(false);
    expect(await ingester()('uploads/../originals/x', 10)).toEqual({
      outcome: 'ignored',
      why: 'not_an_upload_key',
    });
  });

  it('decodes keys the way S3 encodes them', () => {
    expect(decodeS3Key('uploads/a+b%2Bc%3D')).toBe('uploads/a b+c=');
    const event = objectCreatedEvent({ bucket: 'b', key: 'uploads/a b+c=', size: 1 });
    expect(decodeS3Key(event.Records[0]?.s3.object.key ?? '')).toBe('uploads/a b+c=');
  });

  it('never lets one owner see links of another through the catalog', async () => {
    const bytes = await freshImage();
    const sent = await upload(bytes, { owner: uniqueOwner('private-owner') });
    await ingester()(sent.key, sent.size);
    const { Items = [] } = await clients.dynamo.send(
      new QueryCommand({
        TableName: info.resources.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': catalogKeys.link('someone-else', '').pk },
      }),
    );
    expect(Items.filter((item) => item.imageId === sha256(bytes))).toEqual([]);
  });
});

/**
 * What ingest must make of a corpus file, from its manifest row: a format it takes that sharp decoded
 * becomes an image; anything else is rejected, for the reasons the row allows. Ingest decodes failing
 * on errors only, as the renderer does, where the manifest's sharp failed on warnings as well: a file
 * refused there for a warning is an image here.
 */
function expectedIngest(
  entry: CorpusEntry,
  maxInputPixels: number,
): { outcome: 'created' } | { outcome: 'rejected'; reasons: RejectionReason[] } {
  const rejected = (...reasons: RejectionReason[]) => ({ outcome: 'rejected' as const, reasons });
  if (entry.format === 'svg') return rejected('markup_not_allowed');
  if (!(entry.format in INPUT_FORMATS)) return rejected('unrecognised_format');
  if (entry.pixels > maxInputPixels) return rejected('too_many_pixels');
  // The manifest's sharp has no HEVC decoder; ingest's libheif decodes every corpus HEIC.
  if (entry.format === 'heic') return { outcome: 'created' };
  if (entry.sharpResult.startsWith('ok') || entry.sharpResult.startsWith('ERROR: Warning treated as error')) {
    return { outcome: 'created' };
  }
  // The manifest's message comes from a full decode, ingest's from a header read and a small one.
  return rejected('truncated', 'undecodable');
}

const manifest = readCorpusManifest();

describe('ingest over ../shared/corpus', () => {
  if (!manifest) {
    it.skip(`holds each corpus file to its MANIFEST.tsv row: no ${CORPUS_MANIFEST} on this machine`, () => {});
    return;
  }
  const settings = parseSettings();
  const owner = uniqueOwner('corpus');

  it('has a manifest row for every file', () => {
    const files = readdirSync(CORPUS_DIR).filter((name) => name !== 'MANIFEST.tsv');
    expect(manifest.map((entry) => entry.file).sort()).toEqual(files.sort());
  });

  it.each(manifest.map((entry) => [entry.file, entry] as const))(
    '%s: the outcome its manifest row gives',
    async (name, entry) => {
      const bytes = readFileSync(join(CORPUS_DIR, name));
      const info = twinInfo();
      const clients = createAwsClients(twinEnv());
      const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
      const sniffed = sniff(bytes.subarray(0, 64));
      const contentType = sniffed.kind === 'image' ? INPUT_FORMATS[sniffed.format] : 'image/jpeg';
      const { key } = await seedUpload(
        { catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket },
        bytes,
        {
          owner,
          contentType,
          filename: name,
        },
      );
      const handler = createIngestHandler(
        ingestDependenciesFromEnvironment(twinFunctionEnvironment(info, settings, 'https://cdn.example')),
      );
      const [outcome] = await handler(
        objectCreatedEvent({ bucket: info.resources.uploadBucket, key, size: bytes.length }),
        lambdaContext('aperture-ingest'),
      );
      const expected = expectedIngest(entry, settings.maxInputPixels);
      if (expected.outcome === 'created') {
        expect(outcome).toMatchObject({ outcome: 'created', imageId: sha256(bytes) });
        expect((await catalog.getImage(sha256(bytes)))?.format).toBe(entry.format);
        return;
      }
      expect(outcome).toMatchObject({
        outcome: 'rejected',
        rejection: { reason: expect.toBeOneOf(expected.reasons), message: expect.stringMatching(/\w/) },
      });
    },
  );
});
