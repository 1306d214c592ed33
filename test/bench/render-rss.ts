/**
 * Peak RSS of `renderVariants` alone: the bench runs this in a fresh process, so the figure is the
 * pipeline's own and not the bench's (which holds every image and result). Prints one JSON line.
 *
 *   node --import tsx test/bench/render-rss.ts <original.jpg> <variants JSON> <maxInputPixels> <threads>
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import { variantSetSchema } from '../../lambdas/core/variants.js';
import { peakRssMb } from './stats.js';

const [file, variantsJson, maxInputPixels, threads] = process.argv.slice(2);
if (!file || !variantsJson || !maxInputPixels || !threads) {
  throw new Error('usage: render-rss.ts <original> <variants JSON> <maxInputPixels> <threads>');
}

sharp.cache(false);
sharp.concurrency(Number(threads));
const variants = variantSetSchema.parse(JSON.parse(variantsJson));
const original = await readFile(file);

// Node, tsx, sharp and libvips loaded, the original read: what any worker holds before its first image.
const beforeRenderRssMb = peakRssMb();
const { objects } = await renderVariants(original, variants, { maxInputPixels: Number(maxInputPixels) });
console.log(JSON.stringify({ beforeRenderRssMb, peakRssMb: peakRssMb(), outputs: objects.length }));
