/**
 * The headers the CDN adds to every response, in one place: the distribution's response headers
 * policy (lib/image-cdn.ts) and the local CDN (local/cdn) both read them from here.
 */

/** Header name (lowercase) → value, as the local CDN sends them. */
export const CDN_RESPONSE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  // A format-less variant URL answers with AVIF, WebP or JPEG by the request's Accept header, so
  // browser and proxy caches must not hand one viewer's answer to another.
  vary: 'Accept',
} as const;

/**
 * HTTP Strict Transport Security, on the distribution only: browsers ignore it over plain HTTP, so
 * the local CDN leaves it out.
 */
export const STRICT_TRANSPORT_SECURITY = { maxAgeSeconds: 365 * 24 * 60 * 60, includeSubdomains: true };

/**
 * Cross-origin reads: the images are public, so any page may read them from script (a canvas, a
 * `fetch`, the demo page's byte counts). Nothing is credentialed, so `*` grants nothing more.
 * Sent, as CloudFront sends it, only to requests that carry an `Origin`.
 */
export const CDN_CORS = { allowOrigin: '*', allowMethods: ['GET', 'HEAD'] } as const;
