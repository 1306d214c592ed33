import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { WebhookQueues } from '../../core/environment.js';
import { toDomainError } from './dependency-errors.js';

/** How long a received message stays hidden while it is sent back: far longer than that takes. */
const HOLD_SECONDS = 60;

/**
 * Moves parked webhook deliveries back to the deliveries queue, where they get the whole retry
 * schedule again. Receive, send, then delete, ten at a time, rather than SQS's `StartMessageMoveTask`
 * (which the local twin's emulator lacks): a crash between send and delete sends a delivery twice,
 * under the same `webhook-id`, which receivers dedupe on.
 */
export class SqsDeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: WebhookQueues,
  ) {}

  /** Moves up to `limit` messages; returns how many moved. Stops when the dead-letter queue is empty. */
  async redrive(
    limit = Number.POSITIVE_INFINITY,
    onMoved: (moved: number) => void = () => {},
  ): Promise<number> {
    let moved = 0;
    while (moved < limit) {
      const { Messages = [] } = await this.call('receive parked deliveries', () =>
        this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queues.deadLetterQueueUrl,
            MaxNumberOfMessages: Math.min(10, limit - moved),
            VisibilityTimeout: HOLD_SECONDS,
            // A long poll asks every SQS server, so an empty answer means an empty queue.
            WaitTimeSeconds: 1,
          }),
        ),
      );
      if (Messages.length === 0) break;
      const { Successful = [] } = await this.call('send parked deliveries back', () =>
        this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queues.deliveryQueueUrl,
            Entries: Messages.map((message, i) => ({ Id: String(i), MessageBody: message.Body ?? '' })),
          }),
        ),
      );
      // Only what was sent leaves the dead-letter queue; the rest is received again on a later run.
      const sent = Successful.map((entry) => Messages[Number(entry.Id)]);
      if (sent.length > 0) {
        await this.call('delete replayed deliveries', () =>
          this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.queues.deadLetterQueueUrl,
              Entries: sent.map((message, i) => ({ Id: String(i), ReceiptHandle: message?.ReceiptHandle })),
            }),
          ),
        );
      }
      moved += sent.length;
      onMoved(moved);
      if (sent.length < Messages.length) break;
    }
    return moved;
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toDomainError(error, operation);
    }
  }
}
