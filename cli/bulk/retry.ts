import type { Sleep } from '../pacer.js';
import { ApiError } from './pipeline-api.js';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; each later wait doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: Sleep;
  /** In [0, 1); the jitter that keeps many clients from retrying in step. @default Math.random */
  random?: () => number;
}

/**
 * Runs `work` until it succeeds, fails for good, or has had its tries: only a transient `ApiError`
 * (throttling, a 5xx, the network) is tried again, after an exponential backoff with full jitter.
 */
export async function withRetries<T>(policy: RetryPolicy, work: () => Promise<T>): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ApiError && error.transient) || attempt >= policy.attempts) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await policy.sleep(Math.round(ceiling * random()));
    }
  }
}
