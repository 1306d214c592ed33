/**
 * Near-duplicates: the same picture re-encoded, resized or slightly cropped, which SHA-256 dedup
 * cannot see. Each image gets a perceptual fingerprint (a 64-bit DCT hash of its pixels), and two
 * images are near-duplicates when their hashes differ in at most `NEAR_DUPLICATE_MAX_DISTANCE` bits.
 * The hash is filed in four 16-bit bands (multi-index hashing), so that finding every hash within
 * that distance takes a fixed number of exact lookups. Pure: the pixels are those the render core
 * decoded for the thumbnails (`renderVariants` with `fingerprint`), the lookups go to the owner
 * index. See docs/near-duplicates.md for the measurements behind the numbers.
 */

/** Bumped when the hash changes: hashes of two versions are never compared or filed together. */
export const FINGERPRINT_VERSION = 1;

/** What the thumbnails lane records on an image. */
export interface Fingerprint {
  /** 64 bits as 16 lowercase hex digits. */
  phash: string;
  /** `FINGERPRINT_VERSION` of the code that computed it. */
  version: number;
}

/**
 * Largest Hamming distance between two near-duplicates. Measured: 224 of 228 copies re-encoded at
 * q60, resized to 50% or cropped by 1% were 0–6 bits from their original (the rest 8), unrelated
 * photos 18 bits apart and more.
 */
export const NEAR_DUPLICATE_MAX_DISTANCE = 7;

/** The hash is split into this many bands of `BAND_BITS` bits, each filed as an index term. */
export const HASH_BANDS = 4;
const BAND_BITS = 16;
const BAND_HEX = BAND_BITS / 4;

/** The hash is taken from a `HASH_GRID`×`HASH_GRID` greyscale reduction of the picture. */
export const HASH_GRID = 32;
/** The 8×8 lowest frequencies after the DC term (rows and columns 1–8) make the 64 bits. */
const LOW_FREQUENCIES = 8;

/** 8-bit pixels, interleaved, one frame: grey, grey + alpha, RGB or RGBA. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * The picture's luma (Rec. 601, transparent parts seen over white, as a JPEG shows them) averaged
 * over a `HASH_GRID`×`HASH_GRID` grid of boxes, row by row. Each source pixel counts once, so a
 * picture larger than the grid is reduced without aliasing; a smaller one is sampled.
 */
export function lumaGrid(pixels: Pixels): Float64Array {
  const { data, width, height, channels } = pixels;
  const alpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  const luma = (offset: number): number => {
    const y = colour
      ? 0.299 * (data[offset] as number) +
        0.587 * (data[offset + 1] as number) +
        0.114 * (data[offset + 2] as number)
      : (data[offset] as number);
    if (!alpha) return y;
    const a = (data[offset + channels - 1] as number) / 255;
    return y * a + 255 * (1 - a);
  };
  const edges = (size: number) =>
    Array.from({ length: HASH_GRID + 1 }, (_, cell) => Math.floor((cell * size) / HASH_GRID));
  const xs = edges(width);
  const ys = edges(height);
  const grid = new Float64Array(HASH_GRID * HASH_GRID);
  for (let row = 0; row < HASH_GRID; row++) {
    const y0 = ys[row] as number;
    const y1 = Math.max(y0 + 1, ys[row + 1] as number);
    for (let column = 0; column < HASH_GRID; column++) {
      const x0 = xs[column] as number;
      const x1 = Math.max(x0 + 1, xs[column + 1] as number);
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) sum += luma((y * width + x) * channels);
      }
      grid[row * HASH_GRID + column] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return grid;
}

/** `COSINES[k * HASH_GRID + n]`: the DCT-II basis, for the frequencies the hash reads. */
const COSINES = Float64Array.from({ length: (LOW_FREQUENCIES + 1) * HASH_GRID }, (_, i) => {
  const k = Math.floor(i / HASH_GRID);
  const n = i % HASH_GRID;
  return Math.cos(((2 * n + 1) * k * Math.PI) / (2 * HASH_GRID));
});

/**
 * The 64-bit DCT hash (pHash) of a luma grid (`lumaGrid`): the 2-D DCT's 8×8 lowest frequencies
 * after DC, each bit set when its coefficient is above their median. The coarse structure of the
 * picture survives re-encoding, scaling and small crops; brightness (DC) does not count.
 */
export function perceptualHash(grid: Float64Array): string {
  if (grid.length !== HASH_GRID * HASH_GRID) {
    throw new RangeError(`a luma grid has ${HASH_GRID * HASH_GRID} cells, not ${grid.length}`);
  }
  // Separable DCT, only as far as the frequencies kept: along each row, then down each column.
  const frequencies = LOW_FREQUENCIES + 1;
  const rows = new Float64Array(HASH_GRID * frequencies);
  for (let y = 0; y < HASH_GRID; y++) {
    for (let u = 1; u < frequencies; u++) {
      let sum = 0;
      for (let x = 0; x < HASH_GRID; x++) {
        sum += (grid[y * HASH_GRID + x] as number) * (COSINES[u * HASH_GRID + x] as number);
      }
      rows[y * frequencies + u] = sum;
    }
  }
  const coefficients: number[] = [];
  for (let v = 1; v < frequencies; v++) {
    for (let u = 1; u < frequencies; u++) {
      let sum = 0;
      for (let y = 0; y < HASH_GRID; y++) {
        sum += (rows[y * frequencies + u] as number) * (COSINES[v * HASH_GRID + y] as number);
      }
      coefficients.push(sum);
    }
  }
  const sorted = [...coefficients].sort((a, b) => a - b);
  const median = ((sorted[31] as number) + (sorted[32] as number)) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 64; nibble += 4) {
    let digit = 0;
    for (let bit = 0; bit < 4; bit++)
      digit = (digit << 1) | ((coefficients[nibble + bit] as number) > median ? 1 : 0);
    hex += digit.toString(16);
  }
  return hex;
}

/** The fingerprint of a picture's pixels, as this version computes it. */
export function fingerprintOf(pixels: Pixels): Fingerprint {
  return { phash: perceptualHash(lumaGrid(pixels)), version: FINGERPRINT_VERSION };
}

const popcount16 = (value: number): number => {
  let count = 0;
  for (let rest = value; rest !== 0; rest &= rest - 1) count++;
  return count;
};

/** The 16-bit bands of a hash, most significant first. */
export function hashBands(phash: string): number[] {
  if (!/^[0-9a-f]{16}$/.test(phash)) throw new RangeError(`not a 64-bit hex hash: ${phash}`);
  return Array.from({ length: HASH_BANDS }, (_, band) =>
    Number.parseInt(phash.slice(band * BAND_HEX, (band + 1) * BAND_HEX), 16),
  );
}

/** How many of the 64 bits differ. */
export function hammingDistance(a: string, b: string): number {
  const bandsOfB = hashBands(b);
  return hashBands(a).reduce((sum, band, i) => sum + popcount16(band ^ (bandsOfB[i] as number)), 0);
}

/** Two fingerprints are near-duplicates when made by one version and at most this many bits apart. */
export function fingerprintDistance(a: Fingerprint, b: Fingerprint): number | undefined {
  if (a.version !== b.version) return undefined;
  return hammingDistance(a.phash, b.phash);
}

/** The index term of one band's value, e.g. `phash:v1:2:0f3a`. */
export function bandTerm(version: number, band: number, value: number): string {
  return `phash:v${version}:${band}:${value.toString(16).padStart(BAND_HEX, '0')}`;
}

/** What an image with this fingerprint is filed under: one term per band. */
export function fingerprintTerms(fingerprint: Fingerprint): string[] {
  return hashBands(fingerprint.phash).map((value, band) => bandTerm(fingerprint.version, band, value));
}

/**
 * The terms to look up to find every hash within `NEAR_DUPLICATE_MAX_DISTANCE` bits: by pigeonhole,
 * 7 differing bits over 4 bands leave at least one band with at most 1, so each band's own value and
 * its 16 one-bit neighbours (4 × 17 = 68 terms) reach every such hash. Candidates still need their
 * full distance checked.
 */
export function lookupTerms(fingerprint: Fingerprint): string[] {
  return hashBands(fingerprint.phash).flatMap((value, band) => [
    bandTerm(fingerprint.version, band, value),
    ...Array.from({ length: BAND_BITS }, (_, bit) => bandTerm(fingerprint.version, band, value ^ (1 << bit))),
  ]);
}

/**
 * Whether the upkeep should have an image fingerprinted (again): fingerprints are on, the image is
 * `ready`, and it has none (rendered before they were switched on) or one of another version.
 */
export function needsFingerprint(
  image: { status: string; deletingSince?: Date | undefined; fingerprint?: Fingerprint | undefined },
  settings: { nearDuplicates: boolean },
): boolean {
  if (!settings.nearDuplicates || image.status !== 'ready' || image.deletingSince) return false;
  return image.fingerprint?.version !== FINGERPRINT_VERSION;
}
