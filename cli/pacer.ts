/** Waits in milliseconds; a parameter so that tests need not. */
export type Sleep = (ms: number) => Promise<void>;

const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spaces out work to `perSecond` units, however many callers ask at once: each call reserves its
 * units' share of time after the last reservation and waits until that share begins.
 */
export function createPacer(
  perSecond: number,
  clock: { now: () => number; sleep: Sleep } = { now: Date.now, sleep },
): (units: number) => Promise<void> {
  let nextFree = 0;
  return async (units) => {
    const now = clock.now();
    const start = Math.max(now, nextFree);
    nextFree = start + (units * 1000) / perSecond;
    if (start > now) await clock.sleep(start - now);
  };
}
