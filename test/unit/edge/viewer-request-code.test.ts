import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cdnUrl, imageView } from '../../../lambdas/core/image-views.js';
import { parseSettings } from '../../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, encodingRevision, type VariantSpec } from '../../../lambdas/core/variants.js';
import {
  loadViewerRequest,
  MAX_FUNCTION_CODE_BYTES,
  variantFormatTable,
  viewerRequestCode,
} from '../../../lambdas/edge/viewer-request-code.js';
import type { ImageLink, ImageRecord } from '../../../lambdas/ports/catalog.js';

const settings = parseSettings();
const CDN = 'https://cdn.example.test';

describe('the variant table', () => {
  it('gives each variant its revision and extension per MIME type', () => {
    const [thumb] = DEFAULT_VARIANTS as [VariantSpec];
    expect(variantFormatTable([thumb])).toEqual({
      thumb: {
        'image/avif': [encodingRevision(thumb, 'avif'), 'avif'],
        'image/webp': [encodingRevision(thumb, 'webp'), 'webp'],
        'image/jpeg': [encodingRevision(thumb, 'jpeg'), 'jpg'],
      },
    });
  });
});

describe('the function code', () => {
  const code = viewerRequestCode(settings);

  it('is a CloudFront Functions script: a top-level handler, no modules', () => {
    expect(code).toMatch(/^function handler\(event\) \{$/m);
    expect(code).not.toMatch(/^\s*(import|export)\b|\brequire\(/m);
  });

  it('carries the table for the settings in place of the placeholder', () => {
    expect(code).not.toContain('__APERTURE_VARIANT_FORMATS__');
    expect(code).toContain(JSON.stringify(variantFormatTable(settings.variants)));
  });

  it('fits CloudFront’s 10 KB with room for a large variant set', () => {
    expect(Buffer.byteLength(code)).toBeLessThan(MAX_FUNCTION_CODE_BYTES / 2);
    const twenty = Array.from({ length: 20 }, (_, i) => ({
      ...(DEFAULT_VARIANTS[0] as VariantSpec),
      name: `variant-with-a-long-name-${String(i).padStart(3, '0')}`,
    }));
    expect(Buffer.byteLength(viewerRequestCode({ variants: twenty }))).toBeLessThan(MAX_FUNCTION_CODE_BYTES);
  });

  it('refuses a variant set CloudFront would refuse', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({
      ...(DEFAULT_VARIANTS[0] as VariantSpec),
      name: `variant-with-a-long-name-${String(i).padStart(3, '0')}`,
    }));
    expect(() => viewerRequestCode({ variants: many })).toThrow(RangeError);
  });

  it('runs without Node: the handler sees none of its globals', () => {
    const handler = loadViewerRequest(settings);
    expect(handler.toString()).toMatch(/^function handler\(event\)/);
    expect(Object.getPrototypeOf(handler)).not.toBe(Function.prototype);
  });
});

describe('the image view’s negotiated URLs', () => {
  const sha = createHash('sha256').update('viewer-request-code').digest('hex');
  const handler = loadViewerRequest(settings);
  const pathOf = (url: string | undefined) => url?.slice(CDN.length);
  const negotiate = (url: string | undefined, accept: string) => {
    const result = handler({
      version: '1.0',
      context: {
        distributionDomainName: 'cdn',
        distributionId: 'E1',
        eventType: 'viewer-request',
        requestId: 'r',
      },
      viewer: { ip: '192.0.2.1' },
      request: {
        method: 'GET',
        uri: pathOf(url) ?? '',
        querystring: {},
        headers: { accept: { value: accept } },
        cookies: {},
      },
    });
    return 'uri' in result ? `${CDN}${result.uri}` : result.statusCode;
  };
  const image = (overrides: Partial<ImageRecord>): ImageRecord => ({
    imageId: sha,
    format: 'jpeg',
    contentType: 'image/jpeg',
    width: 4000,
    height: 3000,
    pages: 1,
    orientation: undefined,
    hasAlpha: false,
    hasIcc: false,
    animated: false,
    bytes: 1,
    status: 'ready',
    variantSetVersion: 'v',
    refCount: 1,
    createdAt: new Date(0),
    createdByUpload: 'a'.repeat(32),
    variants: Object.fromEntries(settings.variants.map((v) => [v.name, 'ready'])),
    ...overrides,
  });
  const link: ImageLink = {
    owner: 'o',
    imageId: sha,
    uploadId: 'b'.repeat(32),
    collection: undefined,
    filename: undefined,
    linkedAt: new Date(0),
  };

  it.each([
    ['a JPEG', {}],
    ['a multi-page TIFF', { format: 'tiff', contentType: 'image/tiff', pages: 3 }],
  ] as const)('lead to the view’s own per-format URLs for %s', (_, overrides) => {
    const view = imageView(image(overrides), link, settings.variants, CDN);
    for (const variant of view.variants) {
      expect(negotiate(variant.url, 'image/avif,image/webp,*/*')).toBe(variant.urls?.avif);
      expect(negotiate(variant.url, 'image/webp,*/*')).toBe(variant.urls?.webp);
      expect(negotiate(variant.url, '*/*')).toBe(variant.urls?.jpeg);
    }
  });

  it('use the same base as every other CDN URL', () => {
    const [variant] = imageView(image({}), link, settings.variants, `${CDN}/`).variants;
    expect(variant?.url).toBe(cdnUrl(CDN, `derived/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}/thumb`));
  });
});
