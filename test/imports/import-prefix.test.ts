import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lambdas/core/hashing.js';
import type { ImportBatchResult, ImportItemResult } from '../../lambdas/core/imports.js';
import { originalKey } from '../../lambdas/core/keys.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { forEachConcurrently } from '../../lambdas/services/bulk-reads.js';
import { twinImportEnvironment } from '../../local/twin/environment.js';
import { makeImage, makeJpeg } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { aperture, privateWorldForFile } from '../support/operations.js';
import { until } from '../support/until.js';

/**
 * The must-show of the server-side import, on a private twin: a library of 2,000 objects (hold-out
 * style: mostly new photos, some the same bytes under other keys, some not images at all) imported
 * from its own bucket through `aperture import`, run as the Distributed Map would run it, in this
 * process. The first run is killed mid-way (SIGKILL) and resumed; the counts are then exact. A second
 * import of the same prefix decides nothing and links nothing new. Renders are queued, not run here.
 */

const world = privateWorldForFile();
const settings = parseSettings();
const owner = uniqueOwner('library');
const SOURCE = 'library-source';
const PREFIX = 'library/';

const UNIQUE = 1_500;
const DUPLICATES = 300;
const NOT_IMAGES = 100;
const TRUNCATED = 60;
const EMPTY = 40;
const TOTAL = UNIQUE + DUPLICATES + NOT_IMAGES + TRUNCATED + EMPTY;

/** Key → the rejection reason it must get (the library's invalid objects). */
const invalid = new Map<string, string>();
/** The library's distinct contents, as image ids. */
const distinctImages = new Set<string>();

/** The operator's environment: the twin's, with the bulk queue the import's renders go to (nothing reads it here). */
const env = () => twinImportEnvironment(world().twin, settings, 'https://cdn.example');

async function put(key: string, body: Buffer): Promise<void> {
  await world().clients.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: key, Body: body }));
}

beforeAll(async () => {
  const { s3 } = world().clients;
  await s3.send(new CreateBucketCommand({ Bucket: SOURCE }));
  let seed = firstSeed();
  const photos = await Promise.all(
    Array.from({ length: UNIQUE }, (_, i) =>
      makeImage(i % 2 ? 'png' : 'jpeg', { width: 40, height: 30, seed: seed++ }),
    ),
  );
  const jpeg = await makeJpeg(400, 300);
  const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
  const objects: Array<[string, Buffer]> = [];
  photos.forEach((bytes, i) => {
    const key = `${PREFIX}photos/${String(i).padStart(5, '0')}.${i % 2 ? 'png' : 'jpg'}`;
    distinctImages.add(sha256Hex(bytes));
    objects.push([key, bytes]);
  });
  for (let i = 0; i < DUPLICATES; i++) {
    objects.push([`${PREFIX}copies/${String(i).padStart(5, '0')}.bin`, photos[(i * 7) % UNIQUE] as Buffer]);
  }
  const bad: Array<[string, Buffer, string, number]> = [
    ['notes', Buffer.from('not a photo, just some text'), 'unrecognised_format', NOT_IMAGES],
    ['cut', truncated, 'truncated', TRUNCATED],
    ['empty', Buffer.alloc(0), 'empty', EMPTY],
  ];
  for (const [name, bytes, reason, howMany] of bad) {
    for (let i = 0; i < howMany; i++) {
      const key = `${PREFIX}bad/${name}-${i}.jpg`;
      invalid.set(key, reason);
      objects.push([key, bytes]);
    }
  }
  // Outside the prefix: never listed, never imported.
  objects.push(['elsewhere/photo.jpg', photos[0] as Buffer]);
  await forEachConcurrently(objects, 32, ([key, bytes]) => put(key, bytes));
}, 300_000);

/** The results the import filed (its ResultWriter's SUCCEEDED file), one per object. */
async function filedResults(importId: string): Promise<ImportItemResult[]> {
  const { s3 } = world().clients;
  const { Body } = await s3.send(
    new GetObjectCommand({
      Bucket: world().twin.resources.imageBucket,
      Key: `imports/${importId}/results/SUCCEEDED_0.json`,
    }),
  );
  const batches = JSON.parse(
    await (Body as { transformToString(): Promise<string> }).transformToString(),
  ) as {
    Output: string;
  }[];
  return batches.flatMap((batch) => (JSON.parse(batch.Output) as ImportBatchResult).results);
}

async function ownersLinks(): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await world().catalog.listLinks(owner, { limit: 100, ...(cursor ? { cursor } : {}) });
    total += page.items.length;
    cursor = page.cursor;
  } while (cursor);
  return total;
}

async function filedBatches(importId: string): Promise<number> {
  const { KeyCount = 0 } = await world().clients.s3.send(
    new ListObjectsV2Command({
      Bucket: world().twin.resources.imageBucket,
      Prefix: `imports/${importId}/batches/`,
    }),
  );
  return KeyCount;
}

/** `aperture import …` as its own process, as an operator runs it; killed from outside. */
function importProcess(args: string[]) {
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
  return spawn(tsx, ['bin/aperture-cli.ts', ...args], {
    env: { ...process.env, ...env() },
    stdio: 'ignore',
  });
}

describe('aperture import s3://… over a library of 2,000 objects', () => {
  const source = `s3://${SOURCE}/${PREFIX}`;

  it('a run killed mid-way resumes, and the counts are exact: every object decided once', async () => {
    const child = importProcess(['import', source, '--owner', owner, '--id', 'first', '--concurrency', '2']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await until(
      async () => (await filedBatches('first')) >= 8,
      'eight batches filed by the first run',
      240_000,
    );
    child.kill('SIGKILL');
    await exited;

    const killed = await aperture(['import', 'status', 'first', '--json'], env());
    expect(killed.status).toBe(0);
    const interrupted = JSON.parse(killed.stdout);
    expect(interrupted.status).toBe('RUNNING');
    expect(interrupted.items.total).toBe(TOTAL);
    expect(interrupted.items.pending).toBeGreaterThan(0);

    const resumed = await aperture(['import', 'resume', 'first', '--json'], env());
    expect(resumed.status).toBe(0);
    const done = JSON.parse(resumed.stdout);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      items: { total: TOTAL, succeeded: TOTAL, failed: 0, pending: 0 },
      unchanged: 0,
    });
    expect(done.tally).toEqual({
      new: UNIQUE,
      duplicate: DUPLICATES,
      rejected: { unrecognised_format: NOT_IMAGES, truncated: TRUNCATED, empty: EMPTY },
    });

    // The library's distinct bytes are the owner's images, each once; the copies joined them.
    expect(await ownersLinks()).toBe(UNIQUE);
    const { s3 } = world().clients;
    const results = await filedResults('first');
    expect(results).toHaveLength(TOTAL);
    // Each distinct content became an image once (from whichever of its keys came first); every other
    // key with those bytes joined it.
    const imagesOf = (outcome: 'new' | 'duplicate') =>
      results.flatMap((result) => (result.outcome === outcome ? [result.imageId] : []));
    expect(new Set(imagesOf('new'))).toEqual(distinctImages);
    expect(imagesOf('new')).toHaveLength(UNIQUE);
    expect(imagesOf('duplicate').every((imageId) => distinctImages.has(imageId))).toBe(true);
    for (const imageId of imagesOf('new').slice(0, 5)) {
      const original = { Bucket: world().twin.resources.imageBucket, Key: originalKey(imageId) };
      await expect(s3.send(new HeadObjectCommand(original))).resolves.toBeDefined();
    }
    // The result files list every rejection with its key and reason.
    const rejections = new Map(
      results.flatMap((result) =>
        result.outcome === 'rejected' ? [[result.key, result.reason] as const] : [],
      ),
    );
    expect(rejections).toEqual(invalid);
    // The source bucket is only read: every object is still there, and nothing was added.
    let listed = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: SOURCE, ContinuationToken: token }));
      listed += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    expect(listed).toBe(TOTAL + 1);
  }, 900_000);

  it('a second import of the same prefix decides nothing and links nothing new', async () => {
    const again = await aperture(['import', source, '--owner', owner, '--id', 'second', '--json'], env());
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: 'SUCCEEDED',
      items: { total: TOTAL, succeeded: TOTAL },
      unchanged: TOTAL,
    });
    expect(JSON.parse(again.stdout).tally).toEqual({ new: 0, duplicate: 0, rejected: {} });
    expect(await ownersLinks()).toBe(UNIQUE);
    const results = await filedResults('second');
    const outcomes = new Set(results.map((result) => result.outcome));
    expect(outcomes).toEqual(new Set(['already_imported', 'rejected']));
    expect(results.filter((result) => result.outcome === 'rejected').every((result) => result.earlier)).toBe(
      true,
    );
  }, 900_000);

  it('refuses what it cannot import, with a clear message and nothing started', async () => {
    const wrong = await aperture(['import', 'https://example.com/x', '--owner', owner], env());
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('not an s3:// URI');
    const noOwner = await aperture(['import', source], env());
    expect(noOwner.status).toBe(2);
    expect(noOwner.stderr).toContain('--owner');
    const taken = await aperture(['import', source, '--owner', owner, '--id', 'first'], env());
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain('exists already');
    const unknown = await aperture(['import', 'status', 'never-started'], env());
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no import never-started');
  });
});
