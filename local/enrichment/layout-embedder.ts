/**
 * The offline embedder. No npm or Debian package ships CLIP-class weights, so locally an image becomes
 * a small descriptor of where its colours are: images that look alike overall land near each other,
 * which exercises the vector index and "similar images" for real, but a text has no place in this
 * space (`semantic: false`), and the API says so instead of pretending.
 */
import { decodeAnalysisImage, srgbToLab } from '../../lambdas/core/render/analysis-image.js';
import type { Embedder } from '../../lambdas/ports/enrichment.js';

/** The image is described as a grid of this many cells a side: its layout. */
const GRID = 8;
/** Pixels a side the image is shrunk to (aspect ratio given up), so each grid cell averages 8x8 of them. */
const SAMPLE = 64;
/** Levels per RGB channel of the colour histogram: 4x4x4 = 64 bins, whatever the layout. */
const LEVELS = 4;

export const LAYOUT_DIMENSIONS = GRID * GRID * 3 + LEVELS ** 3;

/** Asked to embed a text, which only a semantic embedder can. */
export class TextEmbeddingUnsupportedError extends Error {
  constructor(modelId: string) {
    super(`${modelId} embeds images only: text search by meaning needs a semantic embedder`);
    this.name = 'TextEmbeddingUnsupportedError';
  }
}

/** Scales `values[from..to)` to unit length in place (left as is when all zero). */
function normalise(values: Float64Array, from = 0, to = values.length): void {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (values[i] as number) ** 2;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = from; i < to; i++) values[i] = (values[i] as number) / norm;
}

/**
 * 256 numbers, unit length (cosine distance is what the index ranks by): the mean L*a*b* of each
 * cell of an 8x8 grid (centred on mid-grey, so a dark image and a light one point apart), then the
 * square root of a 64-bin colour histogram's shares. Each half is scaled to unit length before the
 * whole is, so layout and colour weigh the same.
 */
export class LayoutEmbedder implements Embedder {
  readonly modelId = 'layout-lab8x8-rgb64@1';
  readonly dimensions = LAYOUT_DIMENSIONS;
  readonly semantic = false;

  async embedImage(jpeg: Buffer): Promise<Float32Array> {
    const { data } = await decodeAnalysisImage(jpeg, { width: SAMPLE, height: SAMPLE, fit: 'fill' });
    const vector = new Float64Array(LAYOUT_DIMENSIONS);
    const histogram = GRID * GRID * 3;
    const cell = SAMPLE / GRID;
    const pixels = SAMPLE * SAMPLE;
    for (let p = 0; p < pixels; p++) {
      const r = data[p * 3] as number;
      const g = data[p * 3 + 1] as number;
      const b = data[p * 3 + 2] as number;
      const [l, a, bb] = srgbToLab(r, g, b);
      const offset = (Math.floor(Math.floor(p / SAMPLE) / cell) * GRID + Math.floor((p % SAMPLE) / cell)) * 3;
      vector[offset] = (vector[offset] as number) + (l - 50) / 50;
      vector[offset + 1] = (vector[offset + 1] as number) + a / 50;
      vector[offset + 2] = (vector[offset + 2] as number) + bb / 50;
      const bin =
        histogram + (((r * LEVELS) >> 8) * LEVELS + ((g * LEVELS) >> 8)) * LEVELS + ((b * LEVELS) >> 8);
      vector[bin] = (vector[bin] as number) + 1;
    }
    // Sums to means, shares to their square roots (so one large colour does not drown the rest).
    for (let i = 0; i < histogram; i++) vector[i] = (vector[i] as number) / (cell * cell);
    for (let i = histogram; i < LAYOUT_DIMENSIONS; i++) vector[i] = Math.sqrt((vector[i] as number) / pixels);
    normalise(vector, 0, histogram);
    normalise(vector, histogram);
    normalise(vector);
    return Float32Array.from(vector);
  }

  async embedText(): Promise<Float32Array> {
    throw new TextEmbeddingUnsupportedError(this.modelId);
  }
}
