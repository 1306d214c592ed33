import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EnrichmentJob } from '../../core/enrichment.js';
import type { EnrichmentQueue } from '../../ports/enrichment-queue.js';
import { toDomainError } from './dependency-errors.js';

export class SqsEnrichmentQueue implements EnrichmentQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(job: EnrichmentJob): Promise<void> {
    try {
      await this.sqs.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(job) }),
      );
    } catch (error) {
      throw toDomainError(error, 'enqueue enrichment job', { imageId: job.imageId });
    }
  }
}
