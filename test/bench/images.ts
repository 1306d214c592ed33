import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export interface BenchImage {
  name: string;
  source: 'generated' | 'corpus';
  width: number;
  height: number;
  bytes: Buffer;
}

/** Seeded uniform numbers in [0, 1) (xorshift32): every run draws the very same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

/**
 * Photo-like pixels: broad colour gradients, soft shading and film-grain noise from a seeded
 * generator, so the JPEG costs what a camera's would to decode (about 0.35 bytes per pixel at q90)
 * and every run measures the very same bytes.
 */
function photoLike(width: number, height: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const clamp = (value: number): number => Math.max(0, Math.min(255, value));
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const gy = y / height;
    const wave = Math.sin((y * 5 * Math.PI) / height);
    for (let x = 0; x < width; x++) {
      const gx = x / width;
      const shade = 40 * Math.sin((x * 6 * Math.PI) / width + wave * 2) * wave;
      const grain = (random() + random() - 1) * 24;
      const offset = (y * width + x) * 3;
      pixels[offset] = clamp(30 + 170 * gx + shade + grain);
      pixels[offset + 1] = clamp(60 + 140 * gy - shade * 0.5 + grain);
      pixels[offset + 2] = clamp(200 - 120 * gx * gy + shade * 0.3 + grain);
    }
  }
  return pixels;
}

export const GENERATED_SIZES = [
  { name: 'generated 1 MP', width: 1200, height: 900 },
  { name: 'generated 12 MP', width: 4000, height: 3000 },
  { name: 'generated 24 MP', width: 6000, height: 4000 },
] as const;

/** A photo-like JPEG at q90; each seed gives other bytes. */
export function photoLikeJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp(photoLike(width, height, seed), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export async function generatedImages(): Promise<BenchImage[]> {
  const images: BenchImage[] = [];
  for (const [index, { name, width, height }] of GENERATED_SIZES.entries()) {
    const bytes = await photoLikeJpeg(width, height, index + 1);
    images.push({ name, source: 'generated', width, height, bytes });
  }
  return images;
}

/** Real camera files count from 8 MP up: smaller ones say nothing the generated 1 MP does not. */
const CORPUS_MIN_PIXELS = 8_000_000;

/**
 * The large real JPEGs of the shared corpus (`../shared/corpus` from the repository root), when it
 * is there. Files sharp cannot read, or that exceed the pixel limit, are left out.
 */
export async function corpusImages(repoRoot: string): Promise<BenchImage[]> {
  const directory = path.resolve(repoRoot, '../shared/corpus');
  if (!existsSync(directory)) return [];
  const files = (await readdir(directory)).filter((file) => /\.jpe?g$/i.test(file)).sort();
  const images: BenchImage[] = [];
  for (const file of files) {
    const bytes = await readFile(path.join(directory, file));
    try {
      const { width = 0, height = 0 } = await sharp(bytes, { failOn: 'truncated' }).metadata();
      if (width * height < CORPUS_MIN_PIXELS) continue;
      await sharp(bytes, { failOn: 'truncated' }).resize(64).raw().toBuffer();
      images.push({ name: file, source: 'corpus', width, height, bytes });
    } catch {
      // Broken on purpose (the corpus collects failure cases); not a benchmark input.
    }
  }
  return images;
}
