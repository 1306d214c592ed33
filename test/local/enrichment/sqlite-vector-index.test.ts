import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SqliteVectorIndex,
  VectorModelMismatchError,
} from '../../../local/enrichment/sqlite-vector-index.js';

const MODEL = { modelId: 'test-model@1', dimensions: 4 };
const v = (...values: number[]) => Float32Array.from(values);
const entry = (key: string, owner: string, vector: Float32Array) => ({
  key,
  vector,
  metadata: { owner, imageId: `image-${key}` },
});
const keys = (matches: { key: string }[]) => matches.map((match) => match.key);

const directory = mkdtempSync(join(tmpdir(), 'aperture-vectors-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the sqlite-vec vector index', () => {
  it('returns the owner’s nearest vectors first, with their metadata and cosine distance', async () => {
    const index = new SqliteVectorIndex(':memory:', MODEL);
    await index.put([
      entry('far', 'alice', v(0, 0, 1, 0)),
      entry('near', 'alice', v(1, 0.1, 0, 0)),
      entry('opposite', 'alice', v(-1, 0, 0, 0)),
      entry('nearer', 'alice', v(2, 0, 0, 0)),
    ]);
    const matches = await index.query(v(1, 0, 0, 0), { topK: 10, filter: { owner: 'alice' } });
    expect(keys(matches)).toEqual(['nearer', 'near', 'far', 'opposite']);
    expect(matches[0]).toEqual({
      key: 'nearer',
      metadata: { owner: 'alice', imageId: 'image-nearer' },
      distance: 0,
    });
    expect(matches[2]?.distance).toBeCloseTo(1, 5);
    expect(matches[3]?.distance).toBeCloseTo(2, 5);
    expect(keys(await index.query(v(1, 0, 0, 0), { topK: 2, filter: { owner: 'alice' } }))).toEqual([
      'nearer',
      'near',
    ]);
    index.close();
  });

  it('never returns another owner’s vectors, even identical ones, and finds the owner’s own topK among many nearer', async () => {
    const index = new SqliteVectorIndex(':memory:', MODEL);
    // 500 of bob's vectors sit exactly on the query; alice's two are further away.
    await index.put(Array.from({ length: 500 }, (_, i) => entry(`bob-${i}`, 'bob', v(1, 0, 0, 0))));
    await index.put([entry('alice-a', 'alice', v(1, 1, 0, 0)), entry('alice-b', 'alice', v(0, 1, 0, 0))]);
    const matches = await index.query(v(1, 0, 0, 0), { topK: 2, filter: { owner: 'alice' } });
    expect(keys(matches)).toEqual(['alice-a', 'alice-b']);
    expect(matches.every((match) => match.metadata.owner === 'alice')).toBe(true);
    expect(await index.query(v(1, 0, 0, 0), { topK: 5, filter: { owner: 'carol' } })).toEqual([]);
    index.close();
  });

  it('overwrites a vector put again under its key, its owner included', async () => {
    const index = new SqliteVectorIndex(':memory:', MODEL);
    await index.put([entry('k', 'alice', v(1, 0, 0, 0)), entry('other', 'alice', v(0, 1, 0, 0))]);
    await index.put([entry('k', 'alice', v(0, 0, 1, 0))]);
    expect(keys(await index.query(v(0, 0, 1, 0), { topK: 10, filter: { owner: 'alice' } }))).toEqual([
      'k',
      'other',
    ]);
    await index.put([{ ...entry('k', 'bob', v(0, 0, 1, 0)), metadata: { owner: 'bob', imageId: 'moved' } }]);
    expect(keys(await index.query(v(0, 0, 1, 0), { topK: 10, filter: { owner: 'alice' } }))).toEqual([
      'other',
    ]);
    expect(await index.query(v(0, 0, 1, 0), { topK: 10, filter: { owner: 'bob' } })).toEqual([
      { key: 'k', metadata: { owner: 'bob', imageId: 'moved' }, distance: 0 },
    ]);
    index.close();
  });

  it('deletes by key, keys already gone included', async () => {
    const index = new SqliteVectorIndex(':memory:', MODEL);
    await index.put([entry('a', 'alice', v(1, 0, 0, 0)), entry('b', 'alice', v(0, 1, 0, 0))]);
    await index.delete(['a', 'never-there']);
    await index.delete(['a']);
    expect(keys(await index.query(v(1, 0, 0, 0), { topK: 10, filter: { owner: 'alice' } }))).toEqual(['b']);
    // A deleted key can be put again.
    await index.put([entry('a', 'alice', v(1, 0, 0, 0))]);
    expect(keys(await index.query(v(1, 0, 0, 0), { topK: 10, filter: { owner: 'alice' } }))).toEqual([
      'a',
      'b',
    ]);
    index.close();
  });

  it('refuses a vector or a query of another length, writing nothing of the batch', async () => {
    const index = new SqliteVectorIndex(':memory:', MODEL);
    await expect(
      index.put([entry('ok', 'alice', v(1, 0, 0, 0)), entry('short', 'alice', v(1, 0, 0))]),
    ).rejects.toThrow(VectorModelMismatchError);
    await expect(index.query(v(1, 0, 0, 0, 0), { topK: 1, filter: { owner: 'alice' } })).rejects.toThrow(
      VectorModelMismatchError,
    );
    expect(await index.query(v(1, 0, 0, 0), { topK: 1, filter: { owner: 'alice' } })).toEqual([]);
    index.close();
  });

  it.each([0, 101, 1.5])('refuses topK %s', async (topK) => {
    const index = new SqliteVectorIndex(':memory:', MODEL);
    await expect(index.query(v(1, 0, 0, 0), { topK, filter: { owner: 'alice' } })).rejects.toThrow(
      RangeError,
    );
    index.close();
  });

  it('keeps its vectors in its file, and refuses the file for another model or length', async () => {
    const file = join(directory, 'vectors.db');
    const first = new SqliteVectorIndex(file, MODEL);
    await first.put([entry('kept', 'alice', v(1, 0, 0, 0))]);
    first.close();
    const reopened = new SqliteVectorIndex(file, MODEL);
    expect(keys(await reopened.query(v(1, 0, 0, 0), { topK: 1, filter: { owner: 'alice' } }))).toEqual([
      'kept',
    ]);
    reopened.close();
    expect(() => new SqliteVectorIndex(file, { ...MODEL, modelId: 'other-model@1' })).toThrow(
      VectorModelMismatchError,
    );
    expect(() => new SqliteVectorIndex(file, { ...MODEL, dimensions: 8 })).toThrow(VectorModelMismatchError);
  });
});
