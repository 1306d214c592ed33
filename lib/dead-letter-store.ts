import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A queue where a function's failures are parked for a person to look at (an on-failure
 * destination): kept the longest SQS allows, time to notice the alarm, fix the cause and replay.
 * It has no dead-letter queue of its own, which cdk-nag is told with `whose` failures it holds.
 */
export function deadLetterStore(scope: Construct, id: string, whose: string): Queue {
  const queue = new Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    enforceSSL: true,
    encryption: QueueEncryption.SQS_MANAGED,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself a dead letter store: ${whose}.`,
  });
  return queue;
}
