import { DERIVATIVES_PREFIX, ORIGINALS_PREFIX } from '../contract.js';
import { OUTPUT_FORMAT_NAMES, OUTPUT_FORMATS, type OutputFormat } from './formats.js';
import { derivativesPrefix, isSha256Hex, originalKey } from './keys.js';

/**
 * Reading the image bucket's keys back, whatever spec wrote them: which image a stored object
 * belongs to and which format it is. Operations over whole buckets need this for keys of every
 * variant set ever rendered; `parseDerivativeKey` (keys.ts) answers for the current spec only.
 */

/** The image an `originals/` key holds, or undefined for any other key. */
export function imageIdOfOriginalKey(key: string): string | undefined {
  const imageId = key.slice(key.lastIndexOf('/') + 1);
  return key.startsWith(ORIGINALS_PREFIX) && isSha256Hex(imageId) && originalKey(imageId) === key
    ? imageId
    : undefined;
}

/** The image whose derivative prefix (`derived/ab/cd/{sha256}/`) a key is under, or undefined. */
export function imageIdOfDerivativeKey(key: string): string | undefined {
  if (!key.startsWith(DERIVATIVES_PREFIX)) return undefined;
  const imageId = key.slice(DERIVATIVES_PREFIX.length).split('/')[2] ?? '';
  return isSha256Hex(imageId) && key.startsWith(derivativesPrefix(imageId)) ? imageId : undefined;
}

/** The output format a derivative key's extension names (`.jpg` is JPEG), or undefined. */
export function formatOfDerivativeKey(key: string): OutputFormat | undefined {
  const extension = key.slice(key.lastIndexOf('.') + 1);
  return OUTPUT_FORMAT_NAMES.find((format) => OUTPUT_FORMATS[format].extension === extension);
}
