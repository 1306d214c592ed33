import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandInput,
  type ScanCommandOutput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type ErrorContext, RetryableError } from '../../core/errors.js';
import { toDomainError } from './dependency-errors.js';

export type Item = Record<string, unknown>;

/** A request as its caller writes it: the helper addresses it to the table. */
type Unaddressed<T> = Omit<T, 'TableName'>;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** One write of a transaction. */
export type TableTransactItem =
  | { Put: Unaddressed<NonNullable<TransactItem['Put']>> }
  | { Update: Unaddressed<NonNullable<TransactItem['Update']>> }
  | { Delete: Unaddressed<NonNullable<TransactItem['Delete']>> }
  | { ConditionCheck: Unaddressed<NonNullable<TransactItem['ConditionCheck']>> };

/**
 * What a conditional write did: written (with the item as it now stands, when the request asked for
 * it), or refused because its condition did not hold, which callers expect and decide on.
 */
export type WriteOutcome = { written: true; attributes: Item | undefined } | { written: false };

/** What a transaction did; refused, it names the `conflict` of the first step whose condition failed. */
export type TransactionOutcome<Conflict extends string> =
  | { written: true }
  | { written: false; conflict: Conflict };

/**
 * One DynamoDB table, for the adapters that keep their items in it. Every request goes out through
 * here: a condition that did not hold comes back as an outcome (the only place that recognises one),
 * and any other failure as the domain's error, labelled with the operation and its context.
 */
export class DynamoTable {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly name: string,
  ) {}

  /** A strongly consistent read of one item. */
  async get(operation: string, context: ErrorContext, key: Item): Promise<Item | undefined> {
    const { Item } = await this.read(operation, context, () =>
      this.dynamo.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true })),
    );
    return Item;
  }

  query(
    operation: string,
    context: ErrorContext,
    input: Unaddressed<QueryCommandInput>,
  ): Promise<QueryCommandOutput> {
    return this.read(operation, context, () =>
      this.dynamo.send(new QueryCommand({ ...input, TableName: this.name })),
    );
  }

  scan(
    operation: string,
    context: ErrorContext,
    input: Unaddressed<ScanCommandInput>,
  ): Promise<ScanCommandOutput> {
    return this.read(operation, context, () =>
      this.dynamo.send(new ScanCommand({ ...input, TableName: this.name })),
    );
  }

  put(operation: string, context: ErrorContext, input: Unaddressed<PutCommandInput>): Promise<WriteOutcome> {
    return this.write(operation, context, () =>
      this.dynamo.send(new PutCommand({ ...input, TableName: this.name })),
    );
  }

  update(
    operation: string,
    context: ErrorContext,
    input: Unaddressed<UpdateCommandInput>,
  ): Promise<WriteOutcome> {
    return this.write(operation, context, () =>
      this.dynamo.send(new UpdateCommand({ ...input, TableName: this.name })),
    );
  }

  delete(
    operation: string,
    context: ErrorContext,
    input: Unaddressed<DeleteCommandInput>,
  ): Promise<WriteOutcome> {
    return this.write(operation, context, () =>
      this.dynamo.send(new DeleteCommand({ ...input, TableName: this.name })),
    );
  }

  /**
   * Puts and deletes unconditionally, 25 to a request (DynamoDB's most), sending again whatever
   * DynamoDB left unprocessed (it does under throttling) after a short, growing pause.
   */
  async batchWrite(
    operation: string,
    context: ErrorContext,
    writes: ReadonlyArray<{ put: Item } | { delete: Item }>,
  ): Promise<void> {
    for (let start = 0; start < writes.length; start += MAX_BATCH_WRITES) {
      let requests = writes
        .slice(start, start + MAX_BATCH_WRITES)
        .map((write) =>
          'put' in write ? { PutRequest: { Item: write.put } } : { DeleteRequest: { Key: write.delete } },
        );
      for (let round = 0; requests.length > 0; round++) {
        if (round === MAX_UNPROCESSED_ROUNDS) {
          throw new RetryableError(
            'dependency_unavailable',
            `${operation}: writes kept coming back unprocessed`,
            {
              ...context,
              operation,
            },
          );
        }
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const { UnprocessedItems } = await this.read(operation, context, () =>
          this.dynamo.send(new BatchWriteCommand({ RequestItems: { [this.name]: requests } })),
        );
        requests = (UnprocessedItems?.[this.name] ?? []) as typeof requests;
      }
    }
  }

  /** Writes every step or none; each step names the conflict its condition's failure means. */
  async transact<Conflict extends string>(
    operation: string,
    context: ErrorContext,
    steps: ReadonlyArray<{ conflict: Conflict; item: TableTransactItem }>,
  ): Promise<TransactionOutcome<Conflict>> {
    try {
      await this.dynamo.send(
        new TransactWriteCommand({ TransactItems: steps.map(({ item }) => this.addressed(item)) }),
      );
      return { written: true };
    } catch (error) {
      const refused = refusedWrite(error);
      const step = refused === undefined ? undefined : steps[refused];
      if (!step) throw toDomainError(error, operation, context);
      return { written: false, conflict: step.conflict };
    }
  }

  private async write(
    operation: string,
    context: ErrorContext,
    send: () => Promise<{ Attributes?: Item }>,
  ): Promise<WriteOutcome> {
    try {
      const { Attributes } = await send();
      return { written: true, attributes: Attributes };
    } catch (error) {
      if (refusedWrite(error) === undefined) throw toDomainError(error, operation, context);
      return { written: false };
    }
  }

  private async read<T>(operation: string, context: ErrorContext, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toDomainError(error, operation, context);
    }
  }

  private addressed(item: TableTransactItem): TransactItem {
    const TableName = this.name;
    if ('Put' in item) return { Put: { ...item.Put, TableName } };
    if ('Update' in item) return { Update: { ...item.Update, TableName } };
    if ('Delete' in item) return { Delete: { ...item.Delete, TableName } };
    return { ConditionCheck: { ...item.ConditionCheck, TableName } };
  }
}

/** DynamoDB's limit on the writes of one BatchWriteItem request. */
const MAX_BATCH_WRITES = 25;
/** Rounds of resending unprocessed writes before the batch is a failure (retried by its caller). */
const MAX_UNPROCESSED_ROUNDS = 6;

/**
 * Which write of a request was refused because its condition did not hold: the single write of a
 * put, update or delete (0), or the first refused step of a transaction, which DynamoDB reports only
 * as a cancellation with a reason per step. Undefined for every other failure, a transaction
 * cancelled for another reason (a conflicting transaction, throttling) included.
 */
function refusedWrite(error: unknown): number | undefined {
  if (error instanceof ConditionalCheckFailedException) return 0;
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const step =
    error.CancellationReasons?.findIndex((reason) => reason.Code === 'ConditionalCheckFailed') ?? -1;
  return step >= 0 ? step : undefined;
}
