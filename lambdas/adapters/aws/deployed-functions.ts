import type { WorkLane } from '../../core/render-jobs.js';

/**
 * What the constructs give each Aperture function: memory, in MB, and how often the variant-set
 * upkeep runs. Pure numbers, so that `aperture cost` bills what `lib/` deploys without loading CDK.
 * Memory also buys CPU: Lambda gives a whole vCPU at 1,769 MB, a share of one below.
 */

/** The HTTP API's function: a presign or a catalog read per request. */
export const API_MEMORY_MB = 256;

/**
 * The ingest function. An upload (up to 50 MiB by default) is held in memory, twice while its chunks
 * are joined, and sharp then decodes it, which for formats libvips cannot stream (AVIF, HEIF) means
 * every pixel, up to the pixel limit (100 megapixels by default).
 */
export const INGEST_MEMORY_MB = 1024;

/**
 * Each lane's render function. libvips decodes originals of up to 100 megapixels (`maxInputPixels`),
 * fully for formats it cannot shrink on load, so neither lane goes below 1 GB. A thumbnails job is one
 * small resize and three encodes; the variants lane is CPU-bound, AVIF encoding of the 1920 px variant
 * being 80% of an image's render work (ADR 5), so it gets more than a whole vCPU.
 */
export const RENDER_MEMORY_MB: Readonly<Record<WorkLane, number>> = {
  thumbnails: 1024,
  variants: 2048,
};

/** The on-demand renderer: as the variants lane, an original up to the pixel limit, one variant in every format. */
export const ON_DEMAND_MEMORY_MB = RENDER_MEMORY_MB.variants;

/** The variant-set upkeep (`aperture reprocess`, run by the deployment itself). */
export const UPKEEP_MEMORY_MB = 512;

/** The upkeep runs every hour (lib/variant-set-upkeep.ts), each reading the whole catalog. */
export const UPKEEP_INTERVAL_HOURS = 1;
