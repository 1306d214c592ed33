import type { WorkLane } from '../../core/render-jobs.js';

/** The render work queues' shared numbers, read by the construct and the local twin alike. */

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
 * AWS's rule for SQS event sources: visibility at least six times the function timeout, so a message
 * is not handed to a second invocation while retries of the first are still running.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Each lane queue's visibility timeout, in the construct and in the local twin alike. */
export function visibilityTimeoutSeconds(lane: WorkLane): number {
  return RENDER_TIMEOUT_SECONDS[lane] * VISIBILITY_TIMEOUT_FACTOR;
}
