import Database from 'better-sqlite3';
import type { UploadGrantView } from '../../lambdas/ports/upload-signer.js';

/**
 * Where one file stands. `granted` and `sent` are a send under way (an interrupted run finishes it);
 * `failed` is tried again by the next run; the rest are final.
 */
export type FileState = 'granted' | 'sent' | 'new' | 'duplicate' | 'rejected' | 'failed';

export const FINAL_STATES: readonly FileState[] = ['new', 'duplicate', 'rejected'];

export interface FileRecord {
  /** Relative to the root, `/`-separated. */
  path: string;
  size: number;
  mtimeMs: number;
  state: FileState;
  sha256?: string;
  imageId?: string;
  /** While `granted` or `sent`: the upload under way, with the URL S3 takes the bytes at. */
  grant?: UploadGrantView;
  /** Why it was rejected or failed: a code (`unrecognised_format`, `ENOENT`, `http_500`…). */
  reason?: string;
  message?: string;
}

/**
 * What a checkpoint was made for. Its rows say a file is done for this root, API, owner and
 * collection only: the same file is still to send for another owner, or into another collection.
 */
export interface CheckpointScope {
  root: string;
  apiUrl: string;
  /** Who the API takes the caller for (a token's `sub`, an IAM principal's ARN). */
  owner: string;
  /** The collection new images go into; '' for none. */
  collection: string;
}

/** The checkpoint file was made for another scope. */
export class CheckpointScopeError extends Error {
  override readonly name = 'CheckpointScopeError';
}

interface Row {
  path: string;
  size: number;
  mtime_ms: number;
  state: FileState;
  sha256: string | null;
  image_id: string | null;
  grant_json: string | null;
  reason: string | null;
  message: string | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS scope (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    sha256 TEXT,
    image_id TEXT,
    grant_json TEXT,
    reason TEXT,
    message TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS files_by_sha256 ON files (sha256, state);
`;

/**
 * The bulk ingest's memory between runs: one SQLite row per file. Each change is its own
 * transaction in write-ahead-log mode, so a run killed at any instant leaves every row as it was
 * last written, and the next run carries on from there.
 */
export class IngestCheckpoint {
  private readonly byPath: Database.Statement<[string], Row>;
  private readonly settledByDigest: Database.Statement<[string], Row>;
  private readonly upsert: Database.Statement<[Row & { updated_at: string }]>;

  private constructor(private readonly db: Database.Database) {
    this.byPath = db.prepare('SELECT * FROM files WHERE path = ?');
    this.settledByDigest = db.prepare(
      `SELECT * FROM files WHERE sha256 = ? AND state IN ('new', 'duplicate', 'rejected') LIMIT 1`,
    );
    this.upsert = db.prepare(
      `INSERT INTO files (path, size, mtime_ms, state, sha256, image_id, grant_json, reason, message, updated_at)
       VALUES (@path, @size, @mtime_ms, @state, @sha256, @image_id, @grant_json, @reason, @message, @updated_at)
       ON CONFLICT (path) DO UPDATE SET size = @size, mtime_ms = @mtime_ms, state = @state, sha256 = @sha256,
         image_id = @image_id, grant_json = @grant_json, reason = @reason, message = @message,
         updated_at = @updated_at`,
    );
  }

  /** Opens (or makes) the checkpoint at `file` for `scope`; refuses one made for another scope. */
  static open(file: string, scope: CheckpointScope): IngestCheckpoint {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      // With WAL, NORMAL loses no commit to a killed process, only (at worst) to a power cut.
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      const recorded = new Map(
        db
          .prepare<[], { key: string; value: string }>('SELECT key, value FROM scope')
          .all()
          .map(({ key, value }) => [key, value]),
      );
      if (recorded.size === 0) {
        const insert = db.prepare('INSERT INTO scope (key, value) VALUES (?, ?)');
        db.transaction(() => {
          for (const [key, value] of Object.entries(scope)) insert.run(key, value);
        })();
      } else {
        // A key an older checkpoint lacks is a mismatch too: its rows may be another owner's.
        for (const [key, value] of Object.entries(scope)) {
          if (recorded.get(key) === value) continue;
          throw new CheckpointScopeError(
            `the checkpoint ${file} is for ${key} ${describeScopeValue(recorded.get(key))}, not ` +
              `${describeScopeValue(value)}: run with the same flags to carry it on, or pass another ` +
              '--checkpoint (files already sent are then found as duplicates, not sent again)',
          );
        }
      }
    } catch (error) {
      db.close();
      throw error;
    }
    return new IngestCheckpoint(db);
  }

  /** The file's record, if a run has seen it. */
  get(path: string): FileRecord | undefined {
    const row = this.byPath.get(path);
    return row && fromRow(row);
  }

  /** A file with these bytes that reached a final state: another copy needs no upload of its own. */
  settledCopy(sha256: string): FileRecord | undefined {
    const row = this.settledByDigest.get(sha256);
    return row && fromRow(row);
  }

  record(file: FileRecord): void {
    this.upsert.run({
      path: file.path,
      size: file.size,
      mtime_ms: Math.trunc(file.mtimeMs),
      state: file.state,
      sha256: file.sha256 ?? null,
      image_id: file.imageId ?? null,
      grant_json: file.grant ? JSON.stringify(file.grant) : null,
      reason: file.reason ?? null,
      message: file.message ?? null,
      updated_at: new Date().toISOString(),
    });
  }

  close(): void {
    this.db.close();
  }
}

function describeScopeValue(value: string | undefined): string {
  if (value === undefined) return '(not recorded: an older aperture made it)';
  return value === '' ? '(none)' : value;
}

function fromRow(row: Row): FileRecord {
  return {
    path: row.path,
    size: row.size,
    mtimeMs: row.mtime_ms,
    state: row.state,
    ...(row.sha256 === null ? {} : { sha256: row.sha256 }),
    ...(row.image_id === null ? {} : { imageId: row.image_id }),
    ...(row.grant_json === null ? {} : { grant: JSON.parse(row.grant_json) as UploadGrantView }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.message === null ? {} : { message: row.message }),
  };
}
