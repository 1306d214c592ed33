import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { startStreamPoller } from '../../local/runtime/stream-poller.js';
import { TWIN_CREDENTIALS } from '../../local/twin/index.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { until } from '../support/until.js';

const info = twinInfo();
const { dynamo } = createAwsClients(twinEnv());
const streams = new DynamoDBStreamsClient({
  region: info.region,
  credentials: TWIN_CREDENTIALS,
  endpoint: info.endpoints.dynamodb,
});
const logger = new Logger({ serviceName: 'stream-poller-test' });
afterAll(() => streams.destroy());

/** The shared table's stream carries every test file's writes: this file's are under its own prefix. */
const prefix = `STREAMTEST#${randomUUID()}#`;
const mine = (record: DynamoDBRecord) => record.dynamodb?.Keys?.pk?.S?.startsWith(prefix) === true;
const nameOf = (record: DynamoDBRecord) => record.dynamodb?.Keys?.pk?.S?.slice(prefix.length) ?? '';

async function write(names: string[]): Promise<void> {
  for (const name of names) {
    await dynamo.send(
      new PutCommand({ TableName: info.resources.table, Item: { pk: `${prefix}${name}`, sk: 'X' } }),
    );
  }
}

describe('the DynamoDB stream event source, played locally', () => {
  it('hands over records in order, again from a reported failure, and gives a record up after its attempts', async () => {
    const handled: string[] = [];
    const failures = new Map<string, number>();
    const failAlways = 'poison';
    const failOnce = 'flaky';
    const handler = async (event: DynamoDBStreamEvent) => {
      for (const record of event.Records.filter(mine)) {
        const name = nameOf(record);
        const failed = failures.get(name) ?? 0;
        if (name === failAlways || (name === failOnce && failed === 0)) {
          failures.set(name, failed + 1);
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
        }
        handled.push(name);
      }
      return { batchItemFailures: [] };
    };
    const poller = startStreamPoller({
      streams,
      streamArn: info.resources.tableStreamArn,
      batchSize: 10,
      attempts: 3,
      functionName: 'stream-poller-test',
      timeoutSeconds: 5,
      handler,
      logger,
      idleMs: 50,
    });
    try {
      // The poller reads from where the stream stands when it starts: give it that moment.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await write(['a', failOnce, 'b', failAlways, 'c']);
      await until(() => handled.includes('c'), 'the record after the poisoned one');
    } finally {
      await poller.stop();
    }
    // `a` once; `flaky` and `b` again after flaky's failure; `poison` three times, then given up.
    expect(handled.filter((name) => name === 'a')).toEqual(['a']);
    expect(handled).toContain(failOnce);
    expect(handled.indexOf(failOnce)).toBeLessThan(handled.indexOf('b'));
    expect(failures.get(failAlways)).toBe(3);
    expect(handled).not.toContain(failAlways);
    expect(handled.at(-1)).toBe('c');
  });
});
