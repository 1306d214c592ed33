import sharp, { type Metadata } from 'sharp';
import { INPUT_FORMATS, type InputFormat } from './formats.js';
import { UnreadableHeifError } from './heif/container.js';
import { readHeif } from './heif/readable.js';
import type { ImageFacts } from './image-facts.js';
import { exceedsInputBounds } from './input-bounds.js';
import type { Rejection, RejectionReason } from './rejections.js';
import type { Settings } from './settings.js';
import { notAnImage, SNIFF_BYTES, sniff } from './sniff.js';

export type Assessment = { accepted: true; facts: ImageFacts } | { accepted: false; rejection: Rejection };

/** What the upload claimed when it was granted; the bytes must bear it out. */
export interface DeclaredUpload {
  contentType: string;
  sha256: string | undefined;
}

const reject = (reason: RejectionReason, message: string): Assessment => ({
  accepted: false,
  rejection: { reason, message },
});

/**
 * Decides whether uploaded bytes become an image. The bytes are judged, never the name: the magic
 * number must name an allowed format matching the declared type, the header must stay within the
 * pixel budget, and the first page must actually decode (a header can parse while the data cannot).
 * A HEIC is judged from its container first, then decoded whole (`readHeif`), and its pixels are
 * judged as any other image's.
 */
export async function assessUpload(
  bytes: Buffer,
  sha256: string,
  declared: DeclaredUpload,
  settings: Settings,
): Promise<Assessment> {
  if (bytes.length === 0) return reject('empty', 'the upload is empty');
  if (declared.sha256 && declared.sha256 !== sha256) {
    return reject('checksum_mismatch', 'the bytes do not match the SHA-256 declared for the upload');
  }

  const sniffed = sniff(bytes.subarray(0, SNIFF_BYTES));
  if (sniffed.kind !== 'image') return { accepted: false, rejection: notAnImage(sniffed) };
  const { format } = sniffed;
  if (!settings.allowedFormats.includes(format)) {
    return reject('format_not_allowed', `${format} images are not accepted`);
  }
  if (INPUT_FORMATS[format] !== declared.contentType) {
    return reject(
      'content_type_mismatch',
      `declared as ${declared.contentType} but the bytes are ${INPUT_FORMATS[format]}`,
    );
  }

  let readable = bytes;
  if (format === 'heic') {
    try {
      readable = (await readHeif(bytes, settings)).tiff;
    } catch (error) {
      if (error instanceof UnreadableHeifError) {
        return reject(error.reason, error.message);
      }
      throw error;
    }
  }

  // As strict as the renderer (`inputOptions`): what it would refuse is refused here. Laxer, libvips
  // reads on past a strip libtiff refuses, a few rows at a time, each time decoding it again.
  const options = { limitInputPixels: settings.maxInputPixels, failOn: 'error' as const };
  let metadata: Metadata;
  try {
    metadata = await sharp(readable, options).metadata();
  } catch (error) {
    return decodeFailure(error, readable, format);
  }
  const { width = 0, height = 0 } = metadata;
  const pages = metadata.pages ?? 1;
  const outOfBounds = exceedsInputBounds(readable, format, metadata, settings.maxInputPixels);
  if (outOfBounds) return { accepted: false, rejection: outOfBounds };
  try {
    // Decoding at a small size exercises the whole first page cheaply (JPEG shrinks on load).
    await sharp(readable, options).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch (error) {
    return decodeFailure(error, readable, format);
  }

  return {
    accepted: true,
    facts: {
      format,
      contentType: INPUT_FORMATS[format],
      width,
      height,
      pages,
      // A HEIC's pixels come upright from libheif: the file's own EXIF orientation is never applied.
      orientation: format === 'heic' ? undefined : metadata.orientation,
      hasAlpha: metadata.hasAlpha ?? false,
      hasIcc: Boolean(metadata.icc),
      animated: pages > 1 && (format === 'gif' || format === 'webp'),
      bytes: bytes.length,
    },
  };
}

function decodeFailure(error: unknown, bytes: Buffer, format: InputFormat): Assessment {
  const message = error instanceof Error ? error.message : String(error);
  // libvips keeps one error buffer for all its threads: a decode failing while others fail may find
  // it emptied by them, and sharp then says only this. A JPEG's bytes still say what libjpeg would
  // have: whether they stop before the end-of-image marker ("premature end").
  if (message === UNREPORTED_FAILURE) {
    return format === 'jpeg' && !endsWithJpegEnd(bytes)
      ? reject('truncated', 'the image data ends early')
      : reject('undecodable', 'the image data cannot be decoded');
  }
  if (/pixel limit/i.test(message)) return reject('too_many_pixels', 'the image is over the pixel limit');
  // A header that does not parse is not an image at all, whatever else libvips adds about its end.
  if (/corrupt header|contains no image|unsupported image format/i.test(message)) {
    return reject('undecodable', 'the image data cannot be decoded');
  }
  if (/premature end|truncated|unexpected end|short read|not enough data/i.test(message)) {
    return reject('truncated', 'the image data ends early');
  }
  return reject('undecodable', 'the image data cannot be decoded');
}

/** What sharp says when libvips' error buffer was empty by the time it read it. */
const UNREPORTED_FAILURE = 'Unknown error';

/** A JPEG closes with its end-of-image marker, FF D9. */
const endsWithJpegEnd = (bytes: Buffer): boolean => bytes.at(-2) === 0xff && bytes.at(-1) === 0xd9;
