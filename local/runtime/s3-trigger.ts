import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, S3Event } from 'aws-lambda';
import { lambdaContext } from '../events/lambda-context.js';
import { objectCreatedEvent } from '../events/s3-event.js';
import type { ObjectCreatedRecord, Twin } from '../twin/index.js';

export interface S3TriggerOptions {
  twin: Pick<Twin, 'onObjectCreated' | 'region'>;
  /** The bucket and key prefix the construct's notification filters on. */
  bucket: string;
  prefix: string;
  functionName: string;
  timeoutSeconds: number;
  handler: (event: S3Event, context: Context) => Promise<unknown>;
  logger: Logger;
  /**
   * Waits before each retry. Lambda retries an asynchronous invocation twice, after about one and
   * then two minutes; locally seconds are enough to show the same behaviour.
   * @default [1000, 2000]
   */
  retryDelaysMs?: readonly number[];
  /**
   * Fault injection (the fault suite): for a record this gives a delay for, the same event is
   * delivered once more after it, maybe after later objects' events, as S3 may do.
   */
  redeliverAfterMs?: (record: ObjectCreatedRecord) => number | undefined;
}

export interface S3Trigger {
  /** Stops listening and waits for the invocations under way (and their retries) to end. */
  stop(): Promise<void>;
}

/**
 * Plays the S3 event notification and Lambda's asynchronous invocation: each object created under
 * the prefix invokes the handler with a real-shaped S3 event, one record per event as S3 sends, and
 * a failed invocation is retried; the last failure is logged where AWS would send it to the
 * function's on-failure destination.
 */
export function startS3Trigger(options: S3TriggerOptions): S3Trigger {
  const { logger, retryDelaysMs = [1000, 2000] } = options;
  const running = new Set<Promise<void>>();
  let stopping = false;

  async function invoke(record: ObjectCreatedRecord): Promise<void> {
    const event = objectCreatedEvent(record, options.twin.region);
    for (let attempt = 0; ; attempt++) {
      try {
        await options.handler(
          event,
          lambdaContext(options.functionName, { timeoutSeconds: options.timeoutSeconds }),
        );
        return;
      } catch (error) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined || stopping) {
          logger.error('asynchronous invocation failed for good', {
            key: record.key,
            attempts: attempt + 1,
            error: error as Error,
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  const unsubscribe = options.twin.onObjectCreated((record) => {
    if (stopping || record.bucket !== options.bucket || !record.key.startsWith(options.prefix)) return;
    const delay = options.redeliverAfterMs?.(record);
    const invocations = [
      invoke(record),
      ...(delay === undefined
        ? []
        : [new Promise((resolve) => setTimeout(resolve, delay)).then(() => invoke(record))]),
    ];
    for (const invocation of invocations) {
      const tracked = invocation.finally(() => running.delete(tracked));
      running.add(tracked);
    }
  });

  return {
    async stop() {
      stopping = true;
      unsubscribe();
      await Promise.all(running);
    },
  };
}
