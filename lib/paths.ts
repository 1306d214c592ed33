import { fileURLToPath } from 'node:url';

/**
 * Absolute paths into the repository, so synth behaves the same from any working directory (the CDK
 * CLI, vitest, an IDE).
 */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
export const rootLockfile = fileURLToPath(new URL('../package-lock.json', import.meta.url));
export const handlerEntry = (file: string): string =>
  fileURLToPath(new URL(`../lambdas/handlers/${file}`, import.meta.url));
export const sharpLayerBuildDir = fileURLToPath(new URL('../layers/sharp/build', import.meta.url));
