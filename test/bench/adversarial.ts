/**
 * Bounded time and memory for hostile uploads: every adversarial input (`test/support/adversarial-
 * inputs.ts`, plus the hostile files of `../shared/corpus` when there) goes through ingest's judgement
 * and, when accepted, both render lanes (`runPipeline`), each input in a fresh Node process so that its
 * peak RSS is its own. The child reads its VmHWM when done (a forked child's `maxRSS` would start from
 * its parent's); the parent samples the child's meanwhile, so an input that kills or hangs its process
 * still gets a figure. Wall and CPU time are the child's, from just before `assessUpload` to the end of
 * the render; CPU counts every libvips thread.
 *
 * A bench section: `benchAdversarial()` returns JSON-able results, `adversarialTable()` their Markdown.
 * The child is this file:
 *
 *   node --import tsx test/bench/adversarial.ts --child <file> <content type> [sharp threads]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseSettings } from '../../lambdas/core/settings.js';
import {
  type AdversarialInput,
  adversarialInputs,
  corpusHostileInputs,
  runPipeline,
} from '../support/adversarial-inputs.js';
import { markdownTable } from './stats.js';

const SCRIPT = fileURLToPath(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What one input came to, and what it cost its process. */
export interface AdversarialBenchResult {
  input: string;
  bytes: number;
  /**
   * `rejected` by ingest; `rendered` (accepted, every lane done); `render_failed` (accepted, then
   * refused by the renderer); `crashed` or `timed_out` (the process died or was killed: a finding).
   */
  outcome: 'rejected' | 'rendered' | 'render_failed' | 'crashed' | 'timed_out';
  /** The rejection or render failure reason; the exit code or signal of a process that died. */
  reason: string | undefined;
  /** Whether outcome and reason are what the input's expectation says. */
  asExpected: boolean;
  outputs: number;
  /** Ingest's judgement alone (`assessUpload`), wall ms. */
  assessWallMs: number | undefined;
  /** Judgement and render, wall ms. */
  wallMs: number | undefined;
  /** Judgement and render, CPU ms (user + system, all threads). */
  cpuMs: number | undefined;
  /** VmHWM of the child at the end, MiB (or the highest sampled, for a child that did not finish). */
  peakRssMb: number;
  /** VmHWM of the child just before `assessUpload`: Node, tsx, sharp, the bytes. */
  baselineRssMb: number | undefined;
}

export interface AdversarialBenchSummary {
  machine: {
    cpu: string;
    cpus: number;
    node: string;
    sharp: string;
    libvips: string;
    sharpConcurrency: number;
  };
  results: AdversarialBenchResult[];
  worst: {
    peakRss: { input: string; mb: number };
    wall: { input: string; ms: number };
    cpu: { input: string; ms: number };
  };
  /** Inputs whose outcome was not the expected one, or whose process died. */
  unexpected: string[];
}

/** The child's last line of output. */
interface ChildReport {
  outcome: 'rejected' | 'rendered' | 'render_failed';
  reason: string | undefined;
  outputs: number;
  assessWallMs: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  baselineRssMb: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

/** VmHWM (peak resident set) of a process in MiB, where there is a /proc. */
function vmHwmMb(pid: number | 'self'): number | undefined {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** In the child: one input through the pipeline, as a Lambda worker would see it (no operation cache). */
async function runChild(file: string, contentType: string, threads: number | undefined): Promise<void> {
  sharp.cache(false);
  if (threads !== undefined) sharp.concurrency(threads);
  const settings = parseSettings();
  const bytes = readFileSync(file);
  const baselineRssMb = vmHwmMb('self') ?? round(process.resourceUsage().maxRSS / 1024);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const run = await runPipeline({ bytes, contentType }, settings);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const failed = run.render && 'failed' in run.render ? run.render.failed : undefined;
  const report: ChildReport = {
    outcome: !run.assessment.accepted ? 'rejected' : failed ? 'render_failed' : 'rendered',
    reason: !run.assessment.accepted ? run.assessment.rejection.reason : failed?.reason,
    outputs: run.render && 'rendered' in run.render ? run.render.rendered.objects.length : 0,
    assessWallMs: round(run.assessMs),
    wallMs: round(wallMs),
    cpuMs: round((used.user + used.system) / 1000),
    peakRssMb: vmHwmMb('self') ?? round(process.resourceUsage().maxRSS / 1024),
    baselineRssMb,
  };
  console.log(JSON.stringify(report));
}

/** Runs one input in a fresh process; a child that outlives `timeoutMs` is killed and reported. */
function measure(
  input: AdversarialInput,
  file: string,
  timeoutMs: number,
  threads: number,
): Promise<AdversarialBenchResult> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', SCRIPT, '--child', file, input.contentType, String(threads)];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let sampledMb = 0;
    const sampler = setInterval(() => {
      if (child.pid !== undefined) sampledMb = Math.max(sampledMb, vmHwmMb(child.pid) ?? 0);
    }, 50);
    let timedOut = false;
    const guard = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(guard);
      const { expected } = input;
      const base = { input: input.name, bytes: input.bytes.length };
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || timedOut || !line.startsWith('{')) {
        resolve({
          ...base,
          outcome: timedOut ? 'timed_out' : 'crashed',
          reason: timedOut
            ? `killed after ${timeoutMs} ms`
            : `${signal ?? `exit ${code}`}: ${stderr.trim().split('\n').at(-1) ?? ''}`,
          asExpected: false,
          outputs: 0,
          assessWallMs: undefined,
          wallMs: undefined,
          cpuMs: undefined,
          peakRssMb: sampledMb,
          baselineRssMb: undefined,
        });
        return;
      }
      const report = JSON.parse(line) as ChildReport;
      const asExpected =
        expected.outcome === 'rejected'
          ? report.outcome === 'rejected' && report.reason === expected.reason
          : report.outcome === 'rendered';
      resolve({ ...base, ...report, asExpected });
    });
  });
}

export interface AdversarialBenchOptions {
  /** Add the hostile files of `../shared/corpus` when it is there. @default true */
  corpus?: boolean;
  /** Only inputs whose name contains one of these. @default every input */
  only?: readonly string[];
  /** Per-input hang guard: the child is killed after this long. @default 10 minutes */
  timeoutMs?: number;
  /** libvips threads per pipeline in the children. @default sharp's default here */
  threads?: number;
  /** Progress, one line per input. */
  log?: (line: string) => void;
}

/** Every adversarial input, one fresh process each, one after the other (so none competes for cores). */
export async function benchAdversarial(
  options: AdversarialBenchOptions = {},
): Promise<AdversarialBenchSummary> {
  const { corpus = true, only, timeoutMs = 600_000, threads = sharp.concurrency(), log } = options;
  const inputs = [...(await adversarialInputs()), ...(corpus ? corpusHostileInputs() : [])].filter(
    (input) => !only || only.some((part) => input.name.includes(part)),
  );
  const dir = await mkdtemp(join(os.tmpdir(), 'aperture-adversarial-'));
  const results: AdversarialBenchResult[] = [];
  try {
    for (const [index, input] of inputs.entries()) {
      const file = join(dir, `${index}.bin`);
      await writeFile(file, input.bytes);
      const result = await measure(input, file, timeoutMs, threads);
      await rm(file);
      results.push(result);
      log?.(
        `${input.name}: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}, ${result.wallMs ?? '–'} ms, ${result.peakRssMb} MiB`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const worstBy = (value: (r: AdversarialBenchResult) => number) =>
    results.reduce((a, b) => (value(b) > value(a) ? b : a));
  const peak = worstBy((r) => r.peakRssMb);
  const wall = worstBy((r) => r.wallMs ?? Number.POSITIVE_INFINITY);
  const cpu = worstBy((r) => r.cpuMs ?? Number.POSITIVE_INFINITY);
  return {
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cpus: os.availableParallelism(),
      node: process.version,
      sharp: sharp.versions.sharp,
      libvips: sharp.versions.vips,
      sharpConcurrency: threads,
    },
    results,
    worst: {
      peakRss: { input: peak.input, mb: peak.peakRssMb },
      wall: { input: wall.input, ms: wall.wallMs ?? Number.POSITIVE_INFINITY },
      cpu: { input: cpu.input, ms: cpu.cpuMs ?? Number.POSITIVE_INFINITY },
    },
    unexpected: results.filter((r) => !r.asExpected).map((r) => r.input),
  };
}

const cell = (value: number | undefined) => (value === undefined ? '–' : value.toLocaleString('en-US'));

/** The results as a Markdown table, one row per input. */
export function adversarialTable(summary: AdversarialBenchSummary): string {
  return markdownTable(
    ['input', 'KB', 'outcome', 'reason', 'assess ms', 'wall ms', 'CPU ms', 'peak RSS MiB', 'baseline MiB'],
    summary.results.map((r) => [
      r.asExpected ? r.input : `**${r.input}** (unexpected)`,
      (r.bytes / 1000).toFixed(1),
      r.outcome === 'rendered' ? `rendered (${r.outputs} outputs)` : r.outcome,
      r.reason ?? '',
      cell(r.assessWallMs),
      cell(r.wallMs),
      cell(r.cpuMs),
      cell(r.peakRssMb),
      cell(r.baselineRssMb),
    ]),
  );
}

/** One paragraph on the worst cases. */
export function adversarialSummaryLine(summary: AdversarialBenchSummary): string {
  const { worst, results, unexpected } = summary;
  return (
    `${results.length} inputs, each in a fresh process. Worst peak RSS ${worst.peakRss.mb} MiB (${worst.peakRss.input});` +
    ` longest ${cell(worst.wall.ms)} ms wall (${worst.wall.input}), most CPU ${cell(worst.cpu.ms)} ms (${worst.cpu.input}).` +
    (unexpected.length > 0 ? ` Unexpected: ${unexpected.join(', ')}.` : ' Every outcome as expected.')
  );
}

if (process.argv[1] === SCRIPT && process.argv[2] === '--child') {
  const [file, contentType, threads] = process.argv.slice(3);
  if (!file || !contentType) throw new Error('usage: adversarial.ts --child <file> <content type> [threads]');
  await runChild(file, contentType, threads === undefined ? undefined : Number(threads));
}
