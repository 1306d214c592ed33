import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { walkFiles } from '../../cli/bulk/file-tree.js';
import { CheckpointScopeError, IngestCheckpoint } from '../../cli/bulk/ingest-checkpoint.js';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aperture-walk-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function walked(root: string, skip?: (path: string) => boolean): Promise<string[]> {
  const paths: string[] = [];
  for await (const file of walkFiles(root, skip ? { skip } : {})) paths.push(file.path);
  return paths.sort();
}

describe('walkFiles', () => {
  it('finds every file under the root, linked files included, without following linked directories', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'a', 'b', 'c'), { recursive: true });
    await writeFile(join(root, 'top.jpg'), 'x');
    await writeFile(join(root, 'a', 'b', 'c', 'deep.png'), 'x');
    await symlink(join(root, 'top.jpg'), join(root, 'a', 'linked.jpg'));
    await symlink(join(root, 'gone.jpg'), join(root, 'a', 'broken.jpg'));
    // A cycle: followed, the walk would never end.
    await symlink(root, join(root, 'a', 'b', 'loop'));
    expect(await walked(root)).toEqual(['a/b/c/deep.png', 'a/broken.jpg', 'a/linked.jpg', 'top.jpg']);
    expect(await walked(root, (path) => path.endsWith('.jpg'))).toEqual(['a/b/c/deep.png']);
  });

  it('walks a wide directory as it reads it', async () => {
    const root = await tempDir();
    await Promise.all([...Array(500).keys()].map((i) => writeFile(join(root, `f${i}.jpg`), '')));
    const files = walkFiles(root);
    const first = await files.next();
    expect(first.done).toBe(false);
    await files.return(undefined);
    expect(await walked(root)).toHaveLength(500);
  });
});

describe('IngestCheckpoint', () => {
  const scope = { root: '/photos', apiUrl: 'http://127.0.0.1:3000', owner: 'ana', collection: '' };
  const grant = {
    uploadId: 'u1',
    method: 'PUT' as const,
    url: 'http://s3/uploads/u1',
    fields: {},
    headers: { 'content-type': 'image/jpeg' },
    expiresAt: '2030-01-01T00:00:00.000Z',
  };

  it('keeps each file’s state across reopening, and finds finished copies by digest', async () => {
    const file = join(await tempDir(), 'run.sqlite');
    const checkpoint = IngestCheckpoint.open(file, scope);
    checkpoint.record({ path: 'a.jpg', size: 10, mtimeMs: 1.9, state: 'granted', sha256: 'aa', grant });
    checkpoint.record({ path: 'b.jpg', size: 10, mtimeMs: 2, state: 'new', sha256: 'bb', imageId: 'bb' });
    checkpoint.record({
      path: 'c.txt',
      size: 3,
      mtimeMs: 3,
      state: 'rejected',
      sha256: 'cc',
      reason: 'empty',
      message: 'no',
    });
    checkpoint.record({
      path: 'd.jpg',
      size: 4,
      mtimeMs: 4,
      state: 'failed',
      reason: 'EACCES',
      message: 'denied',
    });
    checkpoint.close();

    const reopened = IngestCheckpoint.open(file, scope);
    expect(reopened.get('a.jpg')).toEqual({
      path: 'a.jpg',
      size: 10,
      mtimeMs: 1,
      state: 'granted',
      sha256: 'aa',
      grant,
    });
    expect(reopened.get('missing.jpg')).toBeUndefined();
    expect(reopened.settledCopy('aa')).toBeUndefined();
    expect(reopened.settledCopy('bb')).toMatchObject({ path: 'b.jpg', imageId: 'bb' });
    expect(reopened.settledCopy('cc')).toMatchObject({ state: 'rejected', reason: 'empty' });
    reopened.record({ path: 'a.jpg', size: 10, mtimeMs: 1, state: 'new', sha256: 'aa', imageId: 'aa' });
    expect(reopened.get('a.jpg')).toEqual({
      path: 'a.jpg',
      size: 10,
      mtimeMs: 1,
      state: 'new',
      sha256: 'aa',
      imageId: 'aa',
    });
    expect(reopened.get('d.jpg')).toMatchObject({ state: 'failed', reason: 'EACCES' });
    reopened.close();
  });

  it('refuses to be used for another root, API, owner or collection', async () => {
    const file = join(await tempDir(), 'run.sqlite');
    IngestCheckpoint.open(file, scope).close();
    expect(() => IngestCheckpoint.open(file, { ...scope, root: '/elsewhere' })).toThrow(CheckpointScopeError);
    expect(() => IngestCheckpoint.open(file, { ...scope, apiUrl: 'https://api.example' })).toThrow(
      'is for apiUrl http://127.0.0.1:3000, not https://api.example',
    );
    expect(() => IngestCheckpoint.open(file, { ...scope, owner: 'ben' })).toThrow(
      'is for owner ana, not ben',
    );
    expect(() => IngestCheckpoint.open(file, { ...scope, collection: 'trip' })).toThrow(
      'is for collection (none), not trip',
    );
    IngestCheckpoint.open(file, scope).close();
  });

  it('refuses a checkpoint that recorded no owner: its files may be done for someone else', async () => {
    const file = join(await tempDir(), 'older.sqlite');
    // What aperture wrote before the owner and collection were part of the scope.
    const older = new Database(file);
    older.exec('CREATE TABLE scope (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    older
      .prepare('INSERT INTO scope (key, value) VALUES (?, ?), (?, ?)')
      .run('root', scope.root, 'apiUrl', scope.apiUrl);
    older.close();
    expect(() => IngestCheckpoint.open(file, scope)).toThrow(
      'is for owner (not recorded: an older aperture made it), not ana',
    );
  });
});
