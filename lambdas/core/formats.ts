/** Raster formats the pipeline knows, keyed by the name sharp reports, with their one MIME type. */
export const INPUT_FORMATS = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
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

/** The input format a MIME type names, or undefined when the pipeline does not know it. */
export function formatOfMimeType(mimeType: string): InputFormat | undefined {
  const normalised = mimeType.trim().toLowerCase();
  return INPUT_FORMAT_NAMES.find((format) => INPUT_FORMATS[format] === normalised);
}
