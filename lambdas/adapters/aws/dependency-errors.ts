import { ConflictError, type ErrorContext, TransientDependencyError } from '../../core/errors.js';

interface SdkErrorShape {
  name?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

/**
 * Translates an SDK failure into the domain's vocabulary: lost conditions become ConflictError,
 * throttling, 5xx and network failures become TransientDependencyError (so SQS or the caller retries);
 * anything else is a bug or a misconfiguration and is rethrown untouched.
 */
export function toDomainError(error: unknown, operation: string, context: ErrorContext = {}): unknown {
  const sdk = (error ?? {}) as SdkErrorShape;
  const details = { ...context, operation, sdkError: sdk.name };
  if (sdk.name === 'ConditionalCheckFailedException') {
    return new ConflictError(`${operation}: condition not met`, details, { cause: error });
  }
  const status = sdk.$metadata?.httpStatusCode;
  const transient =
    Boolean(sdk.$retryable) ||
    (sdk.name !== undefined && THROTTLING.has(sdk.name)) ||
    (status !== undefined && status >= 500) ||
    (status === undefined && error instanceof Error && 'code' in error); // socket-level failures
  if (transient) {
    return new TransientDependencyError(`${operation} failed: ${sdk.name ?? 'unknown error'}`, details, {
      cause: error,
    });
  }
  return error;
}
