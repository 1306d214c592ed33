/**
 * Raster formats the pipeline knows, keyed by the name sharp reports (but `heic`, which sharp calls
 * `heif` and libvips cannot decode: see `core/heif`), with the one MIME type they are stored as.
 */
export const INPUT_FORMATS = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
  heic: 'image/heic',
} as const;

export type InputFormat = keyof typeof INPUT_FORMATS;
export const INPUT_FORMAT_NAMES = Object.keys(INPUT_FORMATS) as [InputFormat, ...InputFormat[]];

/** Formats variants are encoded to, with the file extension their keys end in. */
export const OUTPUT_FORMATS = {
  avif: { mime: 'image/avif', extension: 'avif' },
  webp: { mime: 'image/webp', extension: 'webp' },
  jpeg: { mime: 'image/jpeg', extension: 'jpg' },
} as const;

export type OutputFormat = keyof typeof OUTPUT_FORMATS;
export const OUTPUT_FORMAT_NAMES = Object.keys(OUTPUT_FORMATS) as [OutputFormat, ...OutputFormat[]];

/** Other names clients send for a format: phones and browsers say `image/heif` for the same files. */
const MIME_TYPE_ALIASES: Readonly<Record<string, InputFormat>> = { 'image/heif': 'heic' };

/** The input format a MIME type names, or undefined when the pipeline does not know it. */
export function formatOfMimeType(mimeType: string): InputFormat | undefined {
  const normalised = mimeType.trim().toLowerCase();
  return (
    INPUT_FORMAT_NAMES.find((format) => INPUT_FORMATS[format] === normalised) ?? MIME_TYPE_ALIASES[normalised]
  );
}
