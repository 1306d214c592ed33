import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface WebAsset {
  contentType: string;
  body: Buffer;
}

/** The demo page's files by URL path (`/`, `/app.js`, `/style.css`, `/favicon.svg`); serve exactly these. */
export type WebAssets = ReadonlyMap<string, WebAsset>;

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Browsers with native `<dialog>`, `Intl` units, private class fields and CSS `aspect-ratio`. */
const BROWSER_TARGETS = ['chrome111', 'edge111', 'firefox114', 'safari16.4'];

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Builds the demo page in memory: the script (`web/app.ts`, with Uppy and its other imports) and the
 * style sheet are bundled and minified by esbuild; the HTML and the icon are served as written. The
 * bundle knows no URL: the API is the page's own origin, and image URLs come from its answers.
 */
export async function buildWebAssets(): Promise<WebAssets> {
  const [bundle, html, favicon] = await Promise.all([
    build({
      absWorkingDir: WEB_DIR,
      entryPoints: ['app.ts', 'style.css'],
      outdir: 'out',
      bundle: true,
      format: 'esm',
      target: BROWSER_TARGETS,
      minify: true,
      write: false,
      logLevel: 'silent',
    }),
    readFile(`${WEB_DIR}index.html`),
    readFile(`${WEB_DIR}favicon.svg`),
  ]);
  const assets = new Map<string, WebAsset>([
    ['/', { contentType: 'text/html; charset=utf-8', body: html }],
    ['/favicon.svg', { contentType: 'image/svg+xml', body: favicon }],
  ]);
  for (const output of bundle.outputFiles) {
    const name = basename(output.path);
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) throw new Error(`esbuild wrote ${name}, which the page does not serve`);
    assets.set(`/${name}`, { contentType, body: Buffer.from(output.contents) });
  }
  return assets;
}
