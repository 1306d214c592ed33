import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPOSITORY = resolve(import.meta.dirname, '../..');

/** What `npm start` prints and the test needs: every URL it listens on. */
export interface RunningPipeline {
  apiUrl: string;
  cdnUrl: string;
  emulators: { s3: string; dynamodb: string; sqs: string };
  dataDir: string;
  /** Everything the process wrote so far, for failure messages. */
  output(): string;
  /** Ctrl-C (SIGINT to the process group, as a terminal sends it); resolves with the exit code or signal. */
  interrupt(): Promise<number | NodeJS.Signals | null>;
}

const STARTUP_TIMEOUT_MS = 240_000;

/**
 * Runs `npm start` as a user would, on free ports (`--port 0 --cdn-port 0`) and a fresh data dir, and
 * reads the URLs from its banner.
 */
export async function npmStart(extraArgs: readonly string[] = []): Promise<RunningPipeline> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aperture-npm-start-'));
  const child = spawn(
    'npm',
    ['start', '--', '--port', '0', '--cdn-port', '0', '--data-dir', dataDir, ...extraArgs],
    {
      cwd: REPOSITORY,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const banner = await waitForBanner(() => output, exited);
  const url = (label: string) => {
    const found = new RegExp(`${label}\\s+(http://\\S+?)/?(\\s|$)`).exec(banner)?.[1];
    if (!found) throw new Error(`no ${label} URL in the banner:\n${banner}`);
    return found;
  };
  return {
    apiUrl: url('Demo page and API'),
    cdnUrl: url('CDN'),
    emulators: {
      s3: url('S3 \\(s3rver\\)'),
      dynamodb: url('DynamoDB \\(Local\\)'),
      sqs: url('SQS \\(fauxqs\\)'),
    },
    dataDir,
    output: () => output,
    interrupt: () => interrupt(child, exited),
  };
}

async function waitForBanner(
  output: () => string,
  exited: Promise<number | NodeJS.Signals | null>,
): Promise<string> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exitCode: number | NodeJS.Signals | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  while (!output().includes('Ctrl-C stops everything')) {
    if (exitCode !== undefined) throw new Error(`npm start exited (${exitCode}):\n${output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up in time:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return output();
}

async function interrupt(
  child: ChildProcess,
  exited: Promise<number | NodeJS.Signals | null>,
): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return child.exitCode ?? child.signalCode;
  }
  process.kill(-child.pid, 'SIGINT');
  const timeout = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 30_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timeout);
  }
}

/** Whether anything accepts connections at a URL's host and port. */
export function isListening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
