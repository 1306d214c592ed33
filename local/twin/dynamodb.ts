import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { TWIN_CREDENTIALS, TWIN_REGION } from './environment.js';
import { TwinStartError } from './errors.js';
import { endpointUrl, listen } from './net.js';
import { onParentExit } from './parent-exit.js';

export interface DynamoDbEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

export interface DynamoDbEmulatorOptions {
  /** Where clients connect. DynamoDB Local has no bind option: it always listens on every interface. */
  host: string;
  /** 0 picks a free one. */
  port: number;
  /**
   * The JVM's working directory, where the database file lives unless inMemory. Needed either way:
   * DynamoDB Local writes `dynamodb-local-metadata.json` into it, even with telemetry disabled.
   */
  directory: string;
  inMemory: boolean;
}

/** A cold JVM on a loaded CI runner is slow; ~3 s is typical on a laptop. */
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

/** Thrown when Java could not bind the port we picked, which another process took in the meantime. */
class PortTakenError extends TwinStartError {}

/**
 * DynamoDB Local (the jar shipped in amplify-dynamodb-simulator) in a Java child process. Chosen over
 * dynalite because the catalog needs TransactWriteItems and TTL; the price is a JVM to start and kill.
 */
export async function startDynamoDb(options: DynamoDbEmulatorOptions): Promise<DynamoDbEmulator> {
  for (let attempt = 1; ; attempt++) {
    const port = await bindablePort(options.port);
    try {
      return await launch(port, options);
    } catch (error) {
      // A port we picked ourselves can be taken between our check and Java's bind: pick another.
      if (error instanceof PortTakenError && options.port === 0 && attempt < 3) continue;
      throw error;
    }
  }
}

async function launch(port: number, options: DynamoDbEmulatorOptions): Promise<DynamoDbEmulator> {
  const emulatorDir = join(
    dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')),
    'emulator',
  );
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const args = [
    `-Djava.library.path=${join(emulatorDir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulatorDir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    // Without it every access key and region gets its own database and clients miss each other's tables.
    '-sharedDb',
    '-disableTelemetry',
    ...(options.inMemory ? ['-inMemory'] : ['-dbPath', options.directory]),
  ];
  const child = spawn(java, args, { cwd: options.directory, stdio: ['ignore', 'ignore', 'pipe'] });
  // A JVM outlives a Node parent that dies without stopping it.
  const release = onParentExit(() => child.kill('SIGKILL'));

  let spawnError: NodeJS.ErrnoException | undefined;
  let exit: string | undefined;
  let stderr = '';
  child.once('error', (error) => {
    spawnError = error;
  });
  child.once('exit', (code, signal) => {
    exit = signal ?? `code ${code}`;
  });
  // Keep draining stderr for the child's whole life so a chatty JVM never blocks on a full pipe.
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });

  const endpoint = endpointUrl(options.host, port);
  const probe = new DynamoDBClient({
    endpoint,
    region: TWIN_REGION,
    credentials: TWIN_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (spawnError) {
        throw new TwinStartError(
          `DynamoDB Local needs Java 17 or newer, on PATH or in JAVA_HOME; starting "${java}" failed: ${spawnError.message}`,
          { cause: spawnError },
        );
      }
      if (exit) {
        throw new TwinStartError(
          `DynamoDB Local (needs Java 17 or newer) exited during startup (${exit}):\n${stderr.trim()}`,
        );
      }
      // On a bind failure the JVM prints the exception but keeps running, so watch for it.
      if (stderr.includes('Failed to bind')) {
        throw new PortTakenError(`DynamoDB Local could not listen on port ${port}:\n${stderr.trim()}`);
      }
      if (Date.now() > deadline) {
        throw new TwinStartError(`DynamoDB Local did not answer within ${STARTUP_TIMEOUT_MS / 1000} s`);
      }
      if (await answers(probe)) break;
      await sleep(100);
    }
  } catch (error) {
    await terminate(child);
    release();
    throw error;
  } finally {
    probe.destroy();
  }

  return {
    endpoint,
    async stop() {
      await terminate(child);
      release();
    },
  };
}

async function answers(client: DynamoDBClient): Promise<boolean> {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves a port Java can bind on every interface: the given one if free, else a fresh one when 0.
 * Checking first matters: were the port held by a stray emulator, our readiness probe would get its
 * answers while our JVM sat there unable to bind.
 */
async function bindablePort(port: number): Promise<number> {
  const server = createServer();
  let bound: number;
  try {
    bound = await listen(server, '0.0.0.0', port);
  } catch (error) {
    throw new TwinStartError(`DynamoDB Local cannot use port ${port}: it is already in use`, {
      cause: error,
    });
  }
  await new Promise((resolve) => server.close(resolve));
  return bound;
}

/** Asks the JVM to stop, insists after a grace period, and resolves once it is gone. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
