import {
  ConditionalCheckFailedException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoTable } from '../../lambdas/adapters/aws/dynamo-table.js';
import { RetryableError } from '../../lambdas/core/errors.js';

const metadata = { $metadata: {} };

/** A table whose every request fails with `error`, recording what was sent. */
function failingTable(error: unknown) {
  const sent: unknown[] = [];
  const dynamo = {
    send: async (command: { input: unknown }) => {
      sent.push(command.input);
      throw error;
    },
  } as unknown as DynamoDBDocumentClient;
  return { table: new DynamoTable(dynamo, 'catalog'), sent };
}

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    CancellationReasons: codes.map((Code) => ({ Code })),
    ...metadata,
  });

const steps = [
  { conflict: 'first', item: { Put: { Item: { pk: 'a', sk: 'a' } } } },
  { conflict: 'second', item: { ConditionCheck: { Key: { pk: 'b', sk: 'b' }, ConditionExpression: 'x' } } },
] as const;

describe('DynamoTable', () => {
  it('answers a single write whose condition failed with an outcome, not an error', async () => {
    const { table, sent } = failingTable(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', ...metadata }),
    );
    const key = { pk: 'p', sk: 's' };
    expect(await table.update('op', {}, { Key: key, UpdateExpression: 'SET a = :a' })).toEqual({
      written: false,
    });
    expect(await table.put('op', {}, { Item: key })).toEqual({ written: false });
    expect(await table.delete('op', {}, { Key: key })).toEqual({ written: false });
    expect(sent).toEqual([
      expect.objectContaining({ TableName: 'catalog' }),
      expect.objectContaining({ TableName: 'catalog' }),
      expect.objectContaining({ TableName: 'catalog' }),
    ]);
  });

  it('names the step of a transaction whose condition failed, and addresses every step', async () => {
    const { table, sent } = failingTable(cancelled('None', 'ConditionalCheckFailed'));
    expect(await table.transact('op', {}, steps)).toEqual({ written: false, conflict: 'second' });
    expect(sent).toEqual([
      {
        TransactItems: [
          { Put: { Item: { pk: 'a', sk: 'a' }, TableName: 'catalog' } },
          { ConditionCheck: { Key: { pk: 'b', sk: 'b' }, ConditionExpression: 'x', TableName: 'catalog' } },
        ],
      },
    ]);
  });

  it('lets a transaction cancelled for another reason fail', async () => {
    const error = cancelled('TransactionConflict', 'None');
    const { table } = failingTable(error);
    await expect(table.transact('op', {}, steps)).rejects.toBe(error);
  });

  it('never takes an error of the same name from elsewhere for a failed condition', async () => {
    const lookalike = Object.assign(new Error('not from DynamoDB'), {
      name: 'ConditionalCheckFailedException',
    });
    const { table } = failingTable(lookalike);
    await expect(table.put('op', {}, { Item: { pk: 'p', sk: 's' } })).rejects.toBe(lookalike);
  });

  it('reports a throttled request as a dependency failure, labelled with the operation', async () => {
    const { table } = failingTable(new ThrottlingException({ message: 'slow down', ...metadata }));
    const failure = await table
      .get('get item', { imageId: 'i' }, { pk: 'p', sk: 's' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetryableError);
    expect(failure).toMatchObject({
      message: 'get item failed: ThrottlingException',
      context: { imageId: 'i', operation: 'get item' },
    });
  });
});
