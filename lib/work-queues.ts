import { Duration } from 'aws-cdk-lib';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT, visibilityTimeoutSeconds } from '../lambdas/contract.js';
import { WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';

export interface LaneQueues {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

/**
 * One queue per render lane (`WORK_LANES`), each with its own dead-letter queue: a poison message in
 * the variants lane must never hold up thumbnails, and each DLQ says which lane is failing.
 */
export class WorkQueues extends Construct {
  public readonly lanes: Readonly<Record<WorkLane, LaneQueues>>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const lanes = {} as Record<WorkLane, LaneQueues>;
    for (const lane of WORK_LANES) {
      const deadLetterQueue = new Queue(this, `${lane}-dlq`, {
        // The longest SQS allows: time to notice the alarm, fix the cause and redrive.
        retentionPeriod: Duration.days(14),
        enforceSSL: true,
        encryption: QueueEncryption.SQS_MANAGED,
      });
      const queue = new Queue(this, lane, {
        visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(lane)),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
        enforceSSL: true,
        encryption: QueueEncryption.SQS_MANAGED,
      });
      lanes[lane] = { queue, deadLetterQueue };
    }
    this.lanes = lanes;
  }
}
