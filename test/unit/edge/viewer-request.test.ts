import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DERIVATIVES_PREFIX } from '../../../lambdas/contract.js';
import type { OutputFormat } from '../../../lambdas/core/formats.js';
import { derivativeKey } from '../../../lambdas/core/keys.js';
import { parseSettings } from '../../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec, watermarkedPreview } from '../../../lambdas/core/variants.js';
import {
  loadViewerRequest,
  type ViewerRequestEvent,
  type ViewerRequestHandler,
} from '../../../lambdas/edge/viewer-request-code.js';

/** Accept headers browsers send for `<img>` requests. */
const BROWSERS = {
  'Chrome and Edge (AVIF since 85)': 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  'Chrome before AVIF': 'image/webp,image/apng,image/*,*/*;q=0.8',
  'Firefox (AVIF since 93)': 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  'Firefox 65–92': 'image/webp,*/*',
  'Safari 16+/17':
    'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  'Safari 14–15 (WebP, no AVIF)': 'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  'Safari 13 and older (neither)': 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  'Internet Explorer 11': 'image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  curl: '*/*',
} as const;

const [thumb, , medium] = DEFAULT_VARIANTS as [VariantSpec, VariantSpec, VariantSpec];
const avifOnly: VariantSpec = { ...thumb, name: 'hero', formats: [{ format: 'avif', quality: 60 }] };
const preview = watermarkedPreview();
const settings = parseSettings({ variants: [...DEFAULT_VARIANTS, preview, avifOnly] });
const viewerRequest: ViewerRequestHandler = loadViewerRequest(settings);

const sha = createHash('sha256').update(randomBytes(16)).digest('hex');
const base = `/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;

/** The CDN path of a derivative: its key under the origin path. */
const objectPath = (spec: VariantSpec, format: OutputFormat, page?: number) =>
  `/${derivativeKey(sha, spec, format, page).slice(DERIVATIVES_PREFIX.length)}`;

function event(uri: string, accept?: string | string[]): ViewerRequestEvent {
  const headers: ViewerRequestEvent['request']['headers'] = {};
  const [first, ...more] = typeof accept === 'string' ? [accept] : (accept ?? []);
  if (first !== undefined) {
    headers.accept =
      more.length === 0
        ? { value: first }
        : { value: first, multiValue: [first, ...more].map((value) => ({ value })) };
  }
  return {
    version: '1.0',
    context: {
      distributionDomainName: 'd1.cloudfront.net',
      distributionId: 'E1',
      eventType: 'viewer-request',
      requestId: 'r1',
    },
    viewer: { ip: '192.0.2.1' },
    request: { method: 'GET', uri, querystring: {}, headers, cookies: {} },
  };
}

/** The URI the function sends to the origin, or the status it answers with itself. */
function negotiate(uri: string, accept?: string | string[]): string | number {
  const result = viewerRequest(event(uri, accept));
  return 'statusCode' in result ? result.statusCode : result.uri;
}

describe('format-less variant URLs', () => {
  it.each([
    ['Chrome and Edge (AVIF since 85)', 'avif'],
    ['Chrome before AVIF', 'webp'],
    ['Firefox (AVIF since 93)', 'avif'],
    ['Firefox 65–92', 'webp'],
    ['Safari 16+/17', 'avif'],
    ['Safari 14–15 (WebP, no AVIF)', 'webp'],
    ['Safari 13 and older (neither)', 'jpeg'],
    ['Internet Explorer 11', 'jpeg'],
    ['curl', 'jpeg'],
  ] as const)('%s gets %s', (browser, format) => {
    expect(negotiate(`${base}/thumb`, BROWSERS[browser])).toBe(objectPath(thumb, format));
  });

  it('serves JPEG to a client that sends no Accept header, or an empty one', () => {
    expect(negotiate(`${base}/thumb`)).toBe(objectPath(thumb, 'jpeg'));
    expect(negotiate(`${base}/thumb`, '')).toBe(objectPath(thumb, 'jpeg'));
  });

  it('rewrites the request it was given and keeps the rest of it', () => {
    const request = event(`${base}/medium`, BROWSERS.curl);
    const result = viewerRequest(request);
    expect(result).toBe(request.request);
    expect(result).toMatchObject({ method: 'GET', uri: objectPath(medium, 'jpeg'), headers: { accept: {} } });
  });
});

describe('q values', () => {
  it.each([
    ['a refused AVIF', 'image/avif;q=0,image/webp,image/*', 'webp'],
    ['refused AVIF and WebP', 'image/avif;q=0,image/webp;q=0,image/*', 'jpeg'],
    ['the highest q', 'image/avif;q=0.5,image/webp;q=0.9,image/jpeg;q=0.1', 'webp'],
    ['JPEG named first with a higher q', 'image/jpeg,image/avif;q=0.9', 'jpeg'],
    ['a tie, to the better format', 'image/jpeg;q=0.8,image/webp;q=0.8', 'webp'],
    ['a named type over its wildcard', 'image/*;q=0,image/webp', 'webp'],
    ['image/* over */*', '*/*;q=0,image/*', 'jpeg'],
    ['case-insensitive ranges and parameters', 'IMAGE/AVIF;Q=1', 'avif'],
    ['spaces around ranges and parameters', ' image/webp ; q=0.9 , image/jpeg ; q=0.5', 'webp'],
    ['other parameters beside q', 'image/avif;foo=bar;q=0.9,image/jpeg;q=0.5', 'avif'],
    ['a malformed q, ignored', 'image/avif;q=high,image/webp', 'webp'],
    ['a q over 1, ignored', 'image/avif;q=1.5,image/webp;q=0.5', 'webp'],
    ['the first mention of a range', 'image/avif;q=0,image/avif', 'jpeg'],
  ] as const)('honours %s', (_, accept, format) => {
    expect(negotiate(`${base}/thumb`, accept)).toBe(objectPath(thumb, format));
  });

  it('reads every Accept header a request carries', () => {
    expect(negotiate(`${base}/thumb`, ['image/webp', 'image/avif'])).toBe(objectPath(thumb, 'avif'));
  });

  it.each(['image/*;q=0', '*/*;q=0', 'image/avif;q=0,image/webp;q=0,image/jpeg;q=0'])(
    'answers 406 when %s refuses every format the variant has',
    (accept) => {
      expect(negotiate(`${base}/thumb`, accept)).toBe(406);
    },
  );
});

describe('variants lacking some formats', () => {
  it('picks among the formats the variant has', () => {
    expect(negotiate(`${base}/preview`, BROWSERS['Chrome and Edge (AVIF since 85)'])).toBe(
      objectPath(preview, 'webp'),
    );
    expect(negotiate(`${base}/preview`, BROWSERS.curl)).toBe(objectPath(preview, 'jpeg'));
  });

  it('serves a format the client did not ask for but did not refuse when it asked for none it can get', () => {
    expect(negotiate(`${base}/hero`, BROWSERS['Safari 13 and older (neither)'])).toBe(
      objectPath(avifOnly, 'avif'),
    );
    expect(negotiate(`${base}/hero`)).toBe(objectPath(avifOnly, 'avif'));
    expect(negotiate(`${base}/preview`, 'image/png')).toBe(objectPath(preview, 'jpeg'));
  });

  it('answers 406 when the client refuses the only format there is', () => {
    expect(negotiate(`${base}/hero`, 'image/avif;q=0,*/*')).toBe(406);
  });
});

describe('pages of a multi-page original', () => {
  it.each([1, 2, 100, 999])('rewrites page %i to its derivative', (page) => {
    const suffix = `-page${String(page).padStart(3, '0')}`;
    expect(negotiate(`${base}/medium${suffix}`, BROWSERS['Safari 16+/17'])).toBe(
      objectPath(medium, 'avif', page),
    );
    expect(negotiate(`${base}/medium${suffix}`, BROWSERS.curl)).toBe(objectPath(medium, 'jpeg', page));
  });

  it.each(['medium-page000', 'medium-page02', 'medium-page1000', 'huge-page001', 'medium-page001-page001'])(
    'leaves %s alone',
    (name) => {
      expect(negotiate(`${base}/${name}`, BROWSERS.curl)).toBe(`${base}/${name}`);
    },
  );

  it('takes a variant whose own name ends like a page for that variant', () => {
    const paged: VariantSpec = { ...medium, name: 'medium-page002' };
    const handler = loadViewerRequest({ variants: [medium, paged] });
    const result = handler(event(`${base}/medium-page002`, BROWSERS.curl));
    expect('uri' in result && result.uri).toBe(objectPath(paged, 'jpeg'));
  });
});

describe('URIs left alone', () => {
  const upper = sha.toUpperCase();
  it.each([
    ['an explicit AVIF', () => objectPath(thumb, 'avif')],
    ['an explicit JPEG', () => objectPath(thumb, 'jpeg')],
    ['an explicit page', () => objectPath(medium, 'webp', 3)],
    ['an unknown variant', () => `${base}/huge`],
    ['an inherited property name', () => `${base}/constructor`],
    ['a dot segment', () => `${base}/../thumb`],
    ['a climb out of the hash', () => `/${sha.slice(0, 2)}/${sha.slice(2, 4)}/../${sha}/thumb`],
    ['a double slash in front', () => `/${base}/thumb`],
    ['a double slash inside', () => `/${sha.slice(0, 2)}/${sha.slice(2, 4)}//${sha}/thumb`],
    ['a trailing slash', () => `${base}/thumb/`],
    ['uppercase hex', () => `/${upper.slice(0, 2)}/${upper.slice(2, 4)}/${upper}/thumb`],
    ['an encoded slash', () => `/${sha.slice(0, 2)}%2F${sha.slice(2, 4)}/${sha}/thumb`],
    ['shards that are not the hash’s', () => `/00/00/${sha}/thumb`],
    ['a short hash', () => `${base.slice(0, -1)}/thumb`],
    ['an original’s path', () => `/originals/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`],
    ['the root', () => '/'],
  ])('%s', (_, uri) => {
    for (const accept of [BROWSERS['Chrome and Edge (AVIF since 85)'], BROWSERS.curl, undefined]) {
      expect(negotiate(uri(), accept)).toBe(uri());
    }
  });
});
