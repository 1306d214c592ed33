import type { EnrichmentJob } from '../core/enrichment.js';

/** Where enrichment work goes: the enrichment lane's queue. */
export interface EnrichmentQueue {
  enqueue(job: EnrichmentJob): Promise<void>;
}
