import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { DynamoWebhookEndpoints } from '../adapters/aws/dynamo-webhook-endpoints.js';
import { readSecretText } from '../adapters/aws/secret-text.js';
import { SqsWebhookDeliveries } from '../adapters/aws/sqs-webhook-deliveries.js';
import { HttpWebhookTransport } from '../adapters/net/webhook-transport.js';
import { WEBHOOK_ATTEMPT_TIMEOUT_SECONDS } from '../contract.js';
import { readWebhookEnvironment } from '../core/environment.js';
import type { WebhookSettings } from '../core/settings.js';
import { DEPLOYMENT_URL_POLICY } from '../core/webhook-urls.js';
import { retryDelaySeconds, webhookDeliverySchema } from '../core/webhooks.js';
import type { WebhookRetries } from '../ports/webhooks.js';
import {
  type DeliverWebhookDependencies,
  DeliveryFailedError,
  type DeliveryOutcome,
  deliverWebhook,
} from '../services/webhooks.js';
import { functionRuntime, onColdStart } from './function-runtime.js';
import { parseJobMessage, sqsJobsHandler } from './sqs-jobs.js';

export interface WebhookDeliveryDependencies extends DeliverWebhookDependencies {
  settings: { webhooks: WebhookSettings };
  retries: WebhookRetries;
  logger: Logger;
  metrics: Metrics;
}

/**
 * One attempt per delivery message, the batch's side by side. A failed attempt holds its message back
 * for the schedule's next wait (`ChangeMessageVisibility`) and is reported as the batch's failure;
 * after the last, it is made visible at once, and its next receive parks it in the dead-letter queue
 * (`maxReceiveCount` is the schedule's length plus one), where an alarm fires and
 * `aperture webhooks replay` resends it. A delivery whose endpoint was deleted is dropped.
 */
export function createWebhookDeliveryHandler(deps: WebhookDeliveryDependencies) {
  const { logger, metrics } = deps;
  const schedule = deps.settings.webhooks.retryScheduleSeconds;

  async function handleRecord(record: SQSRecord): Promise<DeliveryOutcome> {
    const delivery = parseJobMessage(record, webhookDeliverySchema, 'a webhook delivery');
    const keys = { webhookId: delivery.webhookId, eventId: delivery.messageId };
    try {
      const outcome = await deliverWebhook(deps, delivery);
      logger.info(outcome.outcome === 'delivered' ? 'webhook delivered' : 'webhook endpoint gone; dropped', {
        ...keys,
        ...outcome,
      });
      metrics.addMetric(
        outcome.outcome === 'delivered' ? 'WebhooksDelivered' : 'WebhooksDropped',
        MetricUnit.Count,
        1,
      );
      return outcome;
    } catch (error) {
      if (!(error instanceof DeliveryFailedError)) {
        logger.error('webhook delivery could not be attempted', { ...keys, error: error as Error });
        throw error;
      }
      const attempt = Number(record.attributes.ApproximateReceiveCount);
      const wait = retryDelaySeconds(schedule, attempt);
      // Out of retries: visible at once, so that the next receive parks it.
      await deps.retries.retryAfter(record.receiptHandle, wait ?? 0);
      const details = { ...keys, attempt, reason: error.attempt.reason, status: error.attempt.status };
      if (wait === undefined) logger.error('webhook delivery failed its last attempt; parking it', details);
      else logger.warn('webhook delivery failed; retrying', { ...details, retryInSeconds: wait });
      metrics.addMetric(wait === undefined ? 'WebhooksParked' : 'WebhookAttemptsFailed', MetricUnit.Count, 1);
      throw error;
    }
  }

  return sqsJobsHandler(logger, metrics, handleRecord, { inParallel: true });
}

export function webhookDeliveryDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): WebhookDeliveryDependencies {
  const { config, clients, logger, metrics } = functionRuntime(
    env,
    'aperture-webhook-delivery',
    readWebhookEnvironment,
  );
  return {
    settings: config.settings,
    webhooks: new DynamoWebhookEndpoints(clients.dynamo, config.table),
    deploymentEndpoints: config.deploymentEndpoints ?? [],
    readSecret: memoized((secretArn) => readSecretText(clients.secrets, secretArn)),
    // The deployment's policy, always: nothing in settings or the environment loosens it.
    transport: new HttpWebhookTransport({
      policy: DEPLOYMENT_URL_POLICY,
      timeoutMs: WEBHOOK_ATTEMPT_TIMEOUT_SECONDS * 1000,
    }),
    retries: new SqsWebhookDeliveries(clients.sqs, config.deliveryQueueUrl),
    now: () => new Date(),
    logger,
    metrics,
  };
}

export const handler = onColdStart(() =>
  createWebhookDeliveryHandler(webhookDeliveryDependenciesFromEnvironment(process.env)),
);

/** Each secret read once per cold start; a failed read is tried again next time. */
function memoized(read: (key: string) => Promise<string>): (key: string) => Promise<string> {
  const values = new Map<string, Promise<string>>();
  return (key) => {
    const cached = values.get(key);
    if (cached) return cached;
    const value = read(key);
    values.set(key, value);
    value.catch(() => values.delete(key));
    return value;
  };
}
