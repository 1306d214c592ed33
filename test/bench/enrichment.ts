import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { LAYOUT_DIMENSIONS } from '../../local/enrichment/layout-embedder.js';
import { SqliteVectorIndex } from '../../local/enrichment/sqlite-vector-index.js';
import { analysisJpeg } from '../support/images.js';
import { type BenchImage, seededRandom } from './images.js';
import { MB, type Summary, summarise } from './stats.js';

const exec = promisify(execFile);
const RSS_SCRIPT = fileURLToPath(new URL('enrichment-rss.ts', import.meta.url));

interface Timing {
  cpu: Summary;
  wall: Summary;
}

export interface LocalEnrichmentResult {
  modelId: string;
  iterations: number;
  /** CenterNet and the wasm backend loaded, once per process. */
  modelLoadMs: number;
  /** The child process's resident set before the model (Node, tsx, sharp), and its peak (VmHWM), MB. */
  beforeLoadRssMb: number;
  peakRssMb: number;
  images: Array<{
    image: string;
    /** The analysis image's size: what every model reads. */
    width: number;
    height: number;
    /** `name confidence`, most confident first, as the tagger returns them (before the tag policy). */
    tags: string[];
    tag: Timing;
    colours: Timing;
    embed: Timing;
  }>;
}

/**
 * The offline models on each image's analysis JPEG (upright, sRGB, ≤ 1024 px, made here with sharp
 * first), in a fresh process so its peak RSS is the models' and not the bench's.
 */
export async function benchLocalEnrichment(options: {
  images: readonly BenchImage[];
  iterations: number;
  repoRoot: string;
}): Promise<LocalEnrichmentResult> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'aperture-enrichment-bench-'));
  try {
    const analysed: Array<{ image: string; width: number; height: number; file: string }> = [];
    for (const image of options.images) {
      const jpeg = await analysisJpeg(image.bytes);
      const { width = 0, height = 0 } = await sharp(jpeg).metadata();
      const file = path.join(workDir, `${analysed.length}.jpg`);
      await writeFile(file, jpeg);
      analysed.push({ image: image.name, width, height, file });
    }
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', RSS_SCRIPT, String(options.iterations), ...analysed.map((a) => a.file)],
      { cwd: options.repoRoot, maxBuffer: 16 * MB },
    );
    const child = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Omit<
      LocalEnrichmentResult,
      'iterations' | 'images'
    > & { images: Array<Omit<LocalEnrichmentResult['images'][number], 'image' | 'width' | 'height'>> };
    return {
      ...child,
      iterations: options.iterations,
      images: child.images.map((timings, i) => {
        const { image, width, height } = analysed[i] as (typeof analysed)[number];
        return { image, width, height, ...timings };
      }),
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

export interface VectorSearchResult {
  dimensions: number;
  /** The one large owner's vectors, and the small owners' beside them in the same index. */
  ownerVectors: number;
  otherOwners: number;
  vectorsPerOtherOwner: number;
  writeSeconds: number;
  fileMb: number;
  queries: number;
  topK: number;
  /** Wall ms of one top-K query for the large owner, and for small owners. */
  largeOwner: Summary;
  smallOwner: Summary;
}

/** Seeded uniform numbers in [-0.5, 0.5): every run indexes the very same vectors. */
function randomVectors(dimensions: number, seed: number): () => Float32Array {
  const random = seededRandom(seed);
  return () => {
    const vector = new Float32Array(dimensions);
    for (let i = 0; i < dimensions; i++) vector[i] = random() - 0.5;
    return vector;
  };
}

/**
 * Exact top-K search in the local sqlite-vec index (a file, as `npm start` keeps it) for one owner of
 * `ownerVectors` images, with many small owners' vectors beside them, at the layout embedder's size.
 */
export async function benchVectorSearch(options: {
  ownerVectors: number;
  otherOwners: number;
  vectorsPerOtherOwner: number;
  queries: number;
  topK: number;
}): Promise<VectorSearchResult> {
  const dimensions = LAYOUT_DIMENSIONS;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'aperture-vector-bench-'));
  const file = path.join(workDir, 'vectors.db');
  try {
    const index = new SqliteVectorIndex(file, { modelId: 'bench@1', dimensions });
    let timings: Pick<VectorSearchResult, 'writeSeconds' | 'largeOwner' | 'smallOwner'>;
    try {
      timings = await writeAndQuery(index, options);
    } finally {
      // Closing checkpoints the write-ahead log into the file, whose size is then the index's.
      index.close();
    }
    const fileMb = Number(((await stat(file)).size / MB).toFixed(0));
    return { dimensions, ...options, ...timings, fileMb };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function writeAndQuery(
  index: SqliteVectorIndex,
  options: Parameters<typeof benchVectorSearch>[0],
): Promise<Pick<VectorSearchResult, 'writeSeconds' | 'largeOwner' | 'smallOwner'>> {
  const next = randomVectors(index.dimensions, 42);
  const vectors: Array<{ key: string; owner: string }> = [];
  for (let i = 0; i < options.ownerVectors; i++) vectors.push({ key: `large-${i}`, owner: 'large' });
  for (let owner = 0; owner < options.otherOwners; owner++) {
    for (let i = 0; i < options.vectorsPerOtherOwner; i++) {
      vectors.push({ key: `small-${owner}-${i}`, owner: `small-${owner}` });
    }
  }
  const started = performance.now();
  // Batches as the enrichment lane would write them, many per transaction rather than one huge one.
  for (let from = 0; from < vectors.length; from += 1000) {
    await index.put(
      vectors.slice(from, from + 1000).map(({ key, owner }) => ({
        key,
        vector: next(),
        metadata: { owner, imageId: key },
      })),
    );
  }
  const writeSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
  const timeQueries = async (owner: (i: number) => string) => {
    const samples: number[] = [];
    for (let i = 0; i < options.queries; i++) {
      const query = next();
      const start = performance.now();
      const matches = await index.query(query, { topK: options.topK, filter: { owner: owner(i) } });
      samples.push(performance.now() - start);
      if (matches.length === 0) throw new Error(`no match for ${owner(i)}`);
    }
    return summarise(samples);
  };
  // One untimed query first, so the timed ones find the large owner's pages in the OS's cache, as a
  // running server's would be.
  await index.query(next(), { topK: options.topK, filter: { owner: 'large' } });
  const largeOwner = await timeQueries(() => 'large');
  const smallOwner = await timeQueries((i) => `small-${i % options.otherOwners}`);
  return { writeSeconds, largeOwner, smallOwner };
}
