import { readFileSync } from 'node:fs';

/** Median and p95 of a set of timings, the two figures every benchmark here reports. */
export interface Summary {
  medianMs: number;
  p95Ms: number;
}

export const MB = 1_000_000;

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** Nearest-rank percentile: with fewer than 20 samples, p95 is the slowest run. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

export function summarise(samples: readonly number[]): Summary {
  return { medianMs: round(median(samples)), p95Ms: round(percentile(samples, 0.95)) };
}

export function perMb(summary: Summary, bytes: number): Summary {
  const mb = bytes / MB;
  return { medianMs: round(summary.medianMs / mb, 2), p95Ms: round(summary.p95Ms / mb, 2) };
}

export const ratio = (numerator: number, denominator: number): number => round(numerator / denominator, 2);

/** Wall-clock and CPU time of the same runs, in ms. */
export interface Samples<K extends string> {
  wall: Record<K, number[]>;
  /**
   * CPU time of the whole process (every libvips thread included), plus that of the child processes
   * it waited for meanwhile (see `childCpuMs`). On a shared machine other tenants stretch the wall
   * clock of CPU-bound work but hardly its CPU time, so ratios are taken from this.
   */
  cpu: Record<K, number[]>;
}

/**
 * Clock ticks per second of `/proc` times (USER_HZ, `getconf CLK_TCK`): fixed at 100 on every Linux
 * architecture Node runs on. Not asked at run time, as asking spawns a child whose CPU time would land
 * in the first sample.
 */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU time of every child process this one has waited for, whole process trees
 * included: getrusage(RUSAGE_CHILDREN), read from `/proc/self/stat` (cutime + cstime, in 10 ms ticks)
 * as Node exposes only RUSAGE_SELF (`process.cpuUsage()` and `process.resourceUsage()` leave children
 * out). Undefined where there is no `/proc` (macOS, Windows).
 */
export function childCpuMs(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces; state (field 3) follows it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000 + (childCpuMs() ?? 0);
};

/**
 * Runs every contender once per iteration, rotating who goes first, so drift in the machine's speed
 * (other tenants, thermal limits) lands on all of them alike. One untimed round warms up first.
 */
export async function interleave<K extends string>(
  iterations: number,
  contenders: Readonly<Record<K, () => Promise<unknown>>>,
  warmUp = true,
): Promise<Samples<K>> {
  const names = Object.keys(contenders) as K[];
  const empty = () => Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  const samples: Samples<K> = { wall: empty(), cpu: empty() };
  if (warmUp) for (const name of names) await contenders[name]();
  for (let iteration = 0; iteration < iterations; iteration++) {
    const order = names.map((_, i) => names[(i + iteration) % names.length] as K);
    for (const name of order) {
      const wall = performance.now();
      const cpu = cpuMs();
      await contenders[name]();
      samples.cpu[name].push(cpuMs() - cpu);
      samples.wall[name].push(performance.now() - wall);
    }
  }
  return samples;
}

/** A Markdown table, so what the bench prints can be pasted into the README and the ADRs as is. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length), 3),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/**
 * The high-water mark of this process's resident memory, in MB. On Linux it is read from VmHWM, as
 * `getrusage`'s maxRSS (`process.resourceUsage().maxRSS`) carries over the parent's RSS from before
 * `exec` (the child is forked from the bench, hundreds of MB); elsewhere maxRSS is all there is.
 */
export function peakRssMb(): number {
  let kb = process.resourceUsage().maxRSS;
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm) kb = Number(hwm);
  } catch {
    // No /proc: keep maxRSS.
  }
  return Math.round(kb / 1024);
}
