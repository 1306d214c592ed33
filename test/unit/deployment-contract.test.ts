import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { expect, it } from 'vitest';

async function typeScriptFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Each relative import of a file (static, re-export or dynamic), as a path from the repository root. */
async function relativeImports(file: string): Promise<string[]> {
  const { importedFiles } = ts.preProcessFile(await readFile(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative('.', resolve(dirname(file), specifier)));
}

it('the construct takes the deployment contract, never an adapter', async () => {
  const imports = await Promise.all(
    (await typeScriptFiles('lib')).map(async (file) => ({ file, imports: await relativeImports(file) })),
  );
  const adapterImports = imports.flatMap(({ file, imports }) =>
    imports.filter((path) => path.startsWith('lambdas/adapters/')).map((path) => `${file} → ${path}`),
  );
  expect(adapterImports).toEqual([]);
  expect(imports.some(({ imports }) => imports.includes('lambdas/contract.js'))).toBe(true);
});

it('the deployment contract loads nothing at run time: no SDK, no CDK, no other module', async () => {
  const { metafile } = await build({
    entryPoints: ['lambdas/contract.ts'],
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    metafile: true,
    write: false,
  });
  const loaded = Object.values(metafile.outputs).flatMap((output) => [
    ...Object.keys(output.inputs),
    ...output.imports.map((imported) => imported.path),
  ]);
  expect(loaded).toEqual(['lambdas/contract.ts']);
});
