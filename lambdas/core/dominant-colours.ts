/**
 * The colours an image is mostly made of, for the image view and for `colour=` search. The same code
 * on AWS and locally: no model, only the analysis image's pixels. Pure.
 */

import type { DominantColour } from './enrichment.js';
import { nearestPaletteColour } from './palette.js';
import { decodeAnalysisImage, srgbToLab } from './render/analysis-image.js';

export interface DominantColourOptions {
  /** At most this many colours, the largest shares first. @default 5 */
  maxColours?: number;
}

/**
 * The long edge the analysis image is shrunk to first: about 4,000 pixels, plenty to tell which
 * colours cover how much, and the clustering's cost stays a few milliseconds.
 */
const SAMPLE_EDGE = 64;
/** Clusters the pixels are sorted into before the largest are kept. */
const MAX_CLUSTERS = 8;
/** Seeds at least this far apart (ΔE76): closer ones would split one colour in two. */
const SEED_SEPARATION = 15;
/** Clusters that end up closer than this (ΔE76) are one colour and are merged. */
const MERGE_DISTANCE = 10;
const MAX_ITERATIONS = 20;
/** A colour on less of the image than this is a detail, not one of its colours. */
const MIN_SHARE = 0.01;

interface Cluster {
  count: number;
  /** Sums over the member pixels: L*a*b* (to assign pixels by) and sRGB (to report the colour as). */
  lab: [number, number, number];
  rgb: [number, number, number];
}

type Lab = readonly number[];

/** ΔE76 squared. */
const squaredDistance = (a: Lab, b: Lab): number =>
  ((a[0] as number) - (b[0] as number)) ** 2 +
  ((a[1] as number) - (b[1] as number)) ** 2 +
  ((a[2] as number) - (b[2] as number)) ** 2;

const add = (sums: [number, number, number], values: ArrayLike<number>, offset = 0): void => {
  sums[0] += values[offset] as number;
  sums[1] += values[offset + 1] as number;
  sums[2] += values[offset + 2] as number;
};

const mean = (sums: readonly number[], count: number): number[] => sums.map((sum) => sum / count);

const hex = (rgb: readonly number[]): string =>
  `#${rgb.map((channel) => Math.round(channel).toString(16).padStart(2, '0')).join('')}`;

/**
 * Up to `maxColours` colours, by the share of the image near each (largest first; shares sum to at
 * most 1, colours under 1% left out), each named by its nearest palette colour. k-means in L*a*b*
 * over a 64 px copy, seeded from the fullest cells of a 16-level-per-channel histogram, so the same
 * bytes give the same colours every run.
 */
export async function dominantColours(
  jpeg: Buffer,
  options: DominantColourOptions = {},
): Promise<DominantColour[]> {
  const maxColours = options.maxColours ?? 5;
  const { data } = await decodeAnalysisImage(jpeg, {
    width: SAMPLE_EDGE,
    height: SAMPLE_EDGE,
    fit: 'inside',
  });
  const pixels = data.length / 3;
  const lab = Array.from({ length: pixels }, (_, p) =>
    srgbToLab(data[p * 3] as number, data[p * 3 + 1] as number, data[p * 3 + 2] as number),
  );

  let centres = seeds(data, lab);
  const assignment = new Int32Array(pixels).fill(-1);
  let clusters: Cluster[] = [];
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    let moved = false;
    for (let p = 0; p < pixels; p++) {
      let nearest = 0;
      let nearestDistance = Number.POSITIVE_INFINITY;
      for (let index = 0; index < centres.length; index++) {
        const distance = squaredDistance(lab[p] as Lab, centres[index] as Lab);
        if (distance < nearestDistance) {
          nearest = index;
          nearestDistance = distance;
        }
      }
      if (assignment[p] !== nearest) moved = true;
      assignment[p] = nearest;
    }
    clusters = centres.map(() => ({ count: 0, lab: [0, 0, 0], rgb: [0, 0, 0] }));
    for (let p = 0; p < pixels; p++) {
      const cluster = clusters[assignment[p] as number] as Cluster;
      cluster.count++;
      add(cluster.lab, lab[p] as Lab);
      add(cluster.rgb, data, p * 3);
    }
    clusters = clusters.filter((cluster) => cluster.count > 0);
    centres = clusters.map((cluster) => mean(cluster.lab, cluster.count));
    if (!moved) break;
  }

  return merged(clusters)
    .sort((a, b) => b.count - a.count || hex(mean(a.rgb, a.count)).localeCompare(hex(mean(b.rgb, b.count))))
    .slice(0, maxColours)
    .map((cluster) => {
      const rgb = mean(cluster.rgb, cluster.count).map(Math.round) as [number, number, number];
      // Rounded down, so the shares never add up to more than the whole image.
      return {
        hex: hex(rgb),
        name: nearestPaletteColour(rgb),
        share: Math.floor((cluster.count / pixels) * 1000) / 1000,
      };
    })
    .filter((colour) => colour.share >= MIN_SHARE);
}

/**
 * Starting centres: the mean colour of the fullest histogram cells (ties by cell, so the order is
 * fixed), skipping any within `SEED_SEPARATION` of one already taken.
 */
function seeds(rgb: Buffer, lab: readonly Lab[]): Lab[] {
  const cells = new Map<number, Cluster>();
  for (const [p, pixel] of lab.entries()) {
    const i = p * 3;
    const cell =
      (((rgb[i] as number) >> 4) << 8) | (((rgb[i + 1] as number) >> 4) << 4) | ((rgb[i + 2] as number) >> 4);
    let cluster = cells.get(cell);
    if (!cluster) {
      cluster = { count: 0, lab: [0, 0, 0], rgb: [0, 0, 0] };
      cells.set(cell, cluster);
    }
    cluster.count++;
    add(cluster.lab, pixel);
  }
  const fullestFirst = [...cells].sort(([cellA, a], [cellB, b]) => b.count - a.count || cellA - cellB);
  const centres: Lab[] = [];
  for (const [, cluster] of fullestFirst) {
    const centre = mean(cluster.lab, cluster.count);
    if (centres.every((taken) => squaredDistance(centre, taken) >= SEED_SEPARATION ** 2))
      centres.push(centre);
    if (centres.length === MAX_CLUSTERS) break;
  }
  return centres;
}

/** Merges the closest pair of clusters while any pair is within `MERGE_DISTANCE`. */
function merged(clusters: Cluster[]): Cluster[] {
  const result = [...clusters];
  for (;;) {
    let pair: [number, number] | undefined;
    let pairDistance = MERGE_DISTANCE ** 2;
    for (let i = 0; i < result.length; i++) {
      for (let j = i + 1; j < result.length; j++) {
        const a = result[i] as Cluster;
        const b = result[j] as Cluster;
        const distance = squaredDistance(mean(a.lab, a.count), mean(b.lab, b.count));
        if (distance < pairDistance) {
          pair = [i, j];
          pairDistance = distance;
        }
      }
    }
    if (!pair) return result;
    const [i, j] = pair;
    const a = result[i] as Cluster;
    const b = result[j] as Cluster;
    result[i] = {
      count: a.count + b.count,
      lab: [a.lab[0] + b.lab[0], a.lab[1] + b.lab[1], a.lab[2] + b.lab[2]],
      rgb: [a.rgb[0] + b.rgb[0], a.rgb[1] + b.rgb[1], a.rgb[2] + b.rgb[2]],
    };
    result.splice(j, 1);
  }
}
