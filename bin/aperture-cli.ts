import { readFile } from 'node:fs/promises';
import { runCli } from '../lambdas/cli/main.js';
import { openLocalTarget } from '../local/runtime/local-target.js';

/** `npm run aperture -- <command>`: the operator CLI (the CDK app is bin/aperture.ts). */
process.exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTerminal: process.stderr.isTTY === true,
  },
  { env: process.env, openLocal: openLocalTarget, readFile: (path) => readFile(path, 'utf8') },
);
