import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Real-world images shared beside the repository on the machines that have them; a fresh clone has none. */
export const CORPUS_DIR = resolve(import.meta.dirname, '../../../shared/corpus');
export const CORPUS_MANIFEST = join(CORPUS_DIR, 'MANIFEST.tsv');

/** One row of the corpus's MANIFEST.tsv: a file and what was found of it. */
export interface CorpusEntry {
  file: string;
  /** The format the manifest names (`jpeg`, `heic`, `jp2`, …), whether or not the pipeline takes it. */
  format: string;
  /** 0 where the manifest has no size (`?`: the header does not parse). */
  pixels: number;
  /** As displayed (HEIF: after `irot`); 0 where the manifest has no size. */
  width: number;
  height: number;
  /** What the manifest notes of it: `ICC; EXIF; Apple iPhone 11 Pro Max`, … */
  notable: string;
  /** `ok`, or `ERROR: …` from sharp with its default options, which fail on warnings too. */
  sharpResult: string;
}

/** The manifest's rows, or undefined where the corpus is absent. */
export function readCorpusManifest(): CorpusEntry[] | undefined {
  if (!existsSync(CORPUS_MANIFEST)) return undefined;
  const [header = [], ...rows] = readFileSync(CORPUS_MANIFEST, 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split('\t'));
  const column = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`${CORPUS_MANIFEST} has no ${name} column`);
    return index;
  };
  const [file, format, size, notable, sharpResult] = [
    'file',
    'format',
    'width_x_height',
    'notable',
    'sharp_result',
  ].map(column);
  return rows.map((row) => {
    const cell = (index = -1) => row[index] ?? '';
    const [width = 0, height = 0] = cell(size).split('x').map(Number);
    const known = Number.isFinite(width * height);
    return {
      file: cell(file),
      format: cell(format),
      pixels: known ? width * height : 0,
      width: known ? width : 0,
      height: known ? height : 0,
      notable: cell(notable),
      sharpResult: cell(sharpResult),
    };
  });
}

/**
 * Corpus photos that repeat another's picture, or show none: left out where distinct pictures are
 * needed (near-duplicate checks), each with the reason.
 */
const NOT_DISTINCT: ReadonlyArray<[RegExp, string]> = [
  [
    /^recurser__(Landscape|Portrait)_[1-8]\.jpg$/,
    'Landscape_0 or Portrait_0 again, under another EXIF orientation',
  ],
  [/^immich__portrait-orientation-6\.jpg$/, 'immich__portrait.jpg under EXIF orientation 6'],
  [/^sharp__low-contrast\.jpg$/, 'sharp__2569067123_aca715a2ee_o.jpg with its contrast lowered'],
  [/^sharp__Channel_digital_image_CMYK_color_no_profile\.jpg$/, 'the CMYK image again, without its profile'],
  [/^sharp__flowers\.jpeg$/, 'a smooth, symmetric vignette: nothing for a perceptual hash to hold on to'],
  [/^ianare__67-0_length_string\.jpg$/, 'one flat grey'],
  [/^sharp__gamma_dalai_lama_gray\.jpg$/, 'a gamma test chart, made to show another picture when scaled'],
];

/**
 * The corpus's distinct photographs: JPEGs sharp decodes, at least 200×150 px, none repeating
 * another's picture (`NOT_DISTINCT`). Empty where the corpus is absent.
 */
export function distinctCorpusPhotos(): string[] {
  return (readCorpusManifest() ?? [])
    .filter(
      (entry) => entry.format === 'jpeg' && entry.sharpResult.startsWith('ok') && entry.pixels >= 200 * 150,
    )
    .map((entry) => entry.file)
    .filter((file) => !NOT_DISTINCT.some(([pattern]) => pattern.test(file)));
}
