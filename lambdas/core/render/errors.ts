import { ApertureError, type ErrorContext } from '../errors.js';

/** Why an original cannot be rendered; the same bytes fail the same way every time. */
export type UnrenderableReason =
  | 'unsupported_format'
  | 'too_many_pixels'
  | 'undecodable'
  | 'original_mismatch';

/**
 * The original cannot be rendered: not a format the pipeline renders, over the pixel budget, or
 * pixel data libvips refuses. Permanent: a retry reads the same bytes, so callers record it rather
 * than throw it back to the queue. The libvips message, when there is one, is the `cause`.
 */
export class UnrenderableImageError extends ApertureError {
  readonly code = 'unrenderable_image';
  readonly reason: UnrenderableReason;

  constructor(reason: UnrenderableReason, message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, { ...context, reason }, { cause });
    this.reason = reason;
  }
}

/** Wraps whatever sharp threw while decoding or encoding `original` in the error above. */
export function unrenderable(error: unknown, context: ErrorContext = {}): UnrenderableImageError {
  if (error instanceof UnrenderableImageError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(detail)) {
    return new UnrenderableImageError('too_many_pixels', 'the image is over the pixel limit', context, error);
  }
  return new UnrenderableImageError(
    'undecodable',
    `the image cannot be rendered: ${detail.split('\n')[0]}`,
    context,
    error,
  );
}
