import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../events/lambda-context.js';
import { sqsEvent } from '../events/sqs-event.js';
import type { WorkQueue } from '../twin/index.js';

export interface QueuePollerOptions {
  sqs: SQSClient;
  queue: WorkQueue;
  region: string;
  /** Messages per invocation, as the event source mapping's `batchSize`. */
  batchSize: number;
  /** Invocations at once: Lambda scales pollers with the backlog, a laptop has its cores. */
  concurrency: number;
  functionName: string;
  timeoutSeconds: number;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  logger: Logger;
  /**
   * Fault injection (the fault suite): each message this picks is also handed, at the same time, to
   * a second invocation of its own, as SQS's at-least-once delivery may do.
   */
  redeliver?: (message: Message) => boolean;
}

export interface QueuePoller {
  /** Stops receiving and waits for the invocations under way; their messages are settled first. */
  stop(): Promise<void>;
}

/** Long enough to idle cheaply, short enough that stop() is prompt. */
const WAIT_TIME_SECONDS = 1;

/**
 * Plays Lambda's SQS event source mapping with `ReportBatchItemFailures`: `concurrency` loops each
 * receive up to a batch, invoke the handler with the SQS event Lambda would build, and delete the
 * messages that succeeded. Failed ones (listed, or all of them when the handler throws) are left
 * alone: they come back when their visibility timeout ends, and after the queue's `maxReceiveCount`
 * its redrive policy moves them to the dead-letter queue, as in AWS.
 */
export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  const { sqs, queue, logger } = options;
  const abort = new AbortController();

  async function settle(messages: Message[]): Promise<void> {
    const event = sqsEvent(messages, queue.arn, options.region);
    let failed: Set<string>;
    try {
      const response = await options.handler(
        event,
        lambdaContext(options.functionName, { timeoutSeconds: options.timeoutSeconds }),
      );
      failed = new Set(response?.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch (error) {
      logger.error('invocation failed; the whole batch will be retried', {
        queue: queue.url,
        error: error as Error,
      });
      failed = new Set(messages.map((message) => message.MessageId ?? ''));
    }
    const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    if (done.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }

  async function poll(): Promise<void> {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: WAIT_TIME_SECONDS,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        ));
      } catch (error) {
        if (abort.signal.aborted) return;
        logger.warn('receive failed; polling again shortly', { queue: queue.url, error: error as Error });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      const twice = options.redeliver ? messages.filter(options.redeliver) : [];
      await Promise.all(
        [messages, ...twice.map((message) => [message])].map((batch) =>
          settle(batch).catch((error: unknown) => {
            // Undeleted, the messages come back after their visibility timeout: a replay, which jobs survive.
            logger.error('could not delete handled messages', { queue: queue.url, error: error as Error });
          }),
        ),
      );
    }
  }

  const loops = Array.from({ length: options.concurrency }, () => poll());
  return {
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}
