/**
 * The CDN's viewer-request function as code: `viewer-request.js` with the settings' variant table
 * filled in. CDK deploys exactly this string and the local CDN evaluates exactly this string, so
 * the two cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { createContext, runInContext } from 'node:vm';
import type { CloudFrontFunctionsEvent } from 'aws-lambda';
import { OUTPUT_FORMATS } from '../core/formats.js';
import type { Settings } from '../core/settings.js';
import { encodingRevision } from '../core/variants.js';

/** CloudFront refuses function code over 10 KB. */
export const MAX_FUNCTION_CODE_BYTES = 10 * 1024;

const SOURCE_FILE = new URL('./viewer-request.js', import.meta.url);
/** The one place in the source the table goes, quotes included, so the source parses on its own. */
const TABLE_PLACEHOLDER = "'__APERTURE_VARIANT_FORMATS__'";

export type ViewerRequestEvent = Omit<CloudFrontFunctionsEvent, 'response'>;
export type ViewerRequest = CloudFrontFunctionsEvent['request'];
/** What the function answers itself, without going to the origin. */
export interface ViewerResponse {
  statusCode: number;
  statusDescription?: string;
}
export type ViewerRequestHandler = (event: ViewerRequestEvent) => ViewerRequest | ViewerResponse;

/** Variant name → MIME type → `[revision, extension]`: everything the function needs to build a key. */
export type VariantFormatTable = Record<string, Record<string, [revision: string, extension: string]>>;

export function variantFormatTable(variants: Settings['variants']): VariantFormatTable {
  return Object.fromEntries(
    variants.map((variant) => [
      variant.name,
      Object.fromEntries(
        variant.formats.map(({ format }) => [
          OUTPUT_FORMATS[format].mime,
          [encodingRevision(variant, format), OUTPUT_FORMATS[format].extension],
        ]),
      ),
    ]),
  );
}

/** The function's code for these settings; throws RangeError when CloudFront would refuse its size. */
export function viewerRequestCode(settings: Pick<Settings, 'variants'>): string {
  const source = readFileSync(SOURCE_FILE, 'utf8');
  const [before, after, ...extra] = source.split(TABLE_PLACEHOLDER);
  if (after === undefined || extra.length > 0) {
    throw new Error(`${SOURCE_FILE.pathname} must hold ${TABLE_PLACEHOLDER} exactly once`);
  }
  const code = `${before}${JSON.stringify(variantFormatTable(settings.variants))}${after}`;
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > MAX_FUNCTION_CODE_BYTES) {
    throw new RangeError(
      `the CDN's viewer-request function would be ${bytes} bytes for ${settings.variants.length} variants; CloudFront allows ${MAX_FUNCTION_CODE_BYTES}`,
    );
  }
  return code;
}

/**
 * The function's handler for these settings, evaluated from `viewerRequestCode` in a context of its
 * own (as CloudFront runs it: no Node globals, no modules).
 */
export function loadViewerRequest(settings: Pick<Settings, 'variants'>): ViewerRequestHandler {
  const context = createContext({});
  runInContext(viewerRequestCode(settings), context, { filename: 'viewer-request.js' });
  const handler: unknown = context.handler;
  if (typeof handler !== 'function')
    throw new Error('viewer-request.js must declare function handler(event)');
  return handler as ViewerRequestHandler;
}
