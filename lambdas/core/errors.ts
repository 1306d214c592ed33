/**
 * The domain's error vocabulary. Each error carries a stable machine-readable `code` and the
 * context needed to debug it; only the API handler turns these into HTTP answers.
 */
export type ErrorContext = Record<string, unknown>;

export abstract class ApertureError extends Error {
  abstract readonly code: string;
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** The caller sent something malformed; `field` names the offending input where there is one. */
export class ValidationError extends ApertureError {
  readonly code: string = 'invalid_request';
  readonly field: string | undefined;

  constructor(message: string, field?: string, context: ErrorContext = {}) {
    super(message, { ...context, field });
    this.field = field;
  }
}

/** The declared or actual size is above the configured limit. */
export class TooLargeError extends ValidationError {
  override readonly code = 'too_large';
}

/** The declared or sniffed content is not an image type the pipeline accepts. */
export class UnsupportedImageError extends ApertureError {
  readonly code = 'unsupported_image';
}

/** No identity, or one the pipeline cannot use. */
export class UnauthorizedError extends ApertureError {
  readonly code = 'unauthorized';
}

/** The thing does not exist, or exists but belongs to someone else: callers cannot tell which. */
export class NotFoundError extends ApertureError {
  readonly code = 'not_found';
}

/** A conditional write lost against a concurrent or earlier writer. */
export class ConflictError extends ApertureError {
  readonly code = 'conflict';
}

/** A dependency (S3, DynamoDB, SQS) failed in a way that a retry may fix. */
export class TransientDependencyError extends ApertureError {
  readonly code = 'dependency_unavailable';
}
