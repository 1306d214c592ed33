import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { publishMetrics } from './function-runtime.js';

/** The event sources whose failures are reported per record, and their Lambda types. */
interface BatchSources {
  SQS: { event: SQSEvent; record: SQSRecord; response: SQSBatchResponse };
  DynamoDBStreams: { event: DynamoDBStreamEvent; record: DynamoDBRecord; response: DynamoDBBatchResponse };
}

/**
 * The handler of an event source with `ReportBatchItemFailures`: each record handled on its own,
 * one after another unless `inParallel` (Powertools' batch processor reports `batchItemFailures`),
 * so a bad one never fails its neighbours, and a batch that fails whole is still an answer, not a
 * function error.
 */
export function partialBatchHandler<Source extends keyof BatchSources>(
  source: Source,
  logger: Logger,
  metrics: Metrics,
  handleRecord: (record: BatchSources[Source]['record']) => Promise<unknown>,
  options: { inParallel?: boolean } = {},
) {
  return middy<BatchSources[Source]['event'], BatchSources[Source]['response'], Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .handler((event, context) =>
      // A processor per invocation: it holds the batch's results while it runs, and one handler
      // may serve several invocations at once (the local runtime's pollers do).
      processPartialResponse(event, handleRecord, new BatchProcessor(EventType[source]), {
        context,
        processInParallel: options.inParallel ?? false,
        throwOnFullBatchFailure: false,
      }),
    );
}
