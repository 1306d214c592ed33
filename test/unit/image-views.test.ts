import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cdnUrl, imageView, linkView, uploadView } from '../../lambdas/core/image-views.js';
import { derivativeKey } from '../../lambdas/core/keys.js';
import type { TechnicalMetadata } from '../../lambdas/core/render/technical-metadata.js';
import { DEFAULT_VARIANTS, type VariantSpec, watermarkedPreview } from '../../lambdas/core/variants.js';
import type { ImageLink, ImageRecord, UploadRecord } from '../../lambdas/ports/catalog.js';

const sha = createHash('sha256').update('image-views').digest('hex');
const CDN = 'https://cdn.example.test';
const created = new Date('2030-01-02T03:04:05.000Z');
const linked = new Date('2031-06-07T08:09:10.000Z');

const upload = (overrides: Partial<UploadRecord> = {}): UploadRecord => ({
  uploadId: 'a'.repeat(32),
  owner: 'owner-a',
  state: 'pending',
  contentType: 'image/jpeg',
  size: 1234,
  sha256: undefined,
  filename: 'cat.jpg',
  collection: 'pets',
  createdAt: created,
  uploadExpiresAt: new Date(created.getTime() + 300_000),
  ...overrides,
});

const image = (overrides: Partial<ImageRecord> = {}): ImageRecord => ({
  imageId: sha,
  format: 'jpeg',
  contentType: 'image/jpeg',
  width: 640,
  height: 480,
  pages: 1,
  orientation: 6,
  hasAlpha: false,
  hasIcc: true,
  animated: false,
  bytes: 1234,
  status: 'processing',
  variantSetVersion: 'v1',
  refCount: 7,
  createdAt: created,
  createdByUpload: 'b'.repeat(32),
  jobsQueuedAt: created,
  variants: {},
  ...overrides,
});

const link = (overrides: Partial<ImageLink> = {}): ImageLink => ({
  owner: 'owner-a',
  imageId: sha,
  uploadId: 'c'.repeat(32),
  collection: 'pets',
  filename: 'cat.jpg',
  linkedAt: linked,
  ...overrides,
});

const [thumb, small, medium] = DEFAULT_VARIANTS as [VariantSpec, VariantSpec, VariantSpec];

describe('upload view', () => {
  it('reports a pending upload by its own state', () => {
    expect(uploadView(upload(), undefined)).toEqual({
      uploadId: 'a'.repeat(32),
      status: 'pending',
      createdAt: created.toISOString(),
    });
  });

  it('reports a rejected upload with its reason code and message', () => {
    const rejected = upload({
      state: 'rejected',
      rejection: { reason: 'too_many_pixels', message: 'over the pixel limit' },
    });
    expect(uploadView(rejected, undefined)).toEqual({
      uploadId: 'a'.repeat(32),
      status: 'rejected',
      createdAt: created.toISOString(),
      reason: 'too_many_pixels',
      message: 'over the pixel limit',
    });
  });

  it.each(['processing', 'ready'] as const)('reports an accepted upload by its image: %s', (status) => {
    const accepted = upload({ state: 'accepted', imageId: sha });
    expect(uploadView(accepted, image({ status }))).toEqual({
      uploadId: 'a'.repeat(32),
      status,
      createdAt: created.toISOString(),
      imageId: sha,
    });
  });

  it("reports a failed image's reason on the upload", () => {
    const failed = image({ status: 'failed', failure: { reason: 'undecodable', message: 'sharp gave up' } });
    expect(uploadView(upload({ state: 'accepted', imageId: sha }), failed)).toMatchObject({
      status: 'failed',
      imageId: sha,
      reason: 'undecodable',
      message: 'sharp gave up',
    });
  });

  it('refuses to describe an accepted upload without its image', () => {
    expect(() => uploadView(upload({ state: 'accepted', imageId: sha }), undefined)).toThrow(RangeError);
  });
});

describe('image view', () => {
  it('shows facts, the caller’s own link, and every current variant (missing ones pending)', () => {
    const view = imageView(
      image({ variants: { thumb: 'failed', gone: 'ready' } }),
      link(),
      [thumb, small],
      CDN,
    );
    expect(view).toEqual({
      imageId: sha,
      status: 'processing',
      format: 'jpeg',
      contentType: 'image/jpeg',
      width: 640,
      height: 480,
      pages: 1,
      animated: false,
      hasAlpha: false,
      bytes: 1234,
      createdAt: linked.toISOString(),
      collection: 'pets',
      filename: 'cat.jpg',
      uploadId: 'c'.repeat(32),
      variants: [
        { name: 'thumb', fit: 'cover', width: 300, height: 300, watermarked: false, status: 'failed' },
        { name: 'small', fit: 'inside', width: 640, height: 640, watermarked: false, status: 'pending' },
      ],
    });
  });

  it('tells a watermarked preview from the unmarked variants', () => {
    const view = imageView(image(), link(), [thumb, watermarkedPreview()], CDN);
    expect(view.variants.map((v) => [v.name, v.watermarked])).toEqual([
      ['thumb', false],
      ['preview', true],
    ]);
  });

  it('gives a ready variant one CDN URL per encoding, at its derivative key under the CDN origin path', () => {
    const view = imageView(image({ status: 'ready', variants: { thumb: 'ready' } }), link(), [thumb], CDN);
    const urls = view.variants[0]?.urls;
    expect(Object.keys(urls ?? {}).sort()).toEqual(['avif', 'jpeg', 'webp']);
    expect(urls?.avif).toBe(`${CDN}/${derivativeKey(sha, thumb, 'avif').slice('derived/'.length)}`);
    expect(urls?.jpeg).toMatch(
      new RegExp(`^${CDN}/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}/thumb-[0-9a-f]{8}\\.jpg$`),
    );
  });

  it('gives a ready variant one format-less URL, which the CDN negotiates by Accept', () => {
    const view = imageView(image({ status: 'ready', variants: { thumb: 'ready' } }), link(), [thumb], CDN);
    expect(view.variants[0]?.url).toBe(`${CDN}/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}/thumb`);
  });

  it.each(['pending', 'skipped', 'failed'] as const)('gives a %s variant no URLs and no size', (status) => {
    const view = imageView(image({ variants: { thumb: status } }), link(), [thumb], CDN);
    for (const field of ['urls', 'url', 'output']) expect(view.variants[0]).not.toHaveProperty(field);
  });

  it.each([
    ['upright', undefined, { thumb: [300, 300], small: [640, 480], medium: [1024, 768] }],
    ['turned a quarter by EXIF', 6, { thumb: [300, 300], small: [480, 640], medium: [768, 1024] }],
    ['mirrored by EXIF', 2, { thumb: [300, 300], small: [640, 480], medium: [1024, 768] }],
  ] as const)('gives each ready variant its rendered size, for an original %s', (_, orientation, sizes) => {
    const ready = image({
      width: 4000,
      height: 3000,
      orientation,
      variants: { thumb: 'ready', small: 'ready', medium: 'ready' },
    });
    const view = imageView(ready, link(), [thumb, small, medium], CDN);
    expect(
      Object.fromEntries(view.variants.map((v) => [v.name, [v.output?.width, v.output?.height]])),
    ).toEqual(sizes);
  });

  it('never gives a size larger than the original', () => {
    const tiny = image({
      width: 200,
      height: 100,
      orientation: 1,
      variants: { thumb: 'ready', medium: 'ready' },
    });
    const view = imageView(tiny, link(), [thumb, medium], CDN);
    expect(view.variants.map((v) => v.output)).toEqual([
      { width: 100, height: 100 },
      { width: 200, height: 100 },
    ]);
  });

  it('describes page 1 of a multi-page TIFF’s per-page variants; its thumbnail has no page', () => {
    const tiff = image({
      format: 'tiff',
      contentType: 'image/tiff',
      pages: 4,
      variants: { thumb: 'ready', medium: 'ready' },
    });
    const [thumbView, mediumView] = imageView(tiff, link(), [thumb, medium], CDN).variants;
    expect(mediumView?.url).toMatch(/\/medium-page001$/);
    expect(mediumView?.urls?.webp).toBe(
      `${CDN}/${derivativeKey(sha, medium, 'webp', 1).slice('derived/'.length)}`,
    );
    expect(thumbView?.url).toMatch(/\/thumb$/);
    expect(thumbView?.urls?.webp).toBe(
      `${CDN}/${derivativeKey(sha, thumb, 'webp').slice('derived/'.length)}`,
    );
  });

  it.each([
    ['a single-page TIFF', { format: 'tiff', contentType: 'image/tiff', pages: 1 }],
    ['an animated GIF', { format: 'gif', contentType: 'image/gif', pages: 12, animated: true }],
  ] as const)('gives %s no pages', (_, facts) => {
    const view = imageView(image({ ...facts, variants: { medium: 'ready' } }), link(), [medium], CDN);
    expect(view.variants[0]?.url).toMatch(/\/medium$/);
  });

  it('only lists the encodings a variant has', () => {
    const webpOnly: VariantSpec = { ...thumb, formats: [{ format: 'webp', quality: 70 }] };
    const view = imageView(image({ variants: { thumb: 'ready' } }), link(), [webpOnly], CDN);
    expect(Object.keys(view.variants[0]?.urls ?? {})).toEqual(['webp']);
  });

  it('shows the placeholder and the technical metadata once the thumbnails lane stored them', () => {
    const everyField: Required<TechnicalMetadata> = {
      cameraMake: 'Canon',
      cameraModel: 'EOS R5',
      lens: 'RF24-105mm F4 L IS USM',
      iso: 400,
      exposureTime: 0.004,
      fNumber: 8,
      focalLength: 50,
      takenAt: '2024-05-06T07:08:09+02:00',
      latitude: 48.8583701,
      longitude: 2.2944813,
    };
    const rendered = image({
      placeholder: { thumbHash: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG', dominantColour: '#a0b0c0' },
      technicalMetadata: everyField,
    });
    expect(imageView(rendered, link(), [thumb], CDN)).toMatchObject({
      placeholder: { thumbHash: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG', dominantColour: '#a0b0c0' },
      technicalMetadata: everyField,
    });
  });

  it('leaves out what the record lacks and anything the record carries beyond the known fields', () => {
    expect(imageView(image(), link(), [thumb], CDN)).not.toHaveProperty('placeholder');
    expect(imageView(image(), link(), [thumb], CDN)).not.toHaveProperty('technicalMetadata');
    const padded = image({
      placeholder: { thumbHash: 'x', dominantColour: '#000000', internal: 1 } as ImageRecord['placeholder'],
      technicalMetadata: { iso: 100, serialNumber: 'AB123' } as ImageRecord['technicalMetadata'],
    });
    const text = JSON.stringify(imageView(padded, link(), [thumb], CDN));
    expect(text).toContain('"iso":100');
    expect(text).not.toContain('internal');
    expect(text).not.toContain('AB123');
  });

  it("names the caller's own earlier near-duplicate from their link, never the fingerprint", () => {
    const earlier = 'e'.repeat(64);
    const fingerprinted = image({ fingerprint: { phash: '0123456789abcdef', version: 1 } });
    const view = imageView(fingerprinted, link({ nearDuplicateOf: earlier }), [thumb], CDN);
    expect(view.nearDuplicateOf).toBe(earlier);
    expect(JSON.stringify(view)).not.toContain('0123456789abcdef');
    expect(imageView(fingerprinted, link(), [thumb], CDN)).not.toHaveProperty('nearDuplicateOf');
  });

  it('reports why a failed image failed', () => {
    const failed = image({ status: 'failed', failure: { reason: 'undecodable', message: 'no' } });
    expect(imageView(failed, link(), [thumb], CDN)).toMatchObject({
      status: 'failed',
      reason: 'undecodable',
      message: 'no',
    });
  });

  it('never exposes shared bookkeeping or other owners', () => {
    const text = JSON.stringify(imageView(image({ status: 'ready' }), link(), DEFAULT_VARIANTS, CDN));
    for (const secret of ['refCount', 'createdByUpload', 'jobsQueuedAt', 'variantSetVersion', 'owner']) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain('b'.repeat(32));
    // The image's own creation date would tell when someone else first uploaded the same bytes.
    expect(text).not.toContain(created.toISOString());
  });

  it('refuses a link to another image', () => {
    expect(() => imageView(image(), link({ imageId: 'f'.repeat(64) }), [thumb], CDN)).toThrow(RangeError);
  });
});

describe('CDN URLs', () => {
  it('drops the origin path and tolerates a trailing slash on the base', () => {
    expect(cdnUrl('https://d1.cloudfront.net/', 'derived/ab/cd/x.jpg')).toBe(
      'https://d1.cloudfront.net/ab/cd/x.jpg',
    );
  });

  it.each(['originals/ab/cd/x', 'uploads/x', 'derivedx/a'])(
    'refuses %s, which the CDN does not serve',
    (key) => {
      expect(() => cdnUrl(CDN, key)).toThrow(RangeError);
    },
  );
});

describe('link view', () => {
  it('shows only the caller’s own link', () => {
    expect(linkView(link({ collection: undefined }))).toEqual({
      imageId: sha,
      collection: undefined,
      filename: 'cat.jpg',
      uploadId: 'c'.repeat(32),
      linkedAt: linked.toISOString(),
    });
    expect(JSON.stringify(linkView(link()))).not.toContain('owner');
  });
});
