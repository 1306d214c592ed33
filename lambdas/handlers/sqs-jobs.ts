import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { describeIssues } from '../core/validation.js';
import { partialBatchHandler } from './partial-batch.js';

/** Thrown for a message that is not a job of its queue: retried like any failure, then parked in the DLQ. */
class MalformedJobError extends Error {
  override readonly name = 'MalformedJobError';
}

/** The job a message carries, checked against its schema (anything can be sent to a queue). */
export function parseJobMessage<Schema extends z.ZodType>(
  record: SQSRecord,
  schema: Schema,
  what: string,
): z.output<Schema> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new MalformedJobError('the message body is not JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new MalformedJobError(`not ${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The handler of an SQS event source with `ReportBatchItemFailures` (see `partialBatchHandler`). */
export function sqsJobsHandler(
  logger: Logger,
  metrics: Metrics,
  handleRecord: (record: SQSRecord) => Promise<unknown>,
  options: { inParallel?: boolean } = {},
) {
  return partialBatchHandler('SQS', logger, metrics, handleRecord, options);
}
