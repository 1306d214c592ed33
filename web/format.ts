import type { EnrichmentView } from './api.js';

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** `1234567` → `1.2 MB` in the reader's locale (decimal units, as file browsers show them). */
export function formatBytes(bytes: number): string {
  const exponent = Math.min(UNITS.length - 1, Math.floor(Math.log10(Math.max(bytes, 1)) / 3));
  return new Intl.NumberFormat(undefined, {
    style: 'unit',
    unit: UNITS[exponent],
    unitDisplay: 'short',
    maximumFractionDigits: exponent === 0 ? 0 : 1,
  }).format(bytes / 1000 ** exponent);
}

/** What the page calls an image: the name it was uploaded under, if it had one. */
export const displayName = (filename: string | undefined): string => filename ?? 'Untitled image';

/** `0.873` → `87%` in the reader's locale: confidences and shares of an image. */
export function formatShare(fraction: number): string {
  return new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

/** How a similar image's distance reads: whole numbers as they are, fractions to two places. */
export function formatDistance(distance: number): string {
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(distance);
}

/** Who wrote a caption: `template` is the offline stand-in, which builds a sentence from the tags. */
export const captionSource = (source: string): string =>
  source === 'template' ? 'written from tags' : `written by ${source}`;

/**
 * What to say about an image's enrichment beyond its results: nothing once done, that it is under
 * way, or why it failed (the image itself is still served).
 */
export function enrichmentProblem(
  enrichment: Pick<EnrichmentView, 'status' | 'reason' | 'message'>,
): string | undefined {
  switch (enrichment.status) {
    case 'done':
      return undefined;
    case 'pending':
      return 'Not analysed yet: the analysis is under way.';
    case 'failed': {
      const { reason, message } = enrichment;
      const why = [reason, message].filter(Boolean).join(': ');
      return why ? `Could not be analysed (${why}).` : 'Could not be analysed.';
    }
  }
}

/** How the API matched a search's words: by meaning when its embedder is semantic, else word by word. */
export function searchMode(words: string, semantic: boolean): string {
  if (words.trim() === '') return '';
  return semantic
    ? 'Meaning search: images ranked by how closely they match the words.'
    : 'Word search: every word is in the tags or the caption of each image.';
}
