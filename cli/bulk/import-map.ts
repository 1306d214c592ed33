import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { IMPORT_BATCH_SIZE, IMPORT_TOLERATED_FAILURE_PERCENTAGE } from '../../lambdas/contract.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import type {
  ImportBatch,
  ImportBatchInput,
  ImportBatchResult,
  ImportItem,
} from '../../lambdas/core/imports.js';
import { forEachConcurrently } from '../../lambdas/services/bulk-reads.js';

/**
 * Step Functions' Distributed Map, played locally: lists the source prefix (as the S3 ItemReader
 * does), cuts it into batches of `IMPORT_BATCH_SIZE` (as the ItemBatcher does, each with the run's
 * `BatchInput`), runs at most `maxConcurrency` batches at once through the import function, retries
 * a batch that throws a RetryableError, stops once failures pass the tolerated share, and files every
 * batch's result as the ResultWriter does. Its state is kept in S3 (`imports/{id}/` in the results
 * bucket), one object per finished batch, so a run killed at any point resumes where it was (a
 * redrive): finished batches are not run again; any other is, and its objects already decided are
 * no-ops in the import function.
 */

export interface ImportRunInput {
  bucket: string;
  prefix: string;
  owner: string;
  collection?: string | undefined;
}

/** As a Step Functions execution's status; `RUNNING` also for a run whose process was killed. */
export type ImportRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface ImportRunRecord {
  importId: string;
  input: ImportRunInput;
  status: ImportRunStatus;
  startedAt: string;
  stoppedAt?: string | undefined;
  /** Times the run was resumed (Step Functions' RedriveCount). */
  redriveCount: number;
  /** Why it failed, once it has. */
  cause?: string | undefined;
}

/** The map run's item counts, as DescribeMapRun gives them. */
export interface ImportItemCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
}

export interface ImportRunnerDependencies {
  s3: S3Client;
  /** Where runs are kept and results filed (the image bucket locally, under `imports/`). */
  resultsBucket: string;
  /** The import function, invoked as the map's item processor invokes it. */
  processBatch(batch: ImportBatch): Promise<ImportBatchResult>;
  /** Told after each batch. */
  onProgress?: (counts: ImportItemCounts) => void;
  /** Aborted: no new batch starts; the run is left `ABORTED`, to be resumed. */
  signal?: AbortSignal;
}

export interface ImportRunOptions {
  /** Batches at once (the map's MaxConcurrency). */
  maxConcurrency: number;
  /** @default IMPORT_TOLERATED_FAILURE_PERCENTAGE */
  toleratedFailurePercentage?: number;
  /** @default IMPORT_BATCH_SIZE */
  batchSize?: number;
  /** Attempts of a batch that keeps throwing a RetryableError, as the map's Retry. @default 3 */
  attempts?: number;
  /** Before the second attempt; doubled for each one after. @default 1000 */
  retryDelayMs?: number;
}

/** The results file a finished batch leaves (one entry of the ResultWriter's SUCCEEDED/FAILED files). */
interface BatchRecord {
  Name: string;
  Status: 'SUCCEEDED' | 'FAILED';
  Input: string;
  Output?: string;
  Error?: string;
  Cause?: string;
}

const runsPrefix = (importId: string) => `imports/${importId}/`;
const runKey = (importId: string) => `${runsPrefix(importId)}run.json`;
const stopKey = (importId: string) => `${runsPrefix(importId)}stop`;
const batchKey = (importId: string, index: number) =>
  `${runsPrefix(importId)}batches/${String(index).padStart(8, '0')}.json`;
/** The ResultWriter's files: manifest.json, SUCCEEDED_0.json, FAILED_0.json. */
export const resultsPrefix = (importId: string) => `${runsPrefix(importId)}results/`;

export class ImportRunner {
  constructor(private readonly deps: ImportRunnerDependencies) {}

  /** Starts an import and runs it to its end (or until stopped or killed). */
  async start(importId: string, input: ImportRunInput, options: ImportRunOptions): Promise<ImportRunRecord> {
    if (await this.find(importId)) {
      throw new ImportExistsError(`an import ${importId} exists already: resume it, or give another id`);
    }
    const run: ImportRunRecord = {
      importId,
      input,
      status: 'RUNNING',
      startedAt: new Date().toISOString(),
      redriveCount: 0,
    };
    await this.save(run);
    return this.execute(run, options);
  }

  /**
   * Runs the batches a run has not finished (Step Functions' redrive): after a failure, a stop, or a
   * killed process. A run that succeeded has nothing left to run.
   */
  async resume(importId: string, options: ImportRunOptions): Promise<ImportRunRecord> {
    const found = await this.mustFind(importId);
    if (found.status === 'SUCCEEDED') return found;
    const run: ImportRunRecord = {
      ...found,
      status: 'RUNNING',
      stoppedAt: undefined,
      cause: undefined,
      redriveCount: found.redriveCount + 1,
    };
    await this.deleteStopRequest(importId);
    await this.save(run);
    return this.execute(run, options);
  }

  /** Asks a running import to stop after the batches under way (StopExecution); seen by whichever process runs it. */
  async stop(importId: string): Promise<ImportRunRecord> {
    const run = await this.mustFind(importId);
    if (run.status !== 'RUNNING') return run;
    await this.put(stopKey(importId), '{}');
    return run;
  }

  async find(importId: string): Promise<ImportRunRecord | undefined> {
    const text = await this.get(runKey(importId));
    return text === undefined ? undefined : (JSON.parse(text) as ImportRunRecord);
  }

  /** The run's item counts, from its listing and the batches it filed. */
  async counts(
    importId: string,
    options: Pick<ImportRunOptions, 'batchSize'> = {},
  ): Promise<ImportItemCounts> {
    const run = await this.mustFind(importId);
    const batches = await this.batchesOf(run.input, options.batchSize ?? IMPORT_BATCH_SIZE);
    const counts: ImportItemCounts = { total: 0, succeeded: 0, failed: 0, pending: 0 };
    for (const [index, items] of batches.entries()) {
      counts.total += items.length;
      const record = await this.batchRecord(importId, index);
      if (record?.Status === 'SUCCEEDED') counts.succeeded += items.length;
      else if (record?.Status === 'FAILED') counts.failed += items.length;
      else counts.pending += items.length;
    }
    return counts;
  }

  private async execute(run: ImportRunRecord, options: ImportRunOptions): Promise<ImportRunRecord> {
    const { importId, input } = run;
    const batchSize = options.batchSize ?? IMPORT_BATCH_SIZE;
    const tolerated = options.toleratedFailurePercentage ?? IMPORT_TOLERATED_FAILURE_PERCENTAGE;
    const batches = await this.batchesOf(input, batchSize);
    const total = batches.reduce((sum, items) => sum + items.length, 0);
    const batchInput: ImportBatchInput = {
      importId,
      bucket: input.bucket,
      owner: input.owner,
      ...(input.collection ? { collection: input.collection } : {}),
    };

    const counts: ImportItemCounts = { total, succeeded: 0, failed: 0, pending: total };
    const todo: number[] = [];
    for (const [index, items] of batches.entries()) {
      const record = await this.batchRecord(importId, index);
      if (record?.Status === 'SUCCEEDED') {
        counts.succeeded += items.length;
        counts.pending -= items.length;
      } else todo.push(index);
    }

    let ending: { status: ImportRunStatus; cause?: string } | undefined;
    await forEachConcurrently(todo, options.maxConcurrency, async (index) => {
      if (ending) return;
      if (this.deps.signal?.aborted || (await this.get(stopKey(importId))) !== undefined) {
        ending = { status: 'ABORTED' };
        return;
      }
      const items = batches[index] as ImportItem[];
      const record = await this.runBatch({ Items: items, BatchInput: batchInput }, index, options);
      await this.put(batchKey(importId, index), JSON.stringify(record));
      counts.pending -= items.length;
      if (record.Status === 'SUCCEEDED') counts.succeeded += items.length;
      else counts.failed += items.length;
      this.deps.onProgress?.({ ...counts });
      if (total > 0 && (counts.failed / total) * 100 > tolerated) {
        ending = {
          status: 'FAILED',
          cause: `${counts.failed} of ${total} items failed, over the tolerated ${tolerated}%`,
        };
      }
    });

    const finished: ImportRunRecord = {
      ...run,
      status: ending?.status ?? 'SUCCEEDED',
      cause: ending?.cause,
      stoppedAt: new Date().toISOString(),
    };
    await this.writeResults(importId, batches.length);
    await this.save(finished);
    return finished;
  }

  /** One child execution: the batch through the import function, retried as the map's Retry says. */
  private async runBatch(batch: ImportBatch, index: number, options: ImportRunOptions): Promise<BatchRecord> {
    const attempts = options.attempts ?? 3;
    const name = `batch-${index}`;
    const input = JSON.stringify(batch);
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await this.deps.processBatch(batch);
        return { Name: name, Status: 'SUCCEEDED', Input: input, Output: JSON.stringify(output) };
      } catch (error) {
        const retryable = error instanceof RetryableError;
        if (!retryable || attempt >= attempts) {
          const failure = error instanceof Error ? error : new Error(String(error));
          return { Name: name, Status: 'FAILED', Input: input, Error: failure.name, Cause: failure.message };
        }
        await new Promise((resolve) =>
          setTimeout(resolve, (options.retryDelayMs ?? 1000) * 2 ** (attempt - 1)),
        );
      }
    }
  }

  /** The source listing cut into batches: ListObjectsV2 order, so the same batches on every resume. */
  private async batchesOf(input: ImportRunInput, batchSize: number): Promise<ImportItem[][]> {
    const batches: ImportItem[][] = [];
    let current: ImportItem[] = [];
    let token: string | undefined;
    do {
      const page = await this.deps.s3.send(
        new ListObjectsV2Command({ Bucket: input.bucket, Prefix: input.prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        current.push({ Key: object.Key, Size: object.Size ?? 0, Etag: object.ETag });
        if (current.length === batchSize) {
          batches.push(current);
          current = [];
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (current.length > 0) batches.push(current);
    return batches;
  }

  /** The ResultWriter's files: a manifest and one file per status, listing every batch's input and output. */
  private async writeResults(importId: string, batchCount: number): Promise<void> {
    const records: BatchRecord[] = [];
    for (let index = 0; index < batchCount; index++) {
      const record = await this.batchRecord(importId, index);
      if (record) records.push(record);
    }
    const prefix = resultsPrefix(importId);
    const files: Record<'SUCCEEDED' | 'FAILED', { Key: string; Size: number }[]> = {
      SUCCEEDED: [],
      FAILED: [],
    };
    for (const status of ['SUCCEEDED', 'FAILED'] as const) {
      const body = JSON.stringify(records.filter((record) => record.Status === status));
      const key = `${prefix}${status}_0.json`;
      await this.put(key, body);
      files[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    await this.put(
      `${prefix}manifest.json`,
      JSON.stringify({ DestinationBucket: this.deps.resultsBucket, ResultFiles: { ...files, PENDING: [] } }),
    );
  }

  private async batchRecord(importId: string, index: number): Promise<BatchRecord | undefined> {
    const text = await this.get(batchKey(importId, index));
    return text === undefined ? undefined : (JSON.parse(text) as BatchRecord);
  }

  async mustFind(importId: string): Promise<ImportRunRecord> {
    const run = await this.find(importId);
    if (!run) throw new ImportNotFoundError(`no import ${importId}`);
    return run;
  }

  private save(run: ImportRunRecord): Promise<void> {
    return this.put(runKey(run.importId), JSON.stringify(run));
  }

  private async deleteStopRequest(importId: string): Promise<void> {
    // A stop request is spent once the run it stopped is resumed: an empty marker is no request.
    if ((await this.get(stopKey(importId))) !== undefined) {
      await this.deps.s3.send(
        new DeleteObjectCommand({ Bucket: this.deps.resultsBucket, Key: stopKey(importId) }),
      );
    }
  }

  private async put(key: string, body: string): Promise<void> {
    await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: this.deps.resultsBucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
      }),
    );
  }

  private async get(key: string): Promise<string | undefined> {
    try {
      const { Body } = await this.deps.s3.send(
        new GetObjectCommand({ Bucket: this.deps.resultsBucket, Key: key }),
      );
      return await Body?.transformToString();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}

/** An import of that id exists: Step Functions refuses a second execution of one name too. */
export class ImportExistsError extends Error {
  override readonly name = 'ImportExistsError';
}

/** No import of that id: never started, or its records were removed. */
export class ImportNotFoundError extends Error {
  override readonly name = 'ImportNotFoundError';
}
