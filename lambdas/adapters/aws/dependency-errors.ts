import { type ErrorContext, RetryableError } from '../../core/errors.js';

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
 * Translates an SDK failure into the domain's vocabulary: throttling, 5xx and network failures become
 * a RetryableError (so SQS or the caller retries); anything else is a bug or a misconfiguration and
 * is rethrown untouched. A DynamoDB condition that did not hold is no failure: the table helper
 * (dynamo-table.ts) turns it into a result before it gets here.
 */
export function toDomainError(error: unknown, operation: string, context: ErrorContext = {}): unknown {
  const sdk = (error ?? {}) as SdkErrorShape;
  const details = { ...context, operation, sdkError: sdk.name };
  const status = sdk.$metadata?.httpStatusCode;
  const transient =
    Boolean(sdk.$retryable) ||
    (sdk.name !== undefined && THROTTLING.has(sdk.name)) ||
    (status !== undefined && status >= 500) ||
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
