import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoMaintenanceCatalog } from '../../lambdas/adapters/aws/dynamo-maintenance-catalog.js';
import type { SettingsInput } from '../../lambdas/core/settings.js';
import type { UploadRecord } from '../../lambdas/ports/catalog.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { twinEnvironment } from '../../local/twin/index.js';
import { makeImage } from './images.js';
import { firstSeed } from './isolation.js';
import { aperture } from './operations.js';

const REPOSITORY = resolve(import.meta.dirname, '../..');

/** A local runtime of the test file's own (the bulk commands work through its API), and its catalog. */
export interface BulkWorld {
  pipeline: LocalPipeline;
  dataDir: string;
  /** `aperture …` in this process, against this runtime. */
  aperture(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }>;
  /** Every upload record the catalog holds for `owner`. */
  uploadsOf(owner: string): Promise<UploadRecord[]>;
  /** A scratch directory, removed after the file's tests. */
  tempDir(): Promise<string>;
}

export function bulkWorldForFile(settings?: SettingsInput): () => BulkWorld {
  let world: BulkWorld | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'aperture-bulk-'));
    dirs.push(dataDir);
    const pipeline = await startLocalPipeline({
      dataDir,
      apiPort: 0,
      cdnPort: 0,
      workers: 1,
      ...(settings ? { settings } : {}),
    });
    const catalog = new DynamoMaintenanceCatalog(
      createAwsClients(twinEnvironment(pipeline.twin)).dynamo,
      pipeline.twin.resources.table,
    );
    world = {
      pipeline,
      dataDir,
      aperture: (args) => aperture(args, { APERTURE_DATA_DIR: dataDir }),
      async uploadsOf(owner) {
        const uploads: UploadRecord[] = [];
        let cursor: string | undefined;
        do {
          const page = await catalog.scanCatalog(cursor);
          for (const entry of page.items) {
            if (entry.kind === 'upload' && entry.upload.owner === owner) uploads.push(entry.upload);
          }
          cursor = page.cursor;
        } while (cursor);
        return uploads;
      },
      async tempDir() {
        const dir = await mkdtemp(join(tmpdir(), 'aperture-bulk-tree-'));
        dirs.push(dir);
        return dir;
      },
    };
  }, 120_000);
  afterAll(async () => {
    await world?.pipeline.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }, 60_000);
  return () => {
    if (!world) throw new Error('the bulk world starts before the tests');
    return world;
  };
}

/** What a generated library holds, by what the bulk ingest should make of it. */
export interface GeneratedTree {
  /** Distinct images (each one upload). */
  images: number;
  /** Further copies of some of those images, elsewhere in the tree. */
  copies: number;
  /** Files that are not images whatever their names say. */
  notImages: number;
  /** Files that cannot be read. */
  unreadable: number;
}

/**
 * Writes a library of `images` small distinct images (JPEG, PNG, WebP in turn) nested a few folders
 * deep, with `copies` of some of them elsewhere, and, with `awkward`, files that are not images
 * under image names (text, HTML, nothing at all) and a link to nowhere.
 */
export async function writeTree(
  root: string,
  options: { images: number; copies?: number; awkward?: boolean },
): Promise<GeneratedTree> {
  const formats = ['jpeg', 'png', 'webp'] as const;
  // Every tree's images are its own: trees written into one runtime never share an image.
  const seed = firstSeed();
  const paths: string[] = [];
  for (let i = 0; i < options.images; i++) {
    const format = formats[i % formats.length] ?? 'jpeg';
    const path = join(
      root,
      `year-${2020 + (i % 3)}`,
      `album-${i % 4}`,
      `photo-${i}.${format === 'jpeg' ? 'jpg' : format}`,
    );
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await makeImage(format, { seed: seed + i }));
    paths.push(path);
  }
  const copies = options.copies ?? 0;
  for (let i = 0; i < copies; i++) {
    const source = paths[(i * 7) % paths.length] as string;
    const path = join(root, 'backup', `copy-${i}${source.slice(source.lastIndexOf('.'))}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await readFile(source));
  }
  if (!options.awkward) return { images: options.images, copies, notImages: 0, unreadable: 0 };
  await mkdir(join(root, 'misc', 'deeper'), { recursive: true });
  await writeFile(join(root, 'misc', 'notes.jpg'), 'shopping list: milk, eggs\n');
  await writeFile(join(root, 'misc', 'deeper', 'page.png'), '<!doctype html><html><body>hi</body></html>');
  await writeFile(join(root, 'misc', 'empty.webp'), '');
  await symlink(join(root, 'misc', 'moved-away.jpg'), join(root, 'misc', 'broken-link.jpg'));
  return { images: options.images, copies, notImages: 3, unreadable: 1 };
}

/** `aperture …` as its own process (`bin/aperture-cli.ts` under tsx), for tests that kill it. */
export function apertureProcess(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'bin/aperture-cli.ts', ...args], {
    cwd: REPOSITORY,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
}
