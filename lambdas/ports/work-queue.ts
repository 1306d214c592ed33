import type { RenderJob } from '../core/render-jobs.js';

/** Where render work goes; the SQS adapter puts each job on its lane's queue. */
export interface WorkQueue {
  enqueue(jobs: readonly RenderJob[]): Promise<void>;
}
