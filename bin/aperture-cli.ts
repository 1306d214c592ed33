import { spawn } from 'node:child_process';
import { getCiphers } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { runCli } from '../cli/main.js';
import { stackOutputs } from '../lambdas/adapters/aws/stack-outputs.js';

const args = process.argv.slice(2);

/**
 * `--local` may start the emulators on a stopped runtime's data, and s3rver pages listings with a
 * cipher OpenSSL 3 keeps in its legacy provider (ADR 4). Only then does the CLI run again with that
 * provider; against a deployment it runs with Node's defaults.
 */
const needsLegacyOpenssl = args.includes('--local') && !getCiphers().includes('des');

if (needsLegacyOpenssl) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider` },
  });
  // Ctrl-C reaches the child too (one process group): it decides when to stop.
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 128 + 2 : 1);
  });
} else {
  // The first Ctrl-C lets a command stop cleanly (finish what is in flight, report); a second one quits.
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping after the work in flight (Ctrl-C again to quit now)…\n');
    interrupt.abort();
  });

  // The local runtime (and with it the emulators, dev dependencies) is loaded only for `--local`.
  const localRuntime = () => import('../local/runtime/local-target.js');

  /** `npm run aperture -- <command>`: the operator CLI (the CDK app is bin/aperture.ts). */
  process.exitCode = await runCli(
    args,
    {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      stderrIsTerminal: process.stderr.isTTY === true,
    },
    {
      env: process.env,
      openLocal: async (dataDir) => (await localRuntime()).openLocalTarget(dataDir),
      openLocalApi: async (dataDir) => (await localRuntime()).openLocalApi(dataDir),
      stackOutputs,
      readFile: (path) => readFile(path, 'utf8'),
      signal: interrupt.signal,
    },
  );
}
