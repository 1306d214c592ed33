import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { IngestCounts } from '../../cli/bulk/ingest-tree.js';
import { readRuntimeFile } from '../../local/runtime/runtime-file.js';
import { TWIN_CREDENTIALS } from '../../local/twin/index.js';
import { npmStart } from '../support/npm-start.js';
import { photoLikeJpeg } from './images.js';
import { childCpuMs, MB } from './stats.js';

const REPOSITORY = resolve(import.meta.dirname, '../..');

/** Clock ticks per second of `/proc` times (USER_HZ): 100 on every Linux Node runs on (see stats.ts). */
const TICKS_PER_SECOND = 100;

/** How long the render backlog of one library may take to drain before the bench gives up on it. */
const DRAIN_TIMEOUT_MS = 60 * 60_000;
/** How long the render jobs in flight may take to finish once the backlog is dropped. */
const QUIET_TIMEOUT_MS = 5 * 60_000;

export const BULK_CPU_MEASURE =
  'CPU is counted over the CLI run window only (spawn to exit); the runtime renders variants meanwhile and' +
  ' goes on after it. CLI CPU: user + system time of the CLI process, from the cutime + cstime this process' +
  ' gains when it reaps it. Runtime CPU: for every live process under the `npm start` child (npm, sh, tsx,' +
  ' node, esbuild, java), utime + stime + cutime + cstime from /proc/<pid>/stat, summed over the tree at the' +
  ' start and the end of the window (a descendant that exits meanwhile is counted by the parent that reaps' +
  ' it). Core busy %: user + nice + system + irq + softirq of each cpuN line of /proc/stat over the window.';

export interface BulkLibrary {
  name: 'small' | 'large';
  images: number;
  width: number;
  height: number;
}

export interface CpuWindow {
  cliSeconds: number;
  runtimeSeconds: number;
  /** The runtime's CPU seconds by process name (node: API, functions, S3, SQS; java: DynamoDB Local). */
  runtimeByProcess: Record<string, number>;
  /**
   * The runtime's node process split: its main thread (JavaScript: API, handlers, s3rver, fauxqs) and
   * every other thread (libuv's pool, where sharp encodes and files are read and written; V8's helpers).
   */
  runtimeNode: { mainThreadSeconds: number; otherThreadsSeconds: number } | undefined;
  /** Busy seconds of every core together. */
  machineSeconds: number;
  /** Busy seconds of neither the CLI nor the runtime: this bench, and whatever else shares the machine. */
  otherSeconds: number;
  /** Per core (`cpu0`, `cpu1`, …): busy and stolen share of the window. */
  cores: Record<string, { busyPercent: number; stealPercent: number }>;
}

export interface CliRun {
  counts: IngestCounts;
  files: number;
  /** Spawn to exit, Node and tsx start-up included. */
  wallSeconds: number;
  /** The CLI's own `elapsedMs`: its walk, hashing and uploads. */
  cliElapsedSeconds: number;
  filesPerSecond: number;
  /** Undefined without `/proc`. */
  cpu: CpuWindow | undefined;
}

export interface BulkLibraryResult extends BulkLibrary {
  /** Sum of the files' sizes. */
  mb: number;
  first: CliRun & { imagesPerSecond: number; mbPerSecond: number; bytesUploaded: number };
  /**
   * The render work left when the CLI finished (SQS messages waiting or in flight on the lanes), and
   * what became of it before the rerun: `drained` (rendered: seconds until the queues were empty, and
   * the runtime's CPU meanwhile) or `purged` (dropped, then the jobs in flight let finish).
   */
  renderBacklog: {
    jobsLeft: number;
    handling: 'drained' | 'purged';
    seconds: number;
    runtimeCpuSeconds: number | undefined;
  };
  /** The same command again on the same checkpoint, once the runtime is quiet: every file `unchanged`. */
  rerun: CliRun;
}

export interface BulkResult {
  /** `--concurrency` given to the CLI (its default is 8). */
  concurrency: number;
  quality: number;
  generateSeconds: number;
  /** Render invocations at once per lane (`npm start --workers`; its default is the machine's cores). */
  workersPerLane: number;
  /** The runtime's CPU use when idle (its pollers and the JVM), in % of one core. */
  runtimeIdleCpuPercent: number | undefined;
  libraries: BulkLibraryResult[];
  cpuMeasure: string;
  seconds: number;
}

/**
 * Bulk ingest throughput on the local runtime: generated libraries of photo-like JPEGs in nested
 * folders, brought in by `aperture ingest DIR --local` as a user would, against `npm start` running
 * as another process, so that the CPU time of the CLI, of the runtime and of each core can be told
 * apart. Each library is ingested, its render backlog dropped (or, with `drain`, rendered), then
 * ingested again from the same checkpoint: the resume and skip rate.
 */
export async function benchBulkIngest(options: {
  small: number;
  large: number;
  concurrency: number;
  /** Wait for every variant to be rendered between runs, instead of dropping the render backlog. */
  drain: boolean;
  /** `npm start --workers`: render invocations at once per lane. @default the machine's cores */
  workers?: number;
  log?: (line: string) => void;
}): Promise<BulkResult> {
  const started = performance.now();
  const log = (line: string) => options.log?.(`${seconds(performance.now() - started)} s: ${line}`);
  const quality = 90;
  const libraries: BulkLibrary[] = [
    { name: 'small', images: options.small, width: 640, height: 480 },
    { name: 'large', images: options.large, width: 4000, height: 3000 },
  ];
  const workDir = await mkdtemp(join(tmpdir(), 'aperture-bulk-bench-'));
  let runtime: Awaited<ReturnType<typeof npmStart>> | undefined;
  try {
    const generating = performance.now();
    const warmUpRoot = join(workDir, 'warm-up');
    await writeLibrary(warmUpRoot, { name: 'small', images: 2, width: 640, height: 480 }, 900_000);
    const roots: string[] = [];
    const sizes: number[] = [];
    for (const [index, library] of libraries.entries()) {
      log(`generating ${library.images} ${library.width}x${library.height} JPEGs`);
      const root = join(workDir, library.name);
      sizes.push(await writeLibrary(root, library, (index + 1) * 100_000));
      roots.push(root);
    }
    const generateSeconds = seconds(performance.now() - generating);

    log('starting npm start');
    runtime = await npmStart(options.workers ? ['--workers', String(options.workers)] : []);
    const { dataDir } = runtime;
    const runtimeFile = await readRuntimeFile(dataDir);
    if (!runtimeFile) throw new Error(`npm start wrote no runtime.json:\n${runtime.output()}`);
    const probe: RuntimeProbe = { root: childAncestor(runtimeFile.pid), node: runtimeFile.pid };
    const lanes = new Lanes(runtimeFile);
    const cli = (root: string, owner: string, checkpoint: string) =>
      runCli(
        [
          'ingest',
          root,
          '--local',
          '--data-dir',
          dataDir,
          '--owner',
          owner,
          '--checkpoint',
          checkpoint,
          '--concurrency',
          String(options.concurrency),
          '--json',
        ],
        probe,
      );
    try {
      // Warms tsx's cache, the API and the functions, so the first library does not pay for them.
      await cli(warmUpRoot, 'bench-warm-up', join(workDir, 'warm-up.sqlite'));
      await lanes.drain();
      const runtimeIdleCpuPercent = await idleCpuPercent(probe);

      const results: BulkLibraryResult[] = [];
      for (const [index, library] of libraries.entries()) {
        const root = roots[index] as string;
        const bytes = sizes[index] as number;
        const owner = `bench-${library.name}`;
        const checkpoint = join(workDir, `${library.name}.sqlite`);
        log(`ingesting the ${library.name} library`);
        const first = await cli(root, owner, checkpoint);
        if (first.report.counts.new !== library.images)
          throw new Error(`expected ${library.images} new images: ${JSON.stringify(first.report.counts)}`);

        const jobsLeft = await lanes.depth();
        log(
          `${options.drain ? 'rendering' : 'dropping'} the ${library.name} library's ${jobsLeft} render jobs left`,
        );
        const backlogStart = performance.now();
        const cpuBefore = probe.root === undefined ? undefined : treeCpuTicks(probe.root).total;
        if (options.drain) await lanes.drain();
        else {
          await lanes.purge();
          await waitForQuiet(probe, runtimeIdleCpuPercent);
        }
        const cpuAfter = probe.root === undefined ? undefined : treeCpuTicks(probe.root).total;
        const backlogSeconds = seconds(performance.now() - backlogStart);

        log(`ingesting the ${library.name} library again`);
        const rerun = await cli(root, owner, checkpoint);
        if (rerun.report.counts.unchanged !== library.images)
          throw new Error(`expected every file unchanged: ${JSON.stringify(rerun.report.counts)}`);
        const wall = first.run.wallSeconds;
        results.push({
          ...library,
          mb: round(bytes / MB),
          first: {
            ...first.run,
            imagesPerSecond: round(library.images / wall),
            mbPerSecond: round(bytes / MB / wall),
            bytesUploaded: first.report.bytesUploaded,
          },
          renderBacklog: {
            jobsLeft,
            handling: options.drain ? 'drained' : 'purged',
            seconds: backlogSeconds,
            runtimeCpuSeconds:
              cpuBefore === undefined || cpuAfter === undefined
                ? undefined
                : round((cpuAfter - cpuBefore) / TICKS_PER_SECOND),
          },
          rerun: rerun.run,
        });
      }
      return {
        concurrency: options.concurrency,
        quality,
        generateSeconds,
        workersPerLane: options.workers ?? availableParallelism(),
        runtimeIdleCpuPercent,
        libraries: results,
        cpuMeasure: BULK_CPU_MEASURE,
        seconds: seconds(performance.now() - started),
      };
    } finally {
      lanes.close();
    }
  } finally {
    const dataDir = runtime?.dataDir;
    await runtime?.interrupt();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  }
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const seconds = (ms: number): number => round(ms / 1000);

/**
 * Writes `library.images` distinct photo-like JPEGs (each its own seed) into twelve folders two levels
 * deep, `year-*\/album-*`, as a camera roll would be; returns their total bytes. Two at a time, so one
 * image's pixels are made while sharp encodes the other's.
 */
async function writeLibrary(root: string, library: BulkLibrary, seedBase: number): Promise<number> {
  let next = 0;
  let bytes = 0;
  const writer = async () => {
    for (let i = next++; i < library.images; i = next++) {
      const path = join(root, `year-${2020 + (i % 3)}`, `album-${i % 4}`, `photo-${i}.jpg`);
      const jpeg = await photoLikeJpeg(library.width, library.height, seedBase + i);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, jpeg);
      bytes += jpeg.length;
    }
  };
  await Promise.all([writer(), writer()]);
  return bytes;
}

interface CliOutcome {
  run: CliRun;
  report: { counts: IngestCounts; files: number; bytesUploaded: number; elapsedMs: number };
}

/** `aperture …` as its own process (`bin/aperture-cli.ts` under tsx), with the CPU of its run window. */
async function runCli(args: readonly string[], probe: RuntimeProbe): Promise<CliOutcome> {
  const before = cpuSnapshot(probe);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/aperture-cli.ts', ...args], {
    cwd: REPOSITORY,
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
  const exit = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const wallMs = performance.now() - started;
  const after = cpuSnapshot(probe);
  if (exit !== 0) throw new Error(`aperture ${args.join(' ')} exited ${exit}:\n${stderr}\n${stdout}`);
  const report = JSON.parse(stdout) as CliOutcome['report'];
  return {
    report,
    run: {
      counts: report.counts,
      files: report.files,
      wallSeconds: round(wallMs / 1000, 2),
      cliElapsedSeconds: round(report.elapsedMs / 1000, 2),
      filesPerSecond: round(report.files / (wallMs / 1000)),
      cpu: before && after ? cpuWindow(before, after) : undefined,
    },
  };
}

/** The runtime's render lanes, as their SQS queues show them. */
class Lanes {
  private readonly sqs: SQSClient;
  private readonly queueUrls: string[];

  constructor(runtime: NonNullable<Awaited<ReturnType<typeof readRuntimeFile>>>) {
    this.sqs = new SQSClient({
      region: runtime.region,
      endpoint: runtime.endpoints.sqs,
      credentials: TWIN_CREDENTIALS,
    });
    this.queueUrls = Object.values(runtime.resources.queues).map((queue) => queue.url);
  }

  /** Render jobs waiting, in flight or delayed, on every lane. */
  async depth(): Promise<number> {
    const depths = await Promise.all(
      this.queueUrls.map(async (QueueUrl) => {
        const { Attributes = {} } = await this.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        );
        return Object.values(Attributes).reduce((sum, value) => sum + Number(value), 0);
      }),
    );
    return depths.reduce((sum, depth) => sum + depth, 0);
  }

  /** Until every lane is empty twice in a row. */
  async drain(): Promise<void> {
    const started = performance.now();
    for (let emptyPolls = 0; emptyPolls < 2; ) {
      if (performance.now() - started > DRAIN_TIMEOUT_MS)
        throw new Error(`render work still queued after ${DRAIN_TIMEOUT_MS / 60_000} min`);
      await sleep(250);
      emptyPolls = (await this.depth()) === 0 ? emptyPolls + 1 : 0;
    }
  }

  /** Drops every job waiting or in flight; those being rendered finish (their deletes then miss). */
  async purge(): Promise<void> {
    await Promise.all(this.queueUrls.map((QueueUrl) => this.sqs.send(new PurgeQueueCommand({ QueueUrl }))));
  }

  close(): void {
    this.sqs.destroy();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The runtime's CPU use, in % of one core, over `ms`. */
async function runtimeCpuPercent(probe: RuntimeProbe, ms: number): Promise<number | undefined> {
  if (probe.root === undefined) return undefined;
  const before = treeCpuTicks(probe.root).total;
  await sleep(ms);
  return round(((treeCpuTicks(probe.root).total - before) / TICKS_PER_SECOND / (ms / 1000)) * 100);
}

/** The runtime's CPU use over three idle seconds, in % of one core. */
const idleCpuPercent = (probe: RuntimeProbe) => runtimeCpuPercent(probe, 3000);

/** Until the runtime's CPU use is back within 20 points of idle for two seconds running. */
async function waitForQuiet(probe: RuntimeProbe, idlePercent: number | undefined): Promise<void> {
  if (probe.root === undefined || idlePercent === undefined) return sleep(10_000);
  const started = performance.now();
  for (let quietSeconds = 0; quietSeconds < 2; ) {
    if (performance.now() - started > QUIET_TIMEOUT_MS) throw new Error('the runtime did not go quiet');
    const percent = (await runtimeCpuPercent(probe, 1000)) ?? 0;
    quietSeconds = percent <= idlePercent + 20 ? quietSeconds + 1 : 0;
  }
}

// --- /proc ---

/** Where the runtime's CPU is read: its whole tree (from `npm`) and its node process (runtime.json's pid). */
interface RuntimeProbe {
  /** Undefined without `/proc`. */
  root: number | undefined;
  node: number;
}

interface CpuSnapshot {
  /** This process's reaped children (the CLI, once it has exited), ms. */
  childMs: number;
  runtime: { total: number; byCommand: Record<string, number> } | undefined;
  /** The runtime's node process: its own ticks, and its main thread's. */
  node: { process: number; mainThread: number } | undefined;
  /** `/proc/stat` lines by name (`cpu`, `cpu0`, …): ticks by field. */
  cores: Map<string, number[]>;
}

function cpuSnapshot(probe: RuntimeProbe): CpuSnapshot | undefined {
  const childMs = childCpuMs();
  if (childMs === undefined || probe.root === undefined) return undefined;
  const cores = new Map<string, number[]>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const [name, ...fields] = line.trim().split(/\s+/);
    if (name?.startsWith('cpu')) cores.set(name, fields.map(Number));
  }
  const ownTicks = (path: string): number | undefined => {
    try {
      const fields = statFields(readFileSync(path, 'utf8')).fields;
      return fields(14) + fields(15);
    } catch {
      return undefined;
    }
  };
  const nodeProcess = ownTicks(`/proc/${probe.node}/stat`);
  const mainThread = ownTicks(`/proc/${probe.node}/task/${probe.node}/stat`);
  return {
    childMs,
    runtime: treeCpuTicks(probe.root),
    node:
      nodeProcess === undefined || mainThread === undefined
        ? undefined
        : { process: nodeProcess, mainThread },
    cores,
  };
}

/** user nice system idle iowait irq softirq steal (guest time is already in user and nice). */
function coreTicks(fields: readonly number[]): { busy: number; steal: number; total: number } {
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

const tickSeconds = (ticks: number): number => round(ticks / TICKS_PER_SECOND, 2);

function cpuWindow(before: CpuSnapshot, after: CpuSnapshot): CpuWindow {
  const cores: CpuWindow['cores'] = {};
  let machineTicks = 0;
  for (const [name, fields] of after.cores) {
    const start = coreTicks(before.cores.get(name) ?? []);
    const end = coreTicks(fields);
    const total = Math.max(end.total - start.total, 1);
    if (name === 'cpu') {
      machineTicks = end.busy - start.busy;
      continue;
    }
    cores[name] = {
      busyPercent: round(((end.busy - start.busy) / total) * 100),
      stealPercent: round(((end.steal - start.steal) / total) * 100),
    };
  }
  const runtimeByProcess: Record<string, number> = {};
  for (const [command, ticks] of Object.entries(after.runtime?.byCommand ?? {})) {
    const spent = ticks - (before.runtime?.byCommand[command] ?? 0);
    if (spent > 0) runtimeByProcess[command] = tickSeconds(spent);
  }
  const cliTicks = ((after.childMs - before.childMs) / 1000) * TICKS_PER_SECOND;
  const runtimeTicks = (after.runtime?.total ?? 0) - (before.runtime?.total ?? 0);
  let runtimeNode: CpuWindow['runtimeNode'];
  if (before.node && after.node) {
    const mainThread = after.node.mainThread - before.node.mainThread;
    runtimeNode = {
      mainThreadSeconds: tickSeconds(mainThread),
      otherThreadsSeconds: tickSeconds(after.node.process - before.node.process - mainThread),
    };
  }
  return {
    cliSeconds: tickSeconds(cliTicks),
    runtimeSeconds: tickSeconds(runtimeTicks),
    runtimeByProcess,
    runtimeNode,
    machineSeconds: tickSeconds(machineTicks),
    otherSeconds: tickSeconds(Math.max(machineTicks - cliTicks - runtimeTicks, 0)),
    cores,
  };
}

/** A `/proc/.../stat` line: its command name (field 2, in parentheses, may hold spaces) and field `n`. */
function statFields(stat: string): { command: string; fields: (n: number) => number } {
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  return { command: stat.slice(stat.indexOf('(') + 1, close), fields: (n) => Number(rest[n - 3]) };
}

interface ProcessStat {
  ppid: number;
  command: string;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it has reaped. */
  ticks: number;
}

/** Every process's `/proc/<pid>/stat`, by pid. */
function processTable(): Map<number, ProcessStat> {
  const table = new Map<number, ProcessStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Gone since the listing.
    }
    const { command, fields } = statFields(stat);
    table.set(Number(entry), {
      ppid: fields(4),
      command,
      ticks: fields(14) + fields(15) + fields(16) + fields(17),
    });
  }
  return table;
}

/** CPU ticks of a process and all its live descendants, in all and by command name. */
function treeCpuTicks(root: number): { total: number; byCommand: Record<string, number> } {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const pending = [root]; pending.length > 0; ) {
    const pid = pending.pop() as number;
    const stat = table.get(pid);
    if (!stat) continue;
    total += stat.ticks;
    byCommand[stat.command] = (byCommand[stat.command] ?? 0) + stat.ticks;
    pending.push(...(children.get(pid) ?? []));
  }
  return { total, byCommand };
}

/** The ancestor of `pid` this process started (`npm start`'s npm): the root of the runtime's tree. */
function childAncestor(pid: number): number | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const table = processTable();
  for (let current = pid; ; ) {
    const ppid = table.get(current)?.ppid;
    if (ppid === undefined || ppid <= 1) throw new Error(`process ${pid} is not under this one`);
    if (ppid === process.pid) return current;
    current = ppid;
  }
}
