import { UsageError } from './usage-error.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `30m`, `2h`, `1d` (or `0`) in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (text.trim() === '0') return 0;
  if (!match) throw new UsageError(`${flag} takes a duration such as 90s, 30m, 2h or 1d, not "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** `25` or `25/s`: a positive number per second. */
export function parseRate(text: string, flag: string): number {
  const rate = Number(text.trim().replace(/\/s$/, ''));
  if (!(Number.isFinite(rate) && rate > 0))
    throw new UsageError(`${flag} takes a rate such as 25 or 25/s, not "${text}"`);
  return rate;
}

/** A whole number of at least 1. */
export function parsePositiveInteger(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!(Number.isInteger(value) && value >= 1))
    throw new UsageError(`${flag} takes a whole number of 1 or more, not "${text}"`);
  return value;
}
