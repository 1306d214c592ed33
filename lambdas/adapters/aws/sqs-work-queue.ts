import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RenderJob, WorkLane } from '../../core/render-jobs.js';
import type { WorkQueue } from '../../ports/work-queue.js';
import { toDomainError } from './dependency-errors.js';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: Record<WorkLane, string>,
  ) {}

  async enqueue(jobs: readonly RenderJob[]): Promise<void> {
    try {
      await Promise.all(
        jobs.map((job) =>
          this.sqs.send(
            new SendMessageCommand({ QueueUrl: this.queueUrls[job.lane], MessageBody: JSON.stringify(job) }),
          ),
        ),
      );
    } catch (error) {
      throw toDomainError(error, 'enqueue render jobs', { imageId: jobs[0]?.imageId });
    }
  }
}
