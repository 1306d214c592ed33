import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { INPUT_FORMATS } from '../../lambdas/core/formats.js';
import { notAnImage, SNIFF_BYTES, sniff } from '../../lambdas/core/sniff.js';
import { type FoundFile, walkFiles } from './file-tree.js';
import { FINAL_STATES, type FileRecord, type IngestCheckpoint } from './ingest-checkpoint.js';
import type { PipelineApi } from './pipeline-api.js';
import { withRetries } from './retry.js';
import {
  AccessDeniedError,
  NotSettledError,
  resumeSend,
  type SendJournal,
  type SendOutcome,
  type SendPolicy,
  sendImage,
} from './send-image.js';

/** What became of one file in this run. `unchanged`: an earlier run finished it. */
export type FileOutcome = 'new' | 'duplicate' | 'rejected' | 'failed' | 'unchanged';

export type IngestCounts = Record<FileOutcome, number>;

export interface IngestProblem {
  path: string;
  reason: string;
  message: string;
}

export interface IngestProgress {
  counts: IngestCounts;
  /** Files dealt with in this run, `unchanged` ones included. */
  files: number;
  /** Bytes of the files dealt with (read, or found unchanged). */
  bytes: number;
  /** Files under the root, once a separate count of them has finished. */
  total?: number;
}

export interface IngestReport extends IngestProgress {
  /** Bytes sent to S3. */
  bytesUploaded: number;
  /** This run's failures, the first `MAX_LISTED` of them; the checkpoint holds every one. */
  failures: IngestProblem[];
  /** Rejections by reason. */
  rejected: Record<string, number>;
  /** Stopped early (Ctrl-C): files not reached are left for the next run. */
  interrupted: boolean;
}

export interface IngestTreeOptions {
  /** Absolute. */
  root: string;
  api: PipelineApi;
  /** Where each file's progress is kept between runs; read but never written in a dry run. */
  checkpoint: IngestCheckpoint | undefined;
  /** Sniff and hash everything and ask which bytes are new, but upload nothing and record nothing. */
  dryRun: boolean;
  collection: string | undefined;
  /** Files in flight at once. */
  concurrency: number;
  policy: SendPolicy;
  /** Paths the walk leaves out (the checkpoint's own files). */
  skip: (absolutePath: string) => boolean;
  onProgress: (progress: IngestProgress) => void;
  /** Aborting stops taking new files; those in flight finish. */
  signal?: AbortSignal;
}

/** Failures listed in a report; a run that fails everything need not hold everything. */
const MAX_LISTED = 1000;

/**
 * Brings every image under a directory into the pipeline: walks it as it reads it, sniffs each
 * file's bytes (never its name), hashes it, and sends only bytes that neither this run, an earlier
 * one, nor the pipeline already has. Each file's step is recorded before the next is taken, so a
 * run killed at any point is resumed by the next without sending any file twice.
 */
export async function ingestTree(options: IngestTreeOptions): Promise<IngestReport> {
  const report: IngestReport = {
    counts: { new: 0, duplicate: 0, rejected: 0, failed: 0, unchanged: 0 },
    files: 0,
    bytes: 0,
    bytesUploaded: 0,
    failures: [],
    rejected: {},
    interrupted: false,
  };
  const journal = options.dryRun ? undefined : options.checkpoint;
  /** Sends under way by digest: a copy met meanwhile waits for the first instead of sending again. */
  const inFlight = new Map<string, Promise<SendOutcome | undefined>>();
  /** A dry run records nothing, so it remembers here which bytes it has already counted. */
  const seenInDryRun = new Set<string>();

  const countAll = countFiles(options).then((total) => {
    report.total = total;
  });

  const settle = (file: FoundFile, size: number, outcome: Settled) => {
    report.files += 1;
    report.bytes += size;
    report.counts[outcome.outcome] += 1;
    if (outcome.outcome === 'failed' && report.failures.length < MAX_LISTED) {
      report.failures.push({ path: file.path, reason: outcome.reason, message: outcome.message });
    }
    if (outcome.outcome === 'rejected')
      report.rejected[outcome.reason] = (report.rejected[outcome.reason] ?? 0) + 1;
    options.onProgress(report);
  };

  const handle = async (file: FoundFile): Promise<void> => {
    let size = 0;
    let mtimeMs = 0;
    const record = (state: FileRecord['state'], fields: Partial<FileRecord> = {}) =>
      journal?.record({ path: file.path, size, mtimeMs, state, ...fields });
    try {
      const info = await stat(file.absolutePath);
      size = info.size;
      mtimeMs = Math.trunc(info.mtimeMs);
      const prior = options.checkpoint?.get(file.path);
      if (prior && FINAL_STATES.includes(prior.state) && prior.size === size && prior.mtimeMs === mtimeMs) {
        return settle(file, size, { outcome: 'unchanged' });
      }
      const read = await readAndSniff(file.absolutePath);
      if (read.kind === 'rejected') {
        record('rejected', { reason: read.reason, message: read.message });
        return settle(file, size, { outcome: 'rejected', reason: read.reason, message: read.message });
      }
      const { sha256 } = read;
      const claim = await claimDigest(sha256);
      if (!claim.first) {
        record(claim.copy.kind === 'rejected' ? 'rejected' : 'duplicate', outcomeFields(sha256, claim.copy));
        return settle(file, size, settledOf(claim.copy));
      }
      let outcome: SendOutcome | undefined;
      try {
        outcome = options.dryRun
          ? await wouldSend(sha256)
          : await send(file, read, prior?.sha256 === sha256 ? prior : undefined, record);
      } finally {
        claim.settle(outcome);
      }
      record(outcome.kind, outcomeFields(sha256, outcome));
      return settle(file, size, settledOf(outcome));
    } catch (error) {
      if (error instanceof AccessDeniedError) throw error;
      const failure = failureOf(error);
      // A `sent` upload that has not settled stays `sent`: the next run only asks how it ended.
      if (!(error instanceof NotSettledError)) record('failed', failure);
      return settle(file, size, { outcome: 'failed', ...failure });
    }
  };

  /**
   * Makes this file the one that sends these bytes, unless a copy already decided them: one sent
   * earlier in this run (waited for when still in flight) or finished by an earlier run.
   */
  const claimDigest = async (
    sha256: string,
  ): Promise<
    { first: true; settle: (outcome: SendOutcome | undefined) => void } | { first: false; copy: SendOutcome }
  > => {
    for (;;) {
      const flying = inFlight.get(sha256);
      if (!flying) {
        if (seenInDryRun.has(sha256)) return { first: false, copy: { kind: 'duplicate', imageId: sha256 } };
        const settled = options.checkpoint?.settledCopy(sha256);
        if (settled) {
          return {
            first: false,
            copy:
              settled.state === 'rejected'
                ? { kind: 'rejected', reason: settled.reason ?? 'rejected', message: settled.message ?? '' }
                : { kind: 'duplicate', imageId: String(settled.imageId) },
          };
        }
        // Claimed before any await, so two copies can never both send.
        let settle: (outcome: SendOutcome | undefined) => void = () => {};
        inFlight.set(sha256, new Promise((resolve) => (settle = resolve)));
        return {
          first: true,
          settle: (outcome) => {
            inFlight.delete(sha256);
            settle(outcome);
          },
        };
      }
      const outcome = await flying;
      // The first copy failed: this one tries in its place.
      if (!outcome) continue;
      return {
        first: false,
        copy: outcome.kind === 'new' ? { kind: 'duplicate', imageId: outcome.imageId } : outcome,
      };
    }
  };

  /** A dry run's answer: bytes the caller's library has are duplicates, the rest would be new. */
  const wouldSend = async (sha256: string): Promise<SendOutcome> => {
    seenInDryRun.add(sha256);
    const owned = await withRetries(options.policy.retry, () => options.api.image(sha256));
    return owned ? { kind: 'duplicate', imageId: sha256 } : { kind: 'new', imageId: sha256, uploadId: '' };
  };

  const send = async (
    file: FoundFile,
    read: SniffedImage,
    prior: FileRecord | undefined,
    record: (state: FileRecord['state'], fields?: Partial<FileRecord>) => void,
  ): Promise<SendOutcome> => {
    const bytes = await readFile(file.absolutePath);
    if (createHash('sha256').update(bytes).digest('hex') !== read.sha256) {
      throw new FileChangedError('the file changed while it was being read');
    }
    const image = {
      bytes,
      sha256: read.sha256,
      size: bytes.length,
      contentType: read.contentType,
      filename: basename(file.path).slice(0, 255),
      ...(options.collection ? { collection: options.collection } : {}),
    };
    let grant = prior?.grant;
    const journalOf: SendJournal = {
      granted: (granted) => {
        grant = granted;
        record('granted', { sha256: read.sha256, grant });
      },
      sent: () => {
        report.bytesUploaded += bytes.length;
        record('sent', { sha256: read.sha256, ...(grant ? { grant } : {}) });
      },
    };
    const unfinished =
      prior?.grant && (prior.state === 'granted' || prior.state === 'sent')
        ? { grant: prior.grant, sent: prior.state === 'sent' }
        : undefined;
    return unfinished
      ? resumeSend(options.api, unfinished, image, journalOf, options.policy)
      : sendImage(options.api, image, journalOf, options.policy);
  };

  const files = walkFiles(options.root, { skip: options.skip });
  const worker = async () => {
    while (!options.signal?.aborted) {
      const next = await files.next();
      if (next.done) return;
      await handle(next.value);
    }
    report.interrupted = true;
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await files.return(undefined);
  if (!report.interrupted) await countAll;
  return report;
}

type Settled =
  | { outcome: 'new' | 'duplicate' | 'unchanged' }
  | { outcome: 'rejected' | 'failed'; reason: string; message: string };

/** A file's first bytes judged and its whole bytes hashed, in one read. */
type SniffedImage = { kind: 'image'; sha256: string; contentType: string };
type ReadFile = SniffedImage | { kind: 'rejected'; reason: string; message: string };

/** The bytes changed between hashing and sending; the next run reads them afresh. */
class FileChangedError extends Error {
  override readonly name = 'FileChangedError';
  readonly code = 'changed_while_reading';
}

/**
 * Reads the file once: its first bytes say whether it is an image at all (a file that is not is
 * read no further); an image is hashed as it streams, never held whole.
 */
async function readAndSniff(path: string): Promise<ReadFile> {
  const handle = await open(path);
  try {
    const hash = createHash('sha256');
    let contentType: string | undefined;
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      if (!contentType) {
        const sniffed = sniff((chunk as Buffer).subarray(0, SNIFF_BYTES));
        if (sniffed.kind !== 'image') return { kind: 'rejected', ...notAnImage(sniffed) };
        contentType = INPUT_FORMATS[sniffed.format];
      }
      hash.update(chunk as Buffer);
    }
    if (!contentType) return { kind: 'rejected', reason: 'empty', message: 'the file is empty' };
    return { kind: 'image', sha256: hash.digest('hex'), contentType };
  } finally {
    await handle.close();
  }
}

function outcomeFields(sha256: string, outcome: SendOutcome): Partial<FileRecord> {
  return outcome.kind === 'rejected'
    ? { sha256, reason: outcome.reason, message: outcome.message }
    : { sha256, imageId: outcome.imageId };
}

function settledOf(outcome: SendOutcome): Settled {
  return outcome.kind === 'rejected'
    ? { outcome: 'rejected', reason: outcome.reason, message: outcome.message }
    : { outcome: outcome.kind };
}

/** A reason code for the checkpoint and the report: the file system's or the API's code where there is one. */
function failureOf(error: unknown): { reason: string; message: string } {
  const code = (error as { code?: unknown }).code;
  return {
    reason: typeof code === 'string' ? code : (error as Error).name,
    message: (error as Error).message,
  };
}

/** How many files the walk will meet: a second walk that only counts, for the progress bar's total. */
async function countFiles(options: Pick<IngestTreeOptions, 'root' | 'skip' | 'signal'>): Promise<number> {
  let total = 0;
  for await (const _ of walkFiles(options.root, { skip: options.skip })) {
    if (options.signal?.aborted) break;
    total += 1;
  }
  return total;
}
