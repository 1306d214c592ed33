import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { DynamoWebhookEndpoints } from '../adapters/aws/dynamo-webhook-endpoints.js';
import { SqsWebhookDeliveries } from '../adapters/aws/sqs-webhook-deliveries.js';
import { readWebhookEnvironment } from '../core/environment.js';
import { EVENT_SOURCE, EVENT_TYPES, type PipelineEvent } from '../core/events.js';
import { type FanOutDependencies, fanOutEvent } from '../services/webhooks.js';
import { functionRuntime, onColdStart } from './function-runtime.js';
import { parseJobMessage, sqsJobsHandler } from './sqs-jobs.js';

export interface WebhookFanOutDependencies extends FanOutDependencies {
  logger: Logger;
  metrics: Metrics;
}

/**
 * What the EventBridge rule puts on the queue: the event's envelope, its detail the pipeline event.
 * Only the fields fan-out decides on are checked; the detail goes on to receivers as it was published.
 */
export const eventEnvelopeSchema = z
  .object({
    source: z.literal(EVENT_SOURCE),
    'detail-type': z.enum(EVENT_TYPES),
    detail: z.looseObject({
      id: z.string().min(1),
      type: z.enum(EVENT_TYPES),
      owner: z.string().min(1),
      occurredAt: z.string().min(1),
    }),
  })
  .refine((envelope) => envelope['detail-type'] === envelope.detail.type, {
    message: 'detail-type is not the detail’s type',
  });

/**
 * Pipeline events from the bus → one delivery message per subscribed endpoint of the event's owner.
 * Only queues work: no endpoint is called here, so no endpoint can slow the pipeline's events down.
 * A redelivered event is fanned out again; its deliveries carry the same `webhook-id` to dedupe on.
 */
export function createWebhookFanOutHandler(deps: WebhookFanOutDependencies) {
  const { logger, metrics } = deps;

  async function handleRecord(record: SQSRecord): Promise<void> {
    const envelope = parseJobMessage(record, eventEnvelopeSchema, 'a pipeline event');
    const event = envelope.detail as unknown as PipelineEvent;
    try {
      const queued = await fanOutEvent(deps, event);
      logger.info('event fanned out to webhooks', { eventId: event.id, type: event.type, queued });
      metrics.addMetric('WebhookDeliveriesQueued', MetricUnit.Count, queued);
    } catch (error) {
      logger.error('fan-out failed', { eventId: event.id, error: error as Error });
      metrics.addMetric('WebhookFanOutErrors', MetricUnit.Count, 1);
      throw error;
    }
  }

  return sqsJobsHandler(logger, metrics, handleRecord);
}

export function webhookFanOutDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): WebhookFanOutDependencies {
  const { config, clients, logger, metrics } = functionRuntime(
    env,
    'aperture-webhook-fanout',
    readWebhookEnvironment,
  );
  return {
    webhooks: new DynamoWebhookEndpoints(clients.dynamo, config.table),
    deliveries: new SqsWebhookDeliveries(clients.sqs, config.deliveryQueueUrl),
    deploymentEndpoints: config.deploymentEndpoints ?? [],
    logger,
    metrics,
  };
}

export const handler = onColdStart(() =>
  createWebhookFanOutHandler(webhookFanOutDependenciesFromEnvironment(process.env)),
);
