import { describe, expect, it } from 'vitest';
import { UPLOADS_PREFIX } from '../../lambdas/contract.js';
import { TooLargeError, UnsupportedImageError, ValidationError } from '../../lambdas/core/errors.js';
import { isUploadId } from '../../lambdas/core/keys.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { grantUpload, parseUploadRequest } from '../../lambdas/core/uploads.js';

const settings = parseSettings({
  maxUploadBytes: 1000,
  allowedFormats: ['jpeg', 'png'],
  presignTtlSeconds: 60,
});
const sha = 'AB'.repeat(32);

describe('upload requests', () => {
  it('accepts a minimal request and defaults to a POST upload', () => {
    expect(parseUploadRequest({ contentType: 'image/jpeg', size: 10 }, settings)).toEqual({
      contentType: 'image/jpeg',
      size: 10,
      method: 'POST',
      format: 'jpeg',
    });
  });

  it('normalises the checksum to lowercase and the content type to its format', () => {
    const request = parseUploadRequest(
      { contentType: ' IMAGE/PNG', size: 1, sha256: sha, method: 'PUT' },
      settings,
    );
    expect(request.sha256).toBe(sha.toLowerCase());
    expect(request.format).toBe('png');
  });

  it.each([
    ['no body', undefined, 'body'],
    ['an array', [], 'body'],
    ['missing size', { contentType: 'image/png' }, 'size'],
    ['zero size', { contentType: 'image/png', size: 0 }, 'size'],
    ['fractional size', { contentType: 'image/png', size: 1.5 }, 'size'],
    ['size as a string', { contentType: 'image/png', size: '10' }, 'size'],
    ['short checksum', { contentType: 'image/png', size: 1, sha256: 'abc' }, 'sha256'],
    ['unknown method', { contentType: 'image/png', size: 1, method: 'GET' }, 'method'],
    ['collection with a slash', { contentType: 'image/png', size: 1, collection: 'a/b' }, 'collection'],
    ['filename with a newline', { contentType: 'image/png', size: 1, filename: 'a\nb.png' }, 'filename'],
    ['an unknown field', { contentType: 'image/png', size: 1, key: 'originals/x' }, 'key'],
  ])('refuses %s with a validation error naming the field', (_, body, field) => {
    expect(() => parseUploadRequest(body, settings)).toThrow(expect.objectContaining({ field }));
    expect(() => parseUploadRequest(body, settings)).toThrow(ValidationError);
  });

  it.each(['image/svg+xml', 'text/html', 'image/webp', 'application/octet-stream'])(
    'refuses content type %s as unsupported',
    (contentType) => {
      expect(() => parseUploadRequest({ contentType, size: 1 }, settings)).toThrow(UnsupportedImageError);
    },
  );

  it('refuses a size above the limit as too large, and accepts the limit itself', () => {
    expect(() => parseUploadRequest({ contentType: 'image/png', size: 1001 }, settings)).toThrow(
      TooLargeError,
    );
    expect(parseUploadRequest({ contentType: 'image/png', size: 1000 }, settings).size).toBe(1000);
  });
});

describe('upload grants', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const request = parseUploadRequest(
    { contentType: 'image/jpeg', size: 5, filename: '../../evil.jpg', collection: 'holiday' },
    settings,
  );

  it('binds a random key under uploads/, never the filename', () => {
    const grant = grantUpload(request, 'user-1', settings, now);
    expect(isUploadId(grant.uploadId)).toBe(true);
    expect(grant.key).toBe(`${UPLOADS_PREFIX}${grant.uploadId}`);
    expect(JSON.stringify(grant)).not.toContain('evil');
    expect(grantUpload(request, 'user-1', settings, now).uploadId).not.toBe(grant.uploadId);
  });

  it('carries owner, upload id and collection as metadata and expires after the TTL', () => {
    const grant = grantUpload(request, 'user-1', settings, now, 'f'.repeat(32));
    expect(grant.metadata).toEqual({ owner: 'user-1', 'upload-id': 'f'.repeat(32), collection: 'holiday' });
    expect(grant.expiresAt.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(grant.contentType).toBe('image/jpeg');
    expect(grant.size).toBe(5);
  });

  it('plans a multipart upload, which lasts the multipart days rather than a URL’s TTL', () => {
    const multipart = parseUploadRequest(
      { contentType: 'image/png', size: 999, method: 'MULTIPART', collection: 'scans' },
      { ...settings, multipartUploadDays: 3 },
    );
    const grant = grantUpload(
      multipart,
      'user-1',
      { ...settings, multipartUploadDays: 3 },
      now,
      'e'.repeat(32),
    );
    expect(grant).toMatchObject({
      method: 'MULTIPART',
      key: `${UPLOADS_PREFIX}${'e'.repeat(32)}`,
      contentType: 'image/png',
      metadata: { owner: 'user-1', 'upload-id': 'e'.repeat(32), collection: 'scans' },
      plan: { partSize: 8 * 1024 * 1024, partCount: 1 },
    });
    expect(grant.expiresAt.toISOString()).toBe('2026-01-04T00:00:00.000Z');
  });
});
