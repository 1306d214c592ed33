import {
  ApertureError,
  DependencyRefusedError,
  type ErrorContext,
  RetryableError,
} from '../../core/errors.js';

interface SdkErrorShape {
  name?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Throttling, by each service's name for it, and a model's failure on one call. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
  // Bedrock's model failed on this call (424): AWS advises a retry; one that persists ends with the retries.
  'ModelErrorException',
]);

/** Request Timeout and Too Many Requests: the same request may pass later, whatever the error's name. */
const TRANSIENT_STATUS = new Set([408, 429]);

/**
 * Translates an SDK failure into the domain's vocabulary: throttling, timeouts, 5xx and network
 * failures become a RetryableError (so SQS or the caller retries); anything else is a bug or a
 * misconfiguration and is rethrown untouched. A DynamoDB condition that did not hold is no failure: the table helper
 * (dynamo-table.ts) turns it into a result before it gets here.
 */
export function toDomainError(error: unknown, operation: string, context: ErrorContext = {}): unknown {
  // Already in the domain's words; its `code` would otherwise pass for a socket error's.
  if (error instanceof ApertureError) return error;
  const sdk = (error ?? {}) as SdkErrorShape;
  const details = { ...context, operation, sdkError: sdk.name };
  const status = sdk.$metadata?.httpStatusCode;
  const transient =
    Boolean(sdk.$retryable) ||
    (sdk.name !== undefined && TRANSIENT.has(sdk.name)) ||
    (status !== undefined && (status >= 500 || TRANSIENT_STATUS.has(status))) ||
    (status === undefined && error instanceof Error && 'code' in error); // socket-level failures
  if (transient) {
    return new RetryableError(
      'dependency_unavailable',
      `${operation} failed: ${sdk.name ?? 'unknown error'}`,
      details,
      { cause: error },
    );
  }
  return error;
}

/**
 * The client faults that name the input rather than the request: Rekognition's answers to an image it
 * will not read (its format, its size, or dimensions out of range: under 80 px is an invalid parameter).
 */
const INPUT_REFUSALS = new Set([
  'InvalidImageFormatException',
  'ImageTooLargeException',
  'InvalidParameterException',
]);

/**
 * As toDomainError, for a dependency asked about one input (a model, the vector index): a service's
 * answer that is neither transient nor a server fault (access denied, validation, an image refused)
 * becomes a DependencyRefusedError, which the caller records instead of retrying it until the
 * dead-letter queue. What is not a service's answer (a bug, missing credentials) is rethrown untouched.
 */
export function toRefusalError(error: unknown, operation: string, context: ErrorContext = {}): unknown {
  const domain = toDomainError(error, operation, context);
  const sdk = (error ?? {}) as SdkErrorShape;
  if (domain !== error || sdk.$fault !== 'client') return domain;
  const name = sdk.name ?? 'unknown error';
  return new DependencyRefusedError(
    INPUT_REFUSALS.has(name) ? 'input_refused' : 'request_refused',
    `${operation} was refused: ${name}`,
    { ...context, operation, sdkError: name },
    { cause: error },
  );
}
