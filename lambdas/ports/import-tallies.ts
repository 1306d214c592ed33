import type { ImportDecision, ImportTally } from '../core/imports.js';

/** Each import's count of the decisions it made (`ImportTally`). */
export interface ImportTallies {
  /**
   * Counts the decision an import made on one of its uploads, once however often it is told: the
   * upload is marked counted in the same write, so a retried batch or a resumed run adds nothing twice.
   */
  count(importId: string, uploadId: string, decision: ImportDecision): Promise<void>;
  /** All zero for an import that has decided nothing (yet). */
  get(importId: string): Promise<ImportTally>;
}
