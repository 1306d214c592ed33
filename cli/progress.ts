import type { ReadCounts } from '../lambdas/services/bulk-reads.js';
import { count } from './format.js';

/**
 * A progress line on stderr for long runs. On a terminal it is rewritten in place a few times a
 * second; in a log (not a terminal) a line is added every few seconds, so the log stays readable.
 */
export interface ProgressLine {
  /** Offers the current line; it is shown if enough time has passed since the last one. */
  update(line: () => string): void;
  /** Shows the last line for good. */
  done(line: () => string): void;
}

const TERMINAL_EVERY_MS = 250;
const LOG_EVERY_MS = 10_000;

export function progressLine(
  write: (text: string) => void,
  terminal: boolean,
  now: () => number = Date.now,
): ProgressLine {
  const every = terminal ? TERMINAL_EVERY_MS : LOG_EVERY_MS;
  let last = now();
  let shown = false;
  const show = (text: string) => {
    write(terminal ? `\r${text}\u001b[K` : `${text}\n`);
    shown = true;
  };
  return {
    update(line) {
      if (now() - last < every) return;
      last = now();
      show(line());
    },
    done(line) {
      if (!shown) return;
      show(line());
      if (terminal) write('\n');
    },
  };
}

/** `n per second` since `startedAt`, for a progress line. */
export function ratePerSecond(done: number, startedAt: number, now: number = Date.now()): string {
  const seconds = Math.max((now - startedAt) / 1000, 0.001);
  return `${(done / seconds).toFixed(1)}/s`;
}

const BAR_WIDTH = 24;

/** `[#########---------------] 37%`, or a bar of dots while the whole is not known yet. */
export function progressBar(fraction: number | undefined): string {
  if (fraction === undefined) return `[${'.'.repeat(BAR_WIDTH)}]    `;
  const clamped = Math.min(Math.max(fraction, 0), 1);
  const filled = Math.round(clamped * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${`${Math.floor(clamped * 100)}%`.padStart(4)}`;
}

/** The progress of a pass over the whole catalog and buckets (stats, reconcile): what was read, how fast. */
export function readProgress(
  progress: ProgressLine,
  command: string,
): { onProgress: (read: ReadCounts) => void; done: () => void } {
  const startedAt = Date.now();
  let read: ReadCounts = { catalogItems: 0, objects: 0 };
  const line = () =>
    `${command}: read ${count(read.catalogItems)} catalog items, ${count(read.objects)} objects (${ratePerSecond(read.catalogItems + read.objects, startedAt)})`;
  return {
    onProgress: (sofar) => {
      read = sofar;
      progress.update(line);
    },
    done: () => progress.done(line),
  };
}
