import type { Logger } from '@aws-lambda-powertools/logger';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { RENDER_BATCH_SIZE, RENDER_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import { WORK_LANES } from '../../lambdas/core/render-jobs.js';
import type { TwinInfo } from '../twin/index.js';
import { type QueuePoller, startQueuePoller } from './queue-poller.js';

export interface RenderLanesOptions {
  sqs: SQSClient;
  twin: Pick<TwinInfo, 'region' | 'resources'>;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** Invocations at once per lane. */
  workers: number;
  logger: Logger;
  /** Fault injection (the fault suite): messages also handed to a second invocation at once. */
  redeliver?: (message: Message) => boolean;
}

/** Each lane's event source mapping: its queue polled with its batch size and timeout, into the render function. */
export function startRenderLanes(options: RenderLanesOptions): { stop(): Promise<void> } {
  const pollers = WORK_LANES.map((lane) =>
    startQueuePoller({
      sqs: options.sqs,
      queue: options.twin.resources.queues[lane],
      region: options.twin.region,
      batchSize: RENDER_BATCH_SIZE[lane],
      concurrency: options.workers,
      functionName: `aperture-render-${lane}`,
      timeoutSeconds: RENDER_TIMEOUT_SECONDS[lane],
      handler: options.handler,
      logger: options.logger,
      ...(options.redeliver ? { redeliver: options.redeliver } : {}),
    }),
  );
  return {
    stop: async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    },
  };
}

/**
 * The bulk queue's event source mapping: what imports queue, of either lane, one job per invocation
 * (a variants job takes seconds; a batch would only make one slow image hold up the others) within
 * the variants lane's timeout, by at most `workers` invocations at once: the local equal of
 * `BULK_RENDER_MAX_CONCURRENCY`.
 */
export function startBulkLane(options: Omit<RenderLanesOptions, 'redeliver'>): QueuePoller {
  return startQueuePoller({
    sqs: options.sqs,
    queue: options.twin.resources.bulkQueue,
    region: options.twin.region,
    batchSize: 1,
    concurrency: options.workers,
    functionName: 'aperture-render-bulk',
    timeoutSeconds: RENDER_TIMEOUT_SECONDS.variants,
    handler: options.handler,
    logger: options.logger,
  });
}
