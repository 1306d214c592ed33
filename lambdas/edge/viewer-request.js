// CloudFront Functions (cloudfront-js-2.0), viewer request. The distribution and the local CDN both
// run this file, with the table below filled in from the settings by viewer-request-code.ts.
//
// A format-less variant URL, /ab/cd/{sha256}/{variant} or /ab/cd/{sha256}/{variant}-page002, is
// rewritten to the one derivative the Accept header picks, /ab/cd/{sha256}/{variant}-{rev}.{ext}
// (-{rev}-page002.{ext}), so the cache key is the object's own. Every other URI passes untouched.

// Variant name -> MIME type -> [revision, extension], for each format the variant is encoded in.
const VARIANT_FORMATS = '__APERTURE_VARIANT_FORMATS__';

// Best first. Wildcards (image/*, */*) only ever stand for JPEG: clients that decode neither AVIF
// nor WebP send them too (Safari before 14, Internet Explorer, curl), so those two must be named.
const PREFERENCE = ['image/avif', 'image/webp', 'image/jpeg'];
const WILDCARD_FORMAT = 'image/jpeg';

const FORMATLESS_URI = /^\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\/([a-z][a-z0-9-]*)$/;
const PAGE_SUFFIX = /^(.+)-page(\d{3})$/;
const QUALITY = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls the top-level handler by name
function handler(event) {
  const request = event.request;
  const uri = FORMATLESS_URI.exec(request.uri);
  if (!uri || uri[3].slice(0, 2) !== uri[1] || uri[3].slice(2, 4) !== uri[2]) return request;
  const variant = variantNamed(uri[4]);
  if (!variant) return request;
  const mime = chooseFormat(variant.formats, acceptedRanges(request.headers.accept));
  if (!mime) return { statusCode: 406, statusDescription: 'Not Acceptable' };
  const file = variant.formats[mime];
  request.uri = `/${uri[1]}/${uri[2]}/${uri[3]}/${variant.name}-${file[0]}${variant.page}.${file[1]}`;
  return request;
}

// A variant name may itself end in -pageNNN, so the whole name is looked up first.
function variantNamed(segment) {
  if (hasOwn(VARIANT_FORMATS, segment)) return { name: segment, page: '', formats: VARIANT_FORMATS[segment] };
  const paged = PAGE_SUFFIX.exec(segment);
  if (!paged || paged[2] === '000' || !hasOwn(VARIANT_FORMATS, paged[1])) return undefined;
  return { name: paged[1], page: `-page${paged[2]}`, formats: VARIANT_FORMATS[paged[1]] };
}

// Media range -> q, from every Accept header; undefined without one. A range with a malformed q is
// ignored, and the first mention of a range counts.
function acceptedRanges(header) {
  if (!header) return undefined;
  const values = header.multiValue ? header.multiValue.map((h) => h.value) : [header.value];
  const ranges = Object.create(null);
  const parts = values.join(',').split(',');
  for (let i = 0; i < parts.length; i++) {
    const params = parts[i].split(';');
    const range = params[0].trim().toLowerCase();
    let q = 1;
    for (let j = 1; j < params.length; j++) {
      const param = params[j].trim().toLowerCase();
      if (param.indexOf('q=') === 0) q = QUALITY.test(param.slice(2)) ? parseFloat(param.slice(2)) : -1;
    }
    if (range && q >= 0 && ranges[range] === undefined) ranges[range] = q;
  }
  return ranges;
}

// The q a client gives a format: its own range's, else JPEG's wildcard's. A wildcard at q=0 refuses
// everything it covers. Undefined means not asked for, which is not refused.
function qualityOf(mime, ranges) {
  if (!ranges) return mime === WILDCARD_FORMAT ? 1 : undefined;
  if (ranges[mime] !== undefined) return ranges[mime];
  const wildcard = ranges['image/*'] !== undefined ? ranges['image/*'] : ranges['*/*'];
  return mime === WILDCARD_FORMAT || wildcard === 0 ? wildcard : undefined;
}

// The highest q wins, ties going to the better format. When the client asks for none of the
// variant's formats, the most widely decodable one it does not refuse is served; if it refuses
// them all, nothing is (406).
function chooseFormat(formats, ranges) {
  let best;
  let bestQuality = 0;
  let unrefused;
  for (let i = 0; i < PREFERENCE.length; i++) {
    const mime = PREFERENCE[i];
    if (!hasOwn(formats, mime)) continue;
    const q = qualityOf(mime, ranges);
    if (q > bestQuality) {
      best = mime;
      bestQuality = q;
    }
    if (q !== 0) unrefused = mime;
  }
  return best || unrefused;
}

function hasOwn(object, key) {
  return Object.hasOwn(object, key);
}
