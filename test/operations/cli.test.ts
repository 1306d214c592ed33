import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, variantSetVersion } from '../../lambdas/core/variants.js';
import type { PipelineStats } from '../../lambdas/services/pipeline-stats.js';
import { publishRuntimeFile } from '../../local/runtime/runtime-file.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { aperture } from '../support/operations.js';
import { twinInfo } from '../support/twin.js';

const settings = parseSettings();
/** The shared twin, read only: stats never writes. */
const env = twinFunctionEnvironment(twinInfo(), settings, 'https://cdn.example');
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aperture-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('aperture command line', () => {
  it('answers help with 0, and a wrong command line with 2 and the usage', async () => {
    const help = await aperture(['--help'], {});
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: aperture <command>/);
    for (const command of ['stats', 'reprocess', 'reconcile'])
      expect(help.stdout).toContain(`  ${command}  `);
    const commandHelp = await aperture(['reprocess', '--help'], {});
    expect(commandHelp.status).toBe(0);
    expect(commandHelp.stdout).toContain('--dry-run');

    for (const [args, message] of [
      [[], 'no command given'],
      [['restart'], 'unknown command "restart"'],
      [['stats', '--frobnicate'], "Unknown option '--frobnicate'"],
      [['reconcile', 'now'], 'positional'],
      [['stats', '--stuck-after', 'soon'], '--stuck-after takes a duration'],
      [['reprocess', '--rate', 'fast'], '--rate takes a rate'],
    ] as const) {
      const run = await aperture(args, env);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(message);
      expect(run.stderr).toContain('Usage: aperture');
      expect(run.stdout).toBe('');
    }
  });

  it('says which variable is missing when it is not told where the pipeline is', async () => {
    const run = await aperture(['stats'], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(ENV.table);
    expect(run.stderr).toContain('Say where the pipeline is');
  });

  it('reads the function environment from --env-file, lets flags override it, and exits 1 on a failure', async () => {
    const file = join(await tempDir(), 'env.json');
    await writeFile(file, JSON.stringify(env));
    const ok = await aperture(['stats', '--json', '--env-file', file], {});
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as PipelineStats).variantSetVersion).toBe(
      variantSetVersion(settings.variants),
    );

    const wrong = await aperture(['stats', '--env-file', file, '--table', 'no-such-table'], {});
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^aperture stats: .*ResourceNotFound/);

    await writeFile(file, '["not", "an", "object"]');
    expect((await aperture(['stats', '--env-file', file], {})).status).toBe(2);
  });

  it('works on a running local runtime through the file it publishes', async () => {
    const dataDir = await tempDir();
    const custom = parseSettings({ variants: DEFAULT_VARIANTS.slice(0, 2) });
    const remove = await publishRuntimeFile(dataDir, twinInfo(), custom, {
      cdnBaseUrl: 'http://127.0.0.1:3001',
      apiUrl: 'http://127.0.0.1:3000',
    });
    const run = await aperture(['stats', '--json', '--local', '--data-dir', dataDir], {});
    expect(run.stderr).toBe('');
    expect((JSON.parse(run.stdout) as PipelineStats).variantSetVersion).toBe(
      variantSetVersion(custom.variants),
    );
    await remove();
  });

  it('opens a stopped local runtime’s data, and refuses to queue jobs nothing would read', async () => {
    const dataDir = await tempDir();
    // A file left by a runtime that is gone: a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(
      join(dataDir, 'runtime.json'),
      JSON.stringify({ ...twinInfo(), pid: gone, settings, cdnBaseUrl: 'http://127.0.0.1:3001' }),
    );
    const stats = await aperture(['stats', '--json', '--local', '--data-dir', dataDir], {});
    expect(stats.stderr).toBe('');
    expect((JSON.parse(stats.stdout) as PipelineStats).images.total).toBe(0);

    const reprocess = await aperture(['reprocess', '--local', '--data-dir', dataDir], {});
    expect(reprocess.status).toBe(1);
    expect(reprocess.stderr).toContain('the local runtime is not running');

    const missing = await aperture(['stats', '--local', '--data-dir', join(dataDir, 'nothing-here')], {});
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('run npm start first');
  });

  it('runs as npm run aperture does, with its exit status, with the legacy OpenSSL only for --local', async () => {
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    // As `npm run aperture` runs it: Node's own OpenSSL providers, not the test runner's.
    const nodeOptions = (process.env.NODE_OPTIONS ?? '').replace('--openssl-legacy-provider', '');
    const run = (args: string[]) =>
      promisify(execFile)(tsx, ['bin/aperture-cli.ts', ...args], {
        env: { ...process.env, ...env, NODE_OPTIONS: nodeOptions },
      }).then(
        ({ stdout }) => ({ status: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ status: error.code, stdout: error.stdout }),
      );
    const stopped = await tempDir();
    await writeFile(
      join(stopped, 'runtime.json'),
      JSON.stringify({ ...twinInfo(), pid: spawnSync(process.execPath, ['-e', '']).pid, settings }),
    );
    const [help, wrong, stats, local] = await Promise.all([
      run(['--help']),
      run(['stats', '--bogus']),
      run(['stats', '--json']),
      // Starts the emulators on the stopped runtime's data: s3rver needs the legacy provider.
      run(['stats', '--json', '--local', '--data-dir', stopped]),
    ]);
    expect(help).toMatchObject({ status: 0, stdout: expect.stringMatching(/^Usage: aperture/) });
    expect(wrong.status).toBe(2);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      variantSetVersion: variantSetVersion(settings.variants),
    });
    expect(local.status).toBe(0);
    expect((JSON.parse(local.stdout) as PipelineStats).images.total).toBe(0);
  });
});
