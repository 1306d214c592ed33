import type { ImportTally } from '../../lambdas/core/imports.js';
import type { ImportItemCounts, ImportRunInput } from './import-map.js';

/** An import's state, as Step Functions names an execution's (a killed local run stays `RUNNING`). */
export type ImportStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT' | 'PENDING_REDRIVE';

/** What `aperture import status` shows: the map run's item counts and the catalog's tally. */
export interface ImportView {
  importId: string;
  status: ImportStatus;
  input: ImportRunInput;
  /** From the map run; undefined before it has listed the source. */
  items: ImportItemCounts | undefined;
  /** The decisions the import made, counted in the catalog as they were made. */
  tally: ImportTally;
  /** Where the result files are (`s3://bucket/prefix`), each batch's every object with its outcome. */
  results: string | undefined;
  /** Why it failed or was stopped. */
  cause: string | undefined;
}

/**
 * Where imports run: on the deployment's state machine (Step Functions' Distributed Map), or in this
 * process (the same map played here, for the local runtime or a deployment without it).
 */
export interface ImportEngine {
  start(importId: string, input: ImportRunInput): Promise<ImportView>;
  status(importId: string): Promise<ImportView>;
  stop(importId: string): Promise<ImportView>;
  /** Runs again what did not finish (a redrive). */
  resume(importId: string): Promise<ImportView>;
}
