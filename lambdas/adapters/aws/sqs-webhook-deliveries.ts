import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { RetryableError } from '../../core/errors.js';
import type { WebhookDelivery } from '../../core/webhooks.js';
import type { WebhookDeliveryQueue, WebhookRetries } from '../../ports/webhooks.js';
import { toDomainError } from './dependency-errors.js';

/** SQS takes ten messages to a batch at most. */
const MAX_BATCH = 10;

/** The deliveries queue: fan-out sends to it, and the delivery function holds failed ones back there. */
export class SqsWebhookDeliveries implements WebhookDeliveryQueue, WebhookRetries {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (let start = 0; start < deliveries.length; start += MAX_BATCH) {
      const batch = deliveries.slice(start, start + MAX_BATCH);
      let failed: number;
      try {
        const { Failed = [] } = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((delivery, i) => ({ Id: String(i), MessageBody: JSON.stringify(delivery) })),
          }),
        );
        failed = Failed.length;
      } catch (error) {
        throw toDomainError(error, 'enqueue webhook deliveries', { messageId: batch[0]?.messageId });
      }
      // The event comes back whole and is fanned out again: endpoints that got it dedupe on webhook-id.
      if (failed > 0) {
        throw new RetryableError('dependency_unavailable', `${failed} webhook deliveries were not enqueued`);
      }
    }
  }

  async retryAfter(receiptHandle: string, seconds: number): Promise<void> {
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      throw toDomainError(error, 'hold back webhook delivery', {});
    }
  }
}
