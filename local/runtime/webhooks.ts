import type { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { HttpWebhookTransport } from '../../lambdas/adapters/net/webhook-transport.js';
import {
  WEBHOOK_ATTEMPT_TIMEOUT_SECONDS,
  WEBHOOK_DELIVERY_BATCH_SIZE,
  WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
  WEBHOOK_FANOUT_BATCH_SIZE,
  WEBHOOK_FANOUT_TIMEOUT_SECONDS,
} from '../../lambdas/contract.js';
import type { Settings } from '../../lambdas/core/settings.js';
import { LOCAL_URL_POLICY } from '../../lambdas/core/webhook-urls.js';
import { deliveryAttempts } from '../../lambdas/core/webhooks.js';
import {
  createWebhookDeliveryHandler,
  webhookDeliveryDependenciesFromEnvironment,
} from '../../lambdas/handlers/webhook-delivery.js';
import {
  createWebhookFanOutHandler,
  webhookFanOutDependenciesFromEnvironment,
} from '../../lambdas/handlers/webhook-fanout.js';
import type { HostResolver } from '../../lambdas/ports/webhooks.js';
import { twinWebhookEnvironment } from '../twin/environment.js';
import type { TwinInfo, WorkQueue } from '../twin/index.js';
import type { EventTarget } from './local-event-bus.js';
import { startQueuePoller } from './queue-poller.js';

/**
 * Where the local bus (which plays EventBridge) sends pipeline events for webhooks: the envelope, as
 * the rule's SQS target puts it on the fan-out queue in AWS.
 */
export function webhookEventTarget(sqs: SQSClient, queueUrl: string): EventTarget {
  return async (envelope) => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(envelope) }));
  };
}

export interface LocalWebhooksOptions {
  sqs: SQSClient;
  twin: TwinInfo;
  settings: Settings;
  logger: Logger;
  /** @default the twin's `webhookEvents` and `webhookDeliveries` */
  queues?: { events: WorkQueue; deliveries: WorkQueue };
  /** The transport's DNS. @default the system's */
  resolve?: HostResolver;
}

export interface LocalWebhooks {
  stop(): Promise<void>;
}

/**
 * Webhooks on the laptop: the very fan-out and delivery handlers, each on its queue as Lambda's event
 * source mappings run them, delivering under the local URL policy (http and loopback allowed, every
 * other private address still refused). The deliveries queue's redrive is set from the settings'
 * schedule, as the construct sets it.
 */
export async function startLocalWebhooks(options: LocalWebhooksOptions): Promise<LocalWebhooks> {
  const { sqs, twin, settings, logger } = options;
  const queues = options.queues ?? {
    events: twin.resources.webhookEvents,
    deliveries: twin.resources.webhookDeliveries,
  };
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queues.deliveries.url,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: queues.deliveries.deadLetterArn,
          maxReceiveCount: deliveryAttempts(settings.webhooks.retryScheduleSeconds),
        }),
      },
    }),
  );
  const env = twinWebhookEnvironment(twin, settings, queues.deliveries.url);
  const fanOut = startQueuePoller({
    sqs,
    queue: queues.events,
    region: twin.region,
    batchSize: WEBHOOK_FANOUT_BATCH_SIZE,
    concurrency: 1,
    functionName: 'aperture-webhook-fanout',
    timeoutSeconds: WEBHOOK_FANOUT_TIMEOUT_SECONDS,
    handler: createWebhookFanOutHandler(webhookFanOutDependenciesFromEnvironment(env)),
    logger,
  });
  const delivery = startQueuePoller({
    sqs,
    queue: queues.deliveries,
    region: twin.region,
    batchSize: WEBHOOK_DELIVERY_BATCH_SIZE,
    concurrency: 2,
    functionName: 'aperture-webhook-delivery',
    timeoutSeconds: WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
    handler: createWebhookDeliveryHandler({
      ...webhookDeliveryDependenciesFromEnvironment(env),
      transport: new HttpWebhookTransport({
        policy: LOCAL_URL_POLICY,
        timeoutMs: WEBHOOK_ATTEMPT_TIMEOUT_SECONDS * 1000,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      }),
    }),
    logger,
  });
  return {
    async stop() {
      await Promise.all([fanOut.stop(), delivery.stop()]);
    },
  };
}
