import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER } from '../../lib/aperture-function.js';
import { buildHeif } from '../support/heif-builder.js';

const run = promisify(execFile);
const REPOSITORY = resolve(import.meta.dirname, '../..');

/**
 * libheif-js is Emscripten output that reads `__dirname` as it starts: bundled as the functions are
 * (ESM, minified, the construct's banner), it must still decode. The sources under vitest cannot
 * show that; only a bundle run by plain Node can.
 */
describe('the HEIC decoder inside a function bundle', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'aperture-heic-bundle-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('decodes a HEIC when bundled as the construct bundles handlers', async () => {
    const heic = join(scratch, 'photo.heic');
    await writeFile(heic, buildHeif({ grid: { rows: 2, columns: 2 } }));
    const entry = join(scratch, 'entry.ts');
    await writeFile(
      entry,
      [
        "import { readFileSync } from 'node:fs';",
        `import { decodeHeifAsTiff } from ${JSON.stringify(join(REPOSITORY, 'lambdas/core/heif/decode.ts'))};`,
        'const tiff = decodeHeifAsTiff(readFileSync(process.argv[2]), undefined);',
        'process.stdout.write(String(tiff.length));',
      ].join('\n'),
    );
    const bundle = join(scratch, 'index.mjs');
    await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: 'silent',
    });
    const { stdout } = await run(process.execPath, [bundle, heic], { cwd: scratch });
    // 128 x 128 RGB after the TIFF's head.
    expect(Number(stdout)).toBeGreaterThan(128 * 128 * 3);
  }, 60_000);
});
