#!/usr/bin/env node
/**
 * Builds the sharp layer for the Lambda platform (linux, arm64, glibc), whatever machine runs it.
 *
 * npm installs the layer's own lockfile with `--os/--cpu/--libc` set to the target, so the native
 * addon and libvips come from the prebuilt `@img/sharp-linux-arm64` packages; install scripts stay off
 * because sharp's would probe (or try to compile for) the host instead. The install happens in a temp
 * dir, outside the repo's workspace, and lands in `build/nodejs/node_modules` (the layout Lambda puts
 * on the module path under `/opt`). Runs as the root `postinstall`, so `cdk synth` needs no network,
 * and skips all work when the stamp says the build already matches the lockfile.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET = { os: 'linux', cpu: 'arm64', libc: 'glibc' };
/** The files whose presence proves the build targets Lambda arm64; the infra test checks them in depth. */
const REQUIRED = [
  'sharp/package.json',
  '@img/sharp-linux-arm64/package.json',
  '@img/sharp-libvips-linux-arm64',
];

const layerDir = dirname(fileURLToPath(import.meta.url));
const buildDir = join(layerDir, 'build');
const modulesDir = join(buildDir, 'nodejs', 'node_modules');
const stampFile = join(buildDir, '.stamp');

const lockfile = readFileSync(join(layerDir, 'package-lock.json'));
const stamp = createHash('sha256').update(JSON.stringify(TARGET)).update(lockfile).digest('hex');

const isComplete = () => REQUIRED.every((path) => existsSync(join(modulesDir, path)));

if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp && isComplete()) {
  console.log('sharp layer: up to date (layers/sharp/build)');
  process.exit(0);
}

/**
 * npm lifecycle scripts inherit the parent install's `npm_config_*` settings (omit, prefix, global,
 * os/cpu...). Keep only those about reaching the registry, so this nested install sees its own flags.
 */
const REGISTRY_SETTINGS =
  /^npm_config_(registry|userconfig|cache|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || REGISTRY_SETTINGS.test(name)),
);

const workDir = mkdtempSync(join(tmpdir(), 'aperture-sharp-layer-'));
try {
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(layerDir, file), join(workDir, file));
  const args = [
    'ci',
    '--omit=dev',
    `--os=${TARGET.os}`,
    `--cpu=${TARGET.cpu}`,
    `--libc=${TARGET.libc}`,
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
  ];
  console.log(`sharp layer: npm ${args.join(' ')}`);
  const npm = spawnSync('npm', args, {
    cwd: workDir,
    env,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (npm.status !== 0) {
    throw new Error(`npm ci for the sharp layer failed (exit ${npm.status ?? npm.signal ?? npm.error})`);
  }

  const installed = join(workDir, 'node_modules');
  // The runtime ships its own AWS SDK; a copy in the layer would shadow it for every function.
  if (existsSync(join(installed, '@aws-sdk'))) {
    throw new Error('the sharp layer must not contain @aws-sdk; check layers/sharp/package.json');
  }
  // Nothing in a layer runs npm or its bins.
  rmSync(join(installed, '.package-lock.json'), { force: true });
  rmSync(join(installed, '.bin'), { recursive: true, force: true });

  // Assemble beside the old build, then swap, so an interrupted run never leaves a half layer behind.
  const staging = `${buildDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(installed, join(staging, 'nodejs', 'node_modules'), { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(staging, '.stamp'), `${stamp}\n`);
  rmSync(buildDir, { recursive: true, force: true });
  renameSync(staging, buildDir);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

const missing = REQUIRED.filter((path) => !existsSync(join(modulesDir, path)));
if (missing.length > 0) {
  throw new Error(`the sharp layer build lacks ${missing.join(', ')}: is npm >= 10 (for --libc) in use?`);
}
console.log('sharp layer: built for linux-arm64 (glibc) in layers/sharp/build');
