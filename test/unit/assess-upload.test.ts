import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { assessUpload } from '../../lambdas/core/assess-upload.js';
import { INPUT_FORMAT_NAMES, INPUT_FORMATS } from '../../lambdas/core/formats.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { makeImage } from '../support/images.js';

/** An animation of `count` 20x10 frames, each a different colour. */
async function animation(format: 'gif' | 'webp', count: number): Promise<Buffer> {
  const frames = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      sharp({
        create: { width: 20, height: 10, channels: 3, background: { r: i * 20, g: 0, b: 255 - i * 20 } },
      })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(frames, { join: { animated: true } })
    .toFormat(format)
    .toBuffer();
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const assess = (bytes: Buffer, contentType: string, overrides = {}, declaredSha?: string) =>
  assessUpload(bytes, sha(bytes), { contentType, sha256: declaredSha }, parseSettings(overrides));

describe('assessing uploaded bytes', () => {
  it.each(INPUT_FORMAT_NAMES)('accepts a %s and reports what decoding found', async (format) => {
    const bytes = await makeImage(format, { width: 40, height: 30 });
    expect(await assess(bytes, INPUT_FORMATS[format])).toEqual({
      accepted: true,
      facts: {
        format,
        contentType: INPUT_FORMATS[format],
        width: 40,
        height: 30,
        pages: 1,
        orientation: format === 'tiff' ? 1 : undefined, // TIFF always carries the tag
        hasAlpha: false,
        hasIcc: false,
        animated: false,
        bytes: bytes.length,
      },
    });
  });

  it('reports orientation, alpha and ICC', async () => {
    const rotated = await sharp(await makeImage('jpeg'))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    expect(await assess(rotated, 'image/jpeg')).toMatchObject({ facts: { orientation: 6, hasIcc: true } });
    const withAlpha = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#ff000080' } })
      .png()
      .toBuffer();
    expect(await assess(withAlpha, 'image/png')).toMatchObject({ facts: { hasAlpha: true } });
  });

  it.each(['gif', 'webp'] as const)('reports an animated %s with its page count', async (format) => {
    expect(await assess(await animation(format, 3), INPUT_FORMATS[format])).toMatchObject({
      accepted: true,
      facts: { animated: true, pages: 3, width: 20, height: 10 },
    });
  });

  it('counts every frame of an animation against the pixel budget', async () => {
    const frames = await animation('gif', 10); // 10 frames of 20x10: 2,000 pixels in all
    expect((await assess(frames, 'image/gif', { maxInputPixels: 2000 })).accepted).toBe(true);
    expect(await assess(frames, 'image/gif', { maxInputPixels: 1999 })).toMatchObject({
      rejection: { reason: 'too_many_pixels' },
    });
  });

  it.each([
    ['empty', Buffer.alloc(0), 'image/jpeg', {}],
    ['markup_not_allowed', Buffer.from('<svg onload="alert(1)"/>'), 'image/jpeg', {}],
    ['unrecognised_format', Buffer.from('GIF88a-not-really'), 'image/gif', {}],
  ])('rejects as %s', async (reason, bytes, contentType, overrides) => {
    expect(await assess(bytes, contentType, overrides)).toMatchObject({
      accepted: false,
      rejection: { reason },
    });
  });

  it('rejects a pixel flood from its header, before decoding it', async () => {
    const huge = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#000' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(huge.length).toBeLessThan(100_000);
    expect(await assess(huge, 'image/png', { maxInputPixels: 1_000_000 })).toMatchObject({
      rejection: { reason: 'too_many_pixels' },
    });
  });

  it('rejects a declared checksum the bytes do not have', async () => {
    const bytes = await makeImage('jpeg');
    expect(await assess(bytes, 'image/jpeg', {}, 'f'.repeat(64))).toMatchObject({
      rejection: { reason: 'checksum_mismatch' },
    });
    expect((await assess(bytes, 'image/jpeg', {}, sha(bytes))).accepted).toBe(true);
  });

  it('rejects a declared type the bytes are not, and a type the settings exclude', async () => {
    const png = await makeImage('png');
    expect(await assess(png, 'image/webp')).toMatchObject({ rejection: { reason: 'content_type_mismatch' } });
    expect(await assess(png, 'image/png', { allowedFormats: ['jpeg'] })).toMatchObject({
      rejection: { reason: 'format_not_allowed' },
    });
  });

  it('rejects a JPEG cut short as truncated', async () => {
    const jpeg = await makeImage('jpeg', { width: 300, height: 200 });
    expect(await assess(jpeg.subarray(0, jpeg.length - 200), 'image/jpeg')).toMatchObject({
      rejection: { reason: 'truncated' },
    });
  });

  it('gives the same bytes the same reason judged alone or many at once (libvips shares one error buffer)', async () => {
    const cut = async (format: 'jpeg' | 'png') => {
      const bytes = await makeImage(format, { width: 400, height: 300 });
      return bytes.subarray(0, Math.floor(bytes.length / 2));
    };
    const reasons = async (bytes: Buffer, contentType: string, times: number) =>
      new Set(
        (await Promise.all(Array.from({ length: times }, () => assess(bytes, contentType)))).map(
          (assessment) => !assessment.accepted && assessment.rejection.reason,
        ),
      );
    const jpeg = await cut('jpeg');
    const png = await cut('png');
    expect(await reasons(jpeg, 'image/jpeg', 1)).toEqual(new Set(['truncated']));
    expect(await reasons(jpeg, 'image/jpeg', 40)).toEqual(new Set(['truncated']));
    expect(await reasons(png, 'image/png', 1)).toEqual(new Set(['undecodable']));
    expect(await reasons(png, 'image/png', 40)).toEqual(new Set(['undecodable']));
  });
});
