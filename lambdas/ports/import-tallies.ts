import type { ImportTally } from '../core/imports.js';

/** Each import's count of the decisions it made, added to by every batch (`ImportTally`). */
export interface ImportTallies {
  add(importId: string, tally: ImportTally): Promise<void>;
  /** All zero for an import that has decided nothing (yet). */
  get(importId: string): Promise<ImportTally>;
}
