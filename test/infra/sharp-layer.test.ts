import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharpLayerBuildDir } from '../../lib/paths.js';

const modules = join(sharpLayerBuildDir, 'nodejs', 'node_modules');
const EM_AARCH64 = 0xb7;

/** The ELF identification and machine fields: what a loader checks before anything else. */
function elfHeader(file: string) {
  const bytes = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
  return {
    magic: bytes.subarray(0, 4).toString('latin1'),
    is64Bit: bytes[4] === 2,
    isLittleEndian: bytes[5] === 1,
    machine: bytes.readUInt16LE(18),
  };
}

const expectAarch64Elf = (file: string) =>
  expect(elfHeader(file), file).toEqual({
    magic: '\x7fELF',
    is64Bit: true,
    isLittleEndian: true,
    machine: EM_AARCH64,
  });

const lockedSharp = (lockfile: string): string | undefined =>
  JSON.parse(readFileSync(lockfile, 'utf8')).packages['node_modules/sharp']?.version;

describe('the built sharp layer', () => {
  it('exists (npm ci builds it; otherwise run `npm run build:layer`)', () => {
    expect(existsSync(join(modules, 'sharp', 'package.json')), `${modules} is missing`).toBe(true);
  });

  it('holds the sharp addon for linux-arm64 as an aarch64 ELF', () => {
    const lib = join(modules, '@img', 'sharp-linux-arm64', 'lib');
    const addons = readdirSync(lib).filter((file) => file.endsWith('.node'));
    expect(addons).toHaveLength(1);
    for (const addon of addons) expectAarch64Elf(join(lib, addon));
  });

  it('holds libvips for linux-arm64 as an aarch64 ELF', () => {
    const lib = join(modules, '@img', 'sharp-libvips-linux-arm64', 'lib');
    const libvips = readdirSync(lib).filter((file) => /^libvips-cpp\.so/.test(file));
    expect(libvips).toHaveLength(1);
    for (const library of libvips) expectAarch64Elf(join(lib, library));
  });

  it('holds no binaries for any other platform', () => {
    const platformPackages = readdirSync(join(modules, '@img')).filter((name) => name.startsWith('sharp-'));
    expect(platformPackages.sort()).toEqual(['sharp-libvips-linux-arm64', 'sharp-linux-arm64']);
  });

  it('ships no @aws-sdk, which would shadow the runtime SDK', () => {
    expect(existsSync(join(modules, '@aws-sdk'))).toBe(false);
  });

  it('is the sharp version the root lockfile pins', () => {
    const root = lockedSharp(fileURLToPath(new URL('../../package-lock.json', import.meta.url)));
    const layerDir = fileURLToPath(new URL('../../layers/sharp/', import.meta.url));
    expect(root).toBeDefined();
    expect(lockedSharp(join(layerDir, 'package-lock.json'))).toBe(root);
    expect(JSON.parse(readFileSync(join(layerDir, 'package.json'), 'utf8')).dependencies.sharp).toBe(root);
    expect(JSON.parse(readFileSync(join(modules, 'sharp', 'package.json'), 'utf8')).version).toBe(root);
  });
});
