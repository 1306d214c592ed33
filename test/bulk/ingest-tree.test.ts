import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { IngestReport } from '../../cli/bulk/ingest-tree.js';
import { ApiClient } from '../support/api-client.js';
import { apertureProcess, bulkWorldForFile, writeTree } from '../support/bulk.js';

const world = bulkWorldForFile();

type IngestJson = IngestReport & { checkpoint?: string };

async function ingest(
  args: readonly string[],
): Promise<{ status: number; report: IngestJson; stderr: string }> {
  const run = await world().aperture(['ingest', ...args, '--local', '--json']);
  return { status: run.status, report: JSON.parse(run.stdout || '{}') as IngestJson, stderr: run.stderr };
}

/** The owner's images as the API lists them. */
async function libraryOf(owner: string, collection?: string): Promise<string[]> {
  const client = await ApiClient.forOwner(world().pipeline.apiUrl, owner);
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({
      limit: '100',
      ...(collection ? { collection } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const { body } = await client.call('GET', `/v1/images?${query}`);
    ids.push(...(body.items as { imageId: string }[]).map((item) => item.imageId));
    cursor = body.cursor as string | undefined;
  } while (cursor);
  return ids.sort();
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('aperture ingest DIR', () => {
  it('brings a library in: new, duplicate, rejected and failed files counted, failures listed, exit 1', async () => {
    const root = await world().tempDir();
    const tree = await writeTree(root, { images: 12, copies: 4, awkward: true });
    const checkpoint = join(await world().tempDir(), 'run.sqlite');

    const oldDisk = [root, '--owner', 'ana', '--checkpoint', checkpoint, '--collection', 'old-disk'];
    const first = await ingest(oldDisk);
    expect(first.status, first.stderr).toBe(1);
    expect(first.report.counts).toEqual({
      new: tree.images,
      duplicate: tree.copies,
      rejected: tree.notImages,
      failed: tree.unreadable,
      unchanged: 0,
    });
    expect(first.report.rejected).toEqual({ unrecognised_format: 1, markup_not_allowed: 1, empty: 1 });
    expect(first.report.failures).toEqual([
      expect.objectContaining({ path: 'misc/broken-link.jpg', reason: 'ENOENT' }),
    ]);
    expect(first.report.total).toBe(tree.images + tree.copies + tree.notImages + tree.unreadable);

    // The pipeline has exactly the distinct images, in the collection, each from one upload.
    const expected = await Promise.all(
      [...Array(tree.images).keys()].map(async (i) => {
        const format = ['jpg', 'png', 'webp'][i % 3];
        return sha256(
          await readFile(join(root, `year-${2020 + (i % 3)}`, `album-${i % 4}`, `photo-${i}.${format}`)),
        );
      }),
    );
    expect(await libraryOf('ana', 'old-disk')).toEqual([...expected].sort());
    const uploads = await world().uploadsOf('ana');
    expect(uploads).toHaveLength(tree.images);
    expect(uploads.every((upload) => upload.state === 'accepted')).toBe(true);

    // A second run finds everything done and sends nothing; the broken file fails again.
    const second = await ingest(oldDisk);
    expect(second.status).toBe(1);
    expect(second.report.counts).toEqual({
      new: 0,
      duplicate: 0,
      rejected: 0,
      failed: tree.unreadable,
      unchanged: tree.images + tree.copies + tree.notImages,
    });
    expect(second.report.bytesUploaded).toBe(0);
    expect(await world().uploadsOf('ana')).toHaveLength(tree.images);
  });

  it('skips bytes the owner already has through the presign pre-check, even without a checkpoint', async () => {
    const root = await world().tempDir();
    const tree = await writeTree(root, { images: 6 });
    const scratch = await world().tempDir();
    const first = await ingest([root, '--owner', 'ben', '--checkpoint', join(scratch, 'a.sqlite')]);
    expect(first.report.counts.new).toBe(tree.images);

    const again = await ingest([root, '--owner', 'ben', '--checkpoint', join(scratch, 'b.sqlite')]);
    expect(again.status).toBe(0);
    expect(again.report.counts).toMatchObject({ new: 0, duplicate: tree.images });
    expect(again.report.bytesUploaded).toBe(0);
    expect(await world().uploadsOf('ben')).toHaveLength(tree.images);

    // Another owner's library is their own: the same bytes are new to them.
    const other = await ingest([root, '--owner', 'cy', '--checkpoint', join(scratch, 'c.sqlite')]);
    expect(other.report.counts).toMatchObject({ new: tree.images, duplicate: 0 });
  });

  it('keeps a checkpoint to the owner and the collection it was made for', async () => {
    const root = await world().tempDir();
    const tree = await writeTree(root, { images: 3 });
    const scratch = await world().tempDir();
    const checkpoint = join(scratch, 'hal.sqlite');
    const first = await ingest([root, '--owner', 'hal', '--checkpoint', checkpoint]);
    expect(first.report.counts.new).toBe(tree.images);

    // Another owner on the same checkpoint would find every file done and send nothing: refused.
    const other = await ingest([root, '--owner', 'ivy', '--checkpoint', checkpoint]);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`the checkpoint ${checkpoint} is for owner hal, not ivy`);
    expect(await world().uploadsOf('ivy')).toEqual([]);
    const own = await ingest([root, '--owner', 'ivy', '--checkpoint', join(scratch, 'ivy.sqlite')]);
    expect(own.report.counts).toMatchObject({ new: tree.images, unchanged: 0 });
    expect(await libraryOf('ivy')).toEqual(await libraryOf('hal'));

    // So would the same owner bringing the files into a collection.
    const trip = await ingest([root, '--owner', 'hal', '--checkpoint', checkpoint, '--collection', 'trip']);
    expect(trip.status).toBe(1);
    expect(trip.stderr).toContain('is for collection (none), not trip');
    expect(await libraryOf('hal', 'trip')).toEqual([]);
  });

  it('--dry-run says what would happen and uploads and records nothing', async () => {
    const root = await world().tempDir();
    const tree = await writeTree(root, { images: 5, copies: 2, awkward: true });
    const checkpoint = join(await world().tempDir(), 'dry.sqlite');
    const dry = await ingest([root, '--owner', 'dee', '--checkpoint', checkpoint, '--dry-run']);
    expect(dry.report.counts).toEqual({
      new: tree.images,
      duplicate: tree.copies,
      rejected: tree.notImages,
      failed: tree.unreadable,
      unchanged: 0,
    });
    expect(dry.report.checkpoint).toBeUndefined();
    expect(await world().uploadsOf('dee')).toEqual([]);
    await expect(readFile(checkpoint)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a checkpoint made for another directory, and a wrong command line, with usage errors', async () => {
    const scratch = await world().tempDir();
    const [one, two] = [await world().tempDir(), await world().tempDir()];
    const checkpoint = join(scratch, 'shared.sqlite');
    expect((await ingest([one, '--owner', 'eve', '--checkpoint', checkpoint])).status).toBe(0);
    const other = await world().aperture([
      'ingest',
      two,
      '--local',
      '--owner',
      'eve',
      '--checkpoint',
      checkpoint,
    ]);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`is for root ${one}`);

    for (const [args, message] of [
      [['ingest', '--local'], 'ingest takes one directory'],
      [['ingest', join(scratch, 'missing'), '--local'], 'no such directory'],
      [['ingest', one, '--local', '--concurrency', '0'], '--concurrency takes a whole number'],
      [['ingest', one, '--owner', 'x', '--api-url', 'http://127.0.0.1:1'], '--owner names a local identity'],
      [['ingest', one], 'say which API'],
    ] as const) {
      const run = await world().aperture(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });

  it('carries on after being killed half-way, and sends no file twice', async () => {
    const root = await world().tempDir();
    const tree = await writeTree(root, { images: 90, copies: 10 });
    const checkpoint = join(await world().tempDir(), 'killed.sqlite');
    const args = [
      'ingest',
      root,
      '--local',
      '--owner',
      'fay',
      '--checkpoint',
      checkpoint,
      '--concurrency',
      '4',
    ];

    const child = apertureProcess(args, { APERTURE_DATA_DIR: world().dataDir });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Kill it once a third of the files are done, as a power cut would: no chance to clean up.
    const doneAtKill = await waitForDone(checkpoint, 30, exited);
    child.kill('SIGKILL');
    await exited;
    expect(doneAtKill).toBeLessThan(tree.images + tree.copies);

    const resumed = await ingest(args.slice(1).filter((arg) => arg !== '--local'));
    expect(resumed.status, resumed.stderr).toBe(0);
    const { counts } = resumed.report;
    expect(counts.failed).toBe(0);
    expect(counts.unchanged).toBeGreaterThanOrEqual(doneAtKill);
    expect(counts.new + counts.duplicate + counts.unchanged).toBe(tree.images + tree.copies);

    // Every image arrived once: one accepted upload each (a grant cut off before its bytes went
    // would stay pending, never accepted), and the library holds exactly the distinct images.
    const accepted = (await world().uploadsOf('fay')).filter((upload) => upload.state === 'accepted');
    expect(accepted).toHaveLength(tree.images);
    expect(new Set(accepted.map((upload) => upload.imageId)).size).toBe(tree.images);
    expect(await libraryOf('fay')).toHaveLength(tree.images);

    const db = new Database(checkpoint, { readonly: true });
    const states = db.prepare('SELECT state, count(*) AS n FROM files GROUP BY state').all();
    db.close();
    expect(states).toEqual(
      expect.arrayContaining([
        { state: 'new', n: tree.images },
        { state: 'duplicate', n: tree.copies },
      ]),
    );
  });
});

/** Polls the checkpoint another process writes until `count` files are done; resolves with how many were. */
async function waitForDone(checkpoint: string, count: number, exited: Promise<unknown>): Promise<number> {
  let finished = false;
  void exited.then(() => {
    finished = true;
  });
  for (;;) {
    if (finished) throw new Error('the ingest finished before it could be killed');
    const done = countDone(checkpoint);
    if (done >= count) return done;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function countDone(checkpoint: string): number {
  try {
    const db = new Database(checkpoint, { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare(`SELECT count(*) AS n FROM files WHERE state IN ('new', 'duplicate', 'rejected')`)
        .get() as { n: number };
      return row.n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}
