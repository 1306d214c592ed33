import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { describeIssues } from '../core/validation.js';
import { publishMetrics } from './function-runtime.js';

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

/**
 * The handler of an SQS event source with `ReportBatchItemFailures`: each record handled on its own,
 * one after another unless `inParallel` (Powertools' batch processor reports `batchItemFailures`), so
 * a bad one never fails its neighbours, and a batch that fails whole is still an answer, not a
 * function error.
 */
export function sqsJobsHandler(
  logger: Logger,
  metrics: Metrics,
  handleRecord: (record: SQSRecord) => Promise<unknown>,
  options: { inParallel?: boolean } = {},
) {
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .handler((event, context) =>
      // A processor per invocation: it holds the batch's results while it runs, and one handler may
      // serve several invocations at once (the local runtime's pollers do).
      processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
        context,
        processInParallel: options.inParallel ?? false,
        throwOnFullBatchFailure: false,
      }),
    );
}
