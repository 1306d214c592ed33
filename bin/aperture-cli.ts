import { readFile } from 'node:fs/promises';
import { stackOutputs } from '../lambdas/adapters/aws/stack-outputs.js';
import { runCli } from '../lambdas/cli/main.js';
import { openLocalApi, openLocalTarget } from '../local/runtime/local-target.js';

// The first Ctrl-C lets a command stop cleanly (finish what is in flight, report); a second one quits.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  process.stderr.write('\nStopping after the work in flight (Ctrl-C again to quit now)…\n');
  interrupt.abort();
});

/** `npm run aperture -- <command>`: the operator CLI (the CDK app is bin/aperture.ts). */
process.exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTerminal: process.stderr.isTTY === true,
  },
  {
    env: process.env,
    openLocal: openLocalTarget,
    openLocalApi,
    stackOutputs,
    readFile: (path) => readFile(path, 'utf8'),
    signal: interrupt.signal,
  },
);
