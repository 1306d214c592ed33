import type { S3Client } from '@aws-sdk/client-s3';
import type { ImportBatch, ImportBatchResult } from '../../lambdas/core/imports.js';
import type { ImportTallies } from '../../lambdas/ports/import-tallies.js';
import { count } from '../format.js';
import type { ProgressLine } from '../progress.js';
import type { ImportEngine, ImportView } from './import-engine.js';
import {
  type ImportItemCounts,
  type ImportRunInput,
  ImportRunner,
  type ImportRunOptions,
  type ImportRunRecord,
  resultsPrefix,
} from './import-map.js';

export interface InProcessImportsDependencies {
  s3: S3Client;
  resultsBucket: string;
  tallies: ImportTallies;
  /** The import function, as the map's item processor invokes it. */
  processBatch(batch: ImportBatch): Promise<ImportBatchResult>;
  progress: ProgressLine;
  signal?: AbortSignal;
}

/**
 * Imports run by this process (`ImportRunner`): start and resume return once the run has ended, or
 * was stopped (Ctrl-C, or `aperture import stop` from elsewhere); a killed process leaves the run
 * `RUNNING`, and `resume` carries it on.
 */
export class InProcessImports implements ImportEngine {
  private readonly runner: ImportRunner;

  private line = () => 'import: listing the source';

  constructor(
    private readonly deps: InProcessImportsDependencies,
    private readonly options: ImportRunOptions,
  ) {
    this.runner = new ImportRunner({
      ...deps,
      onProgress: (counts) => {
        this.line = () => progressText(counts);
        deps.progress.update(this.line);
      },
    });
  }

  async start(importId: string, input: ImportRunInput): Promise<ImportView> {
    const run = await this.runner.start(importId, input, this.options);
    this.deps.progress.done(this.line);
    return this.view(run);
  }

  async status(importId: string): Promise<ImportView> {
    return this.view(await this.runner.mustFind(importId));
  }

  async stop(importId: string): Promise<ImportView> {
    return this.view(await this.runner.stop(importId));
  }

  async resume(importId: string): Promise<ImportView> {
    const run = await this.runner.resume(importId, this.options);
    this.deps.progress.done(this.line);
    return this.view(run);
  }

  private async view(run: ImportRunRecord): Promise<ImportView> {
    return {
      importId: run.importId,
      status: run.status,
      input: run.input,
      items: await this.runner.counts(run.importId, this.options),
      tally: await this.deps.tallies.get(run.importId),
      results: `s3://${this.deps.resultsBucket}/${resultsPrefix(run.importId)}`,
      cause: run.cause,
    };
  }
}

const progressText = (counts: ImportItemCounts) =>
  `import: ${count(counts.succeeded)} of ${count(counts.total)} done, ${count(counts.failed)} failed`;
