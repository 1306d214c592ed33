import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { startQueuePoller } from '../../local/runtime/queue-poller.js';
import { ensureWorkQueue } from '../../local/twin/provision.js';
import { messagesIn } from '../support/queues.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { until } from '../support/until.js';

const { sqs } = createAwsClients(twinEnv());
const logger = new Logger({ serviceName: 'queue-poller-test' });
afterAll(() => sqs.destroy());

/** A private lane-like queue (redrive after 3 receives) with a 1 s visibility timeout. */
async function freshQueue() {
  return ensureWorkQueue(sqs, `poller-${randomUUID().slice(0, 8)}`, 1);
}

async function send(queueUrl: string, bodies: string[]) {
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
    }),
  );
}

describe('the SQS event source, played locally', () => {
  it('deletes what succeeded, redelivers reported failures, and parks them in the DLQ after 3 receives', async () => {
    const queue = await freshQueue();
    const seen: string[] = [];
    const events: SQSEvent[] = [];
    const poller = startQueuePoller({
      sqs,
      queue,
      region: twinInfo().region,
      batchSize: 10,
      concurrency: 2,
      functionName: 'test-render',
      timeoutSeconds: 5,
      logger,
      handler: async (event) => {
        events.push(event);
        seen.push(...event.Records.map((record) => record.body));
        return {
          batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });
    try {
      await send(queue.url, ['one', 'two', 'poison']);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, WaitTimeSeconds: 15 }),
      );
      expect(Messages.map((m) => m.Body)).toEqual(['poison']);
      await until(async () => (await messagesIn(sqs, queue.url)) === 0);
    } finally {
      await poller.stop();
    }
    expect(seen.filter((body) => body === 'one')).toHaveLength(1);
    expect(seen.filter((body) => body === 'two')).toHaveLength(1);
    expect(seen.filter((body) => body === 'poison')).toHaveLength(3);
    const poisonCounts = events.flatMap((e) =>
      e.Records.filter((r) => r.body === 'poison').map((r) => r.attributes.ApproximateReceiveCount),
    );
    expect(poisonCounts).toEqual(['1', '2', '3']);
    expect(
      events.every((e) =>
        e.Records.every((r) => r.eventSourceARN === queue.arn && r.eventSource === 'aws:sqs'),
      ),
    ).toBe(true);
  });

  it('retries the whole batch when the function throws', async () => {
    const queue = await freshQueue();
    const seen: string[] = [];
    let calls = 0;
    const poller = startQueuePoller({
      sqs,
      queue,
      region: twinInfo().region,
      batchSize: 10,
      concurrency: 1,
      functionName: 'test-render',
      timeoutSeconds: 5,
      logger,
      handler: async (event) => {
        calls += 1;
        if (calls === 1) throw new Error('crashed mid-batch');
        seen.push(...event.Records.map((record) => record.body));
        return { batchItemFailures: [] };
      },
    });
    try {
      await send(queue.url, ['a']);
      await until(() => seen.includes('a'));
      await until(async () => (await messagesIn(sqs, queue.url)) === 0);
    } finally {
      await poller.stop();
    }
    expect(calls).toBe(2);
  });

  it('invokes nothing more once stopped', async () => {
    const queue = await freshQueue();
    let calls = 0;
    const poller = startQueuePoller({
      sqs,
      queue,
      region: twinInfo().region,
      batchSize: 1,
      concurrency: 2,
      functionName: 'test-render',
      timeoutSeconds: 5,
      logger,
      handler: async () => {
        calls += 1;
        return { batchItemFailures: [] };
      },
    });
    await poller.stop();
    await send(queue.url, ['late']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls).toBe(0);
    expect(await messagesIn(sqs, queue.url)).toBe(1);
  });
});
