import { ANALYSIS_PREFIX, DERIVATIVES_PREFIX, ORIGINALS_PREFIX, UPLOADS_PREFIX } from '../contract.js';
import { OUTPUT_FORMATS, type OutputFormat } from './formats.js';
import { encodingRevision, VARIANT_NAME_PATTERN, type VariantSpec } from './variants.js';

/**
 * The object key scheme. Every key is built from validated identifiers only (random upload ids,
 * SHA-256 hex digests, variant names from the spec), never from anything a user named, so no input
 * can place an object outside its prefix. The prefixes themselves are the deployment contract's: the
 * construct grants, notifies and serves by them.
 */

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isUploadId(value: string): boolean {
  return UPLOAD_ID.test(value);
}

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

function assertUploadId(uploadId: string): void {
  if (!isUploadId(uploadId)) throw new RangeError(`not an upload id: ${JSON.stringify(uploadId)}`);
}

function assertSha256(sha256: string): void {
  if (!isSha256Hex(sha256))
    throw new RangeError(`not a lowercase SHA-256 hex digest: ${JSON.stringify(sha256)}`);
}

/** `ab/cd/abcd…`: two levels of fan-out keep any one listing prefix small. */
function shardedHash(sha256: string): string {
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

export function uploadKey(uploadId: string): string {
  assertUploadId(uploadId);
  return `${UPLOADS_PREFIX}${uploadId}`;
}

/** The upload id an object key stands for, or undefined when the key is not an upload key. */
export function uploadIdFromKey(key: string): string | undefined {
  if (!key.startsWith(UPLOADS_PREFIX)) return undefined;
  const uploadId = key.slice(UPLOADS_PREFIX.length);
  return isUploadId(uploadId) ? uploadId : undefined;
}

export function originalKey(sha256: string): string {
  assertSha256(sha256);
  return `${ORIGINALS_PREFIX}${shardedHash(sha256)}`;
}

/**
 * The JPEG the enrichment lane's models read (`analysis/ab/cd/{sha256}.jpg`): one per image, never
 * served (the CDN serves `derived/` only), removed with the image.
 */
export function analysisKey(sha256: string): string {
  assertSha256(sha256);
  return `${ANALYSIS_PREFIX}${shardedHash(sha256)}.jpg`;
}

/** Where every derivative of one image lives: deleting an image removes this prefix. */
export function derivativesPrefix(sha256: string): string {
  assertSha256(sha256);
  return `${DERIVATIVES_PREFIX}${shardedHash(sha256)}/`;
}

/**
 * `derived/ab/cd/{sha256}/{variant}-{revision}.{ext}`, or `…-{revision}-page007.{ext}` for one page
 * of a multi-page original; the revision changes whenever the spec does.
 */
export function derivativeKey(
  sha256: string,
  variant: VariantSpec,
  format: OutputFormat,
  page?: number,
): string {
  const revision = encodingRevision(variant, format);
  return `${derivativesPrefix(sha256)}${variantName(variant)}-${revision}${pageSuffix(page)}.${OUTPUT_FORMATS[format].extension}`;
}

/**
 * `derived/ab/cd/{sha256}/{variant}` (`…-page001` for one page): no object has this key; the CDN's
 * viewer-request function rewrites it to the derivative of the best format the viewer accepts.
 */
export function negotiatedKey(sha256: string, variant: VariantSpec, page?: number): string {
  return `${derivativesPrefix(sha256)}${variantName(variant)}${pageSuffix(page)}`;
}

function variantName(variant: VariantSpec): string {
  if (!VARIANT_NAME_PATTERN.test(variant.name)) {
    throw new RangeError(`not a variant name: ${JSON.stringify(variant.name)}`);
  }
  return variant.name;
}

function pageSuffix(page: number | undefined): string {
  if (page === undefined) return '';
  if (!(Number.isInteger(page) && page >= 1 && page <= 999))
    throw new RangeError(`not a page number: ${page}`);
  return `-page${String(page).padStart(3, '0')}`;
}

/** One derivative a key names: which image, which variant of the spec, which format and page. */
export interface DerivativeAddress {
  imageId: string;
  variant: VariantSpec;
  format: OutputFormat;
  page: number | undefined;
}

const DERIVATIVE_KEY =
  /^derived\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\/([a-z][a-z0-9-]*?)(?:-page(\d{3}))?\.(\w+)$/;

/**
 * The derivative a key names, when it is exactly the key `derivativeKey` builds for a variant of
 * `variants` in one of its formats: the current revision only, a page only on a page-able key. Any
 * other key (another size, an old revision, a made-up name) names nothing, so a request for it can
 * never make anything be rendered.
 */
export function parseDerivativeKey(
  key: string,
  variants: readonly VariantSpec[],
): DerivativeAddress | undefined {
  const match = DERIVATIVE_KEY.exec(key);
  if (!match) return undefined;
  const [, shard1, shard2, imageId = '', nameAndRevision = '', pageDigits, extension] = match;
  if (shard1 !== imageId.slice(0, 2) || shard2 !== imageId.slice(2, 4)) return undefined;
  const page = pageDigits === undefined ? undefined : Number(pageDigits);
  if (page === 0) return undefined;
  for (const variant of variants) {
    if (!nameAndRevision.startsWith(`${variant.name}-`)) continue;
    for (const { format } of variant.formats) {
      if (OUTPUT_FORMATS[format].extension !== extension) continue;
      if (derivativeKey(imageId, variant, format, page) === key) return { imageId, variant, format, page };
    }
  }
  return undefined;
}
