import type { SendPolicy } from './send-image.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How the bulk commands send: six tries per request, backing off from a quarter of a second to
 * eight (about 16 s in all, enough to ride out throttling or a function's cold start), on the real clock.
 */
export function sendPolicy(options: { settleTimeoutMs: number }): SendPolicy {
  return {
    retry: { attempts: 6, baseDelayMs: 250, maxDelayMs: 8_000, sleep },
    settleTimeoutMs: options.settleTimeoutMs,
    expiryGraceMs: 15_000,
    now: Date.now,
    sleep,
  };
}
