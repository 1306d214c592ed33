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

/** What a conditional write lost against, so the caller can tell a race it expects from one it does not. */
export type ConflictReason =
  /** The upload id is taken already. */
  | 'upload_exists'
  /** The upload left `pending` before this decision: another delivery decided it. */
  | 'upload_not_pending'
  /** An upload of the same bytes created the image first. */
  | 'image_exists'
  /** The image to link is gone, or is being deleted. */
  | 'image_missing'
  /** The owner linked these bytes meanwhile. */
  | 'link_exists'
  /** The image this upload had just created was deleted before its jobs were recorded. */
  | 'image_deleted'
  /** Racing deletes and uploads kept moving the image's reference count. */
  | 'image_kept_changing'
  /** Racing uploads of the same bytes kept winning, round after round. */
  | 'ingest_kept_losing'
  /** The upload key holds other bytes than those its image was judged on. */
  | 'upload_bytes_replaced'
  /** The upload record went while the upload was being ingested. */
  | 'upload_missing'
  /** Not a multipart upload still taking parts: it was completed, aborted, decided or never multipart. */
  | 'upload_not_in_progress';

/** An error of several kinds, `reason` naming which: what callers decide on, never the message. */
abstract class ReasonedError<Reason extends string> extends ApertureError {
  constructor(
    readonly reason: Reason,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, context, options);
  }
}

/** A conditional write lost against a concurrent or earlier writer; `reason` says which. */
export class ConflictError extends ReasonedError<ConflictReason> {
  readonly code = 'conflict';
}

/** What a retry waits for: a dependency to recover, or a state of the domain to pass. */
export type RetryReason =
  /** A dependency (S3, DynamoDB, SQS, CloudFront) throttled, failed, was out of reach or too slow. */
  | 'dependency_unavailable'
  /** The image with the same bytes is being deleted: its record must go before the upload can be ingested. */
  | 'image_being_deleted'
  /** Another request holds the render lease and has not stored the variant yet. */
  | 'render_in_progress'
  /** Another publisher holds the event's claim and has not published it yet. */
  | 'event_in_flight'
  /** A webhook endpoint did not take a delivery (no answer, an error, a redirect, a forbidden address). */
  | 'endpoint_failed'
  /** Objects of an import batch failed: the batch runs again, and what it decided already is a no-op. */
  | 'import_items_failed';

/**
 * The same request may succeed later: SQS and S3 handlers let it throw so the event is delivered
 * again, the HTTP handlers answer 503. The reason is the error's code.
 */
export class RetryableError extends ReasonedError<RetryReason> {
  readonly code: RetryReason = this.reason;
}

/** Why a dependency would not do what it was asked, whatever the number of retries. */
export type RefusalReason =
  /** It will not take this input (an image's format, size or content): this image never gets through. */
  | 'input_refused'
  /**
   * It refused the request itself (access denied, a model not enabled, an index missing, a request it
   * judged malformed): the deployment needs fixing, after which the same input may get through.
   */
  | 'request_refused'
  /** It answered, but with nothing usable (an empty caption, a vector of the wrong length). */
  | 'answer_unusable';

/**
 * A dependency (a model, the vector index) said no, and asking again would only be told the same: the
 * counterpart of a RetryableError. The enrichment lane records it as its failure instead of retrying.
 */
export class DependencyRefusedError extends ReasonedError<RefusalReason> {
  readonly code = 'dependency_refused';
}
