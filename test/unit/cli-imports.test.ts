import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { expect, it } from 'vitest';

/** The emulators: dev dependencies, absent where the CLI is installed to run against AWS. */
const EMULATORS = ['s3rver', 'fauxqs', 'amplify-dynamodb-simulator'];

/**
 * What `bin/aperture-cli.ts` loads before it runs a command: its static imports, transitively, as
 * esbuild resolves them. Dynamic imports are left out; they load only when reached.
 */
async function loadedAtStart(): Promise<{ files: string[]; packages: string[] }> {
  const outdir = await mkdtemp(join(tmpdir(), 'aperture-cli-imports-'));
  try {
    const { metafile } = await build({
      entryPoints: ['bin/aperture-cli.ts'],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      metafile: true,
      write: false,
      outdir,
    });
    return staticClosure(metafile);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

function staticClosure(metafile: Metafile): { files: string[]; packages: string[] } {
  const entry = Object.keys(metafile.outputs).find((out) => metafile.outputs[out]?.entryPoint);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const files = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    const meta = metafile.outputs[output];
    if (!meta) return;
    for (const input of Object.keys(meta.inputs)) files.add(input);
    for (const imported of meta.imports) {
      if (imported.kind !== 'import-statement') continue;
      if (imported.external) packages.add(imported.path);
      else visit(imported.path);
    }
  };
  if (entry) visit(entry);
  return { files: [...files], packages: [...packages] };
}

it('the CLI loads no emulator and no local runtime unless --local asks for it', async () => {
  const { files, packages } = await loadedAtStart();
  expect(files).toContain('cli/main.ts');
  expect(files.filter((file) => file.startsWith('local/'))).toEqual([]);
  expect(packages.filter((name) => EMULATORS.some((emulator) => name.startsWith(emulator)))).toEqual([]);
});
