import type { WorkLane } from '../../core/render-jobs.js';

/** The render functions' and their queues' shared numbers, read by the construct and the local runtime alike. */

/** Receives before a message is parked in its lane's dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

/**
 * The timeout of each lane's render function, in seconds: the one number both the function and its
 * queue's visibility timeout derive from. A thumbnail is one small resize; a variants job encodes every
 * size in AVIF, WebP and JPEG, and AVIF at 1920 px is the slow part.
 */
export const RENDER_TIMEOUT_SECONDS: Readonly<Record<WorkLane, number>> = {
  thumbnails: 30,
  variants: 120,
};

/**
 * The on-demand renderer's timeout: one variant of one image, within the 30 s CloudFront waits for
 * an origin's answer by default.
 */
export const ON_DEMAND_TIMEOUT_SECONDS = 28;

/**
 * Jobs per invocation of each lane's function, rendered one after another, all within the lane's
 * `RENDER_TIMEOUT_SECONDS` or the whole batch comes back.
 *
 * - thumbnails: up to 5 jobs, 6 s each of the 30, some 30 times what a 12 MP original takes (0.2 s of
 *   CPU, ADR 5): the headroom is for originals up to the 100 MP limit (not measured yet).
 * - variants: one job per invocation: a job already takes seconds (about 6 s of CPU at 12 MP), so a
 *   batch would only risk the timeout and make one slow image hold up, or retry, the others.
 */
export const RENDER_BATCH_SIZE: Readonly<Record<WorkLane, number>> = {
  thumbnails: 5,
  variants: 1,
};

/**
 * AWS's rule for SQS event sources: visibility at least six times the function timeout, so a message
 * is not handed to a second invocation while retries of the first are still running.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Each lane queue's visibility timeout, in the construct and in the local twin alike. */
export function visibilityTimeoutSeconds(lane: WorkLane): number {
  return RENDER_TIMEOUT_SECONDS[lane] * VISIBILITY_TIMEOUT_FACTOR;
}
