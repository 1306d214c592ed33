/**
 * One HEIC judged, decoded and rendered alone in a fresh process, so the CPU and peak RSS are the
 * pipeline's own and not the bench's. Prints one JSON line.
 *
 *   node --import tsx test/bench/heic-rss.ts <file.heic> <maxInputPixels>
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { readHeifHeader } from '../../lambdas/core/heif/container.js';
import { readHeif } from '../../lambdas/core/heif/readable.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { peakRssMb } from './stats.js';

const [file, maxInputPixels] = process.argv.slice(2);
if (!file || !maxInputPixels) throw new Error('usage: heic-rss.ts <file.heic> <maxInputPixels>');
const options = { maxInputPixels: Number(maxInputPixels) };

sharp.cache(false);
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const timed = async <T>(work: () => T | Promise<T>): Promise<number> => {
  const start = cpuMs();
  await work();
  return cpuMs() - start;
};

const bytes = await readFile(file);
const beforeRssMb = peakRssMb();
// The reader's first call in a process also compiles it (some 5 ms): the least of five is its cost.
let containerMs = Number.POSITIVE_INFINITY;
for (let run = 0; run < 5; run++)
  containerMs = Math.min(containerMs, await timed(() => readHeifHeader(bytes, options)));
// A fresh copy each time: `readHeif` keeps one decode per buffer. The first decode also compiles
// libheif's WebAssembly, as a Lambda instance's first HEIC does.
const coldDecodeMs = await timed(() => readHeif(Buffer.from(bytes), options));
const warmDecodeMs = await timed(() => readHeif(Buffer.from(bytes), options));
const decodePeakRssMb = peakRssMb();
const renderMs = await timed(() => renderVariants(bytes, DEFAULT_VARIANTS, options));
console.log(
  JSON.stringify({
    beforeRssMb,
    containerMs,
    coldDecodeMs,
    warmDecodeMs,
    decodePeakRssMb,
    renderMs,
    renderPeakRssMb: peakRssMb(),
  }),
);
