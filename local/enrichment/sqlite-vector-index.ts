/**
 * The local vector index: sqlite-vec's `vec0` table in a SQLite file (or in memory), exact
 * nearest-neighbour search by cosine distance. Each owner's vectors are a partition of their own, so
 * a query searches one owner's vectors only: its `topK` are that owner's nearest, never what is left
 * of the whole index's nearest after other owners' are dropped.
 */
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import {
  type IndexedVector,
  MAX_VECTOR_QUERY_TOP_K,
  type VectorIndex,
  type VectorMatch,
} from '../../lambdas/ports/enrichment.js';

/** A vector, or a whole index file, of another model or length than this index's. */
export class VectorModelMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorModelMismatchError';
  }
}

/**
 * Vectors per storage chunk. Every partition (owner) takes at least one chunk, allocated whole: at
 * sqlite-vec's default of 1024, 1,000 owners of 20 images beside one of 100,000 took 914 MB and 20 s to
 * write; at 128, 190 MB and 4 s, with the large owner's queries no slower.
 */
const CHUNK_SIZE = 128;

const bytes = (vector: Float32Array) => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);

interface MatchRow {
  key: string;
  owner: string;
  image_id: string;
  distance: number;
}

export class SqliteVectorIndex implements VectorIndex {
  readonly modelId: string;
  readonly dimensions: number;
  private readonly db: Database.Database;
  private readonly idOf: Database.Statement<[string], { id: number | bigint }>;
  private readonly insertKey: Database.Statement<[string]>;
  private readonly insertVector: Database.Statement<[bigint, string, Buffer, string]>;
  private readonly deleteVector: Database.Statement<[number | bigint]>;
  private readonly deleteKey: Database.Statement<[number | bigint]>;
  private readonly nearest: Database.Statement<[Buffer, number, string], MatchRow>;

  /**
   * Opens (or makes) the index in `file` (`:memory:` for one that lasts as long as the object). A
   * file made for another model or another number of dimensions is refused: a new model means a new
   * index.
   */
  constructor(file: string, model: { modelId: string; dimensions: number }) {
    if (!Number.isInteger(model.dimensions) || model.dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, not ${model.dimensions}`);
    }
    this.modelId = model.modelId;
    this.dimensions = model.dimensions;
    this.db = new Database(file);
    try {
      sqliteVec.load(this.db);
      this.db.pragma('journal_mode = WAL');
      // With WAL, NORMAL loses no commit to a killed process, only (at worst) to a power cut.
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS index_model (id INTEGER PRIMARY KEY CHECK (id = 1), model_id TEXT NOT NULL,
          dimensions INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS vector_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
        CREATE VIRTUAL TABLE IF NOT EXISTS vectors USING vec0(
          owner TEXT PARTITION KEY,
          embedding float[${this.dimensions}] distance_metric=cosine,
          +image_id TEXT,
          chunk_size=${CHUNK_SIZE}
        );
      `);
      this.db
        .prepare('INSERT OR IGNORE INTO index_model (id, model_id, dimensions) VALUES (1, ?, ?)')
        .run(this.modelId, this.dimensions);
      const recorded = this.db
        .prepare<[], { model_id: string; dimensions: number }>('SELECT model_id, dimensions FROM index_model')
        .get();
      if (recorded?.model_id !== this.modelId || recorded.dimensions !== this.dimensions) {
        throw new VectorModelMismatchError(
          `${file} indexes ${recorded?.model_id} (${recorded?.dimensions} dimensions), not ${this.modelId} (${this.dimensions})`,
        );
      }
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.idOf = this.db.prepare('SELECT id FROM vector_keys WHERE key = ?');
    this.insertKey = this.db.prepare('INSERT INTO vector_keys (key) VALUES (?)');
    this.insertVector = this.db.prepare(
      'INSERT INTO vectors (rowid, owner, embedding, image_id) VALUES (?, ?, ?, ?)',
    );
    this.deleteVector = this.db.prepare('DELETE FROM vectors WHERE rowid = ?');
    this.deleteKey = this.db.prepare('DELETE FROM vector_keys WHERE id = ?');
    // The owner is a constraint of the KNN search itself (a partition key), not a filter on its result.
    this.nearest = this.db.prepare(`
      WITH knn AS (
        SELECT rowid, owner, image_id, distance FROM vectors WHERE embedding MATCH ? AND k = ? AND owner = ?
      )
      SELECT vector_keys.key, knn.owner, knn.image_id, knn.distance
      FROM knn JOIN vector_keys ON vector_keys.id = knn.rowid
      ORDER BY knn.distance, vector_keys.key
    `);
  }

  async put(vectors: readonly IndexedVector[]): Promise<void> {
    for (const { key, vector } of vectors) this.assertDimensions(vector, key);
    this.db.transaction(() => {
      for (const { key, vector, metadata } of vectors) {
        // vec0 has no upsert, and a vector cannot change partition: a key put again is replaced whole.
        const existing = this.idOf.get(key)?.id;
        if (existing !== undefined) this.deleteVector.run(existing);
        const id = existing ?? this.insertKey.run(key).lastInsertRowid;
        this.insertVector.run(BigInt(id), metadata.owner, bytes(vector), metadata.imageId);
      }
    })();
  }

  async query(
    vector: Float32Array,
    options: { topK: number; filter: { owner: string } },
  ): Promise<VectorMatch[]> {
    const { topK, filter } = options;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_VECTOR_QUERY_TOP_K) {
      throw new RangeError(`topK must be an integer from 1 to ${MAX_VECTOR_QUERY_TOP_K}, not ${topK}`);
    }
    this.assertDimensions(vector, 'the query');
    return this.nearest.all(bytes(vector), topK, filter.owner).map((row) => ({
      key: row.key,
      metadata: { owner: row.owner, imageId: row.image_id },
      distance: row.distance,
    }));
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      for (const key of keys) {
        const id = this.idOf.get(key)?.id;
        if (id === undefined) continue;
        this.deleteVector.run(id);
        this.deleteKey.run(id);
      }
    })();
  }

  close(): void {
    this.db.close();
  }

  private assertDimensions(vector: Float32Array, what: string): void {
    if (vector.length !== this.dimensions) {
      throw new VectorModelMismatchError(
        `${what} has ${vector.length} dimensions; ${this.modelId}'s index holds ${this.dimensions}`,
      );
    }
  }
}
