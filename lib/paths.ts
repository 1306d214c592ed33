import { existsSync } from 'node:fs';
import { dirname, join, parse, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const thisFile = fileURLToPath(import.meta.url);

/**
 * The folder of the nearest package.json: the repository when the construct runs from its sources
 * (`lib/`), the installed package when it runs compiled (`dist/lib/`, one level deeper).
 */
function packageRootOf(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
  }
}

/**
 * Absolute paths into the package, so synth behaves the same from any working directory (the CDK
 * CLI, vitest, an IDE) and wherever the package is installed.
 */
export const packageRoot = packageRootOf(thisFile);
export const rootLockfile = join(packageRoot, 'package-lock.json');
export const handlerEntry = (file: string): string => join(packageRoot, 'lambdas', 'handlers', file);
export const sharpLayerDir = join(packageRoot, 'layers', 'sharp');
export const sharpLayerBuildDir = join(sharpLayerDir, 'build');

/** What `npm run build` makes for the packed package: the compiled construct and the handler bundles. */
export const packageBuildDir = join(packageRoot, 'dist');
/** The prebundled code of one handler (its `index.mjs` and source map), made by `bin/bundle-handlers.ts`. */
export const handlerBundleDir = (file: string): string =>
  join(packageBuildDir, 'functions', parse(file).name);
/**
 * True for the compiled construct of a packed or installed package, which deploys the prebundled
 * handlers (ADR 7); false for the repository's sources, which always bundle the handlers checked out,
 * whatever an earlier `npm pack` left in `dist`.
 */
export const runsFromPackageBuild = thisFile.startsWith(`${packageBuildDir}${sep}`);
