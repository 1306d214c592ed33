import { randomBytes } from 'node:crypto';

// The run's test files share one twin, where equal bytes are one image and an owner sees every image
// they hold: a file that drew another's seed or owner would find that file's images. Each file draws
// its own at random, never from hand-picked ranges, so files run in any order or in parallel.

/**
 * A random start for one file's image seeds (`let seed = firstSeed()`, then `seed++`): `makeImage`
 * draws every 32-bit seed differently, and a few hundred consecutive seeds from a random start
 * practically never meet another file's.
 */
export function firstSeed(): number {
  return randomBytes(4).readUInt32LE();
}

/** An owner no other file (or run) names: `name` with a random suffix, e.g. `owner-a-5f0c29d1`. */
export function uniqueOwner(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}
