import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { dynamoDbStreamEvent } from '../events/dynamodb-stream-event.js';
import { lambdaContext } from '../events/lambda-context.js';

export interface StreamPollerOptions {
  streams: DynamoDBStreamsClient;
  streamArn: string;
  /** Records per invocation, as the event source mapping's `batchSize`. */
  batchSize: number;
  /** Invocations of one batch before its first record is given up (the mapping's `retryAttempts` + 1). */
  attempts: number;
  functionName: string;
  timeoutSeconds: number;
  handler: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | undefined>;
  logger: Logger;
  /** Pause between polls of a quiet stream, and before a failed batch is retried. @default 200 */
  idleMs?: number;
}

export interface StreamPoller {
  /** Stops polling once the batch under way is settled. */
  stop(): Promise<void>;
}

/** The position in one shard, and the records read from it but not yet handled. */
interface ShardReader {
  iterator: string | undefined;
  pending: StreamRecord[];
  attempts: number;
}

/**
 * Plays Lambda's DynamoDB event source mapping with `ReportBatchItemFailures`: reads each shard of the
 * stream in order, from where it stood at start (as a mapping created `LATEST`) and child shards
 * from their beginning, invokes the handler with the event Lambda would build, and on a reported
 * failure invokes it again from that record on. After `attempts` the failing record is given up and
 * logged (a mapping's on-failure destination), so one bad change cannot stall the stream forever.
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const { streams, streamArn, logger } = options;
  const idleMs = options.idleMs ?? 200;
  const readers = new Map<string, ShardReader>();
  let stopping = false;

  async function discoverShards(firstTime: boolean): Promise<void> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || readers.has(shardId)) continue;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      // At start only the open shards matter, from now on; a shard that opens later is read whole.
      if (firstTime && closed) {
        readers.set(shardId, { iterator: undefined, pending: [], attempts: 0 });
        continue;
      }
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: firstTime ? 'LATEST' : 'TRIM_HORIZON',
        }),
      );
      readers.set(shardId, { iterator: ShardIterator, pending: [], attempts: 0 });
    }
  }

  /** Reads and handles one batch of a shard; whether there was anything to do. */
  async function advance(reader: ShardReader): Promise<boolean> {
    if (reader.pending.length === 0) {
      if (!reader.iterator) return false;
      const { Records = [], NextShardIterator } = await streams.send(
        new GetRecordsCommand({ ShardIterator: reader.iterator, Limit: options.batchSize }),
      );
      reader.iterator = NextShardIterator;
      reader.pending = Records;
      if (Records.length === 0) return false;
    }
    await invoke(reader);
    return true;
  }

  async function invoke(reader: ShardReader): Promise<void> {
    const batch = reader.pending;
    let failedFrom: number;
    try {
      const response = await options.handler(
        dynamoDbStreamEvent(batch, streamArn),
        lambdaContext(options.functionName, { timeoutSeconds: options.timeoutSeconds }),
      );
      const failed = response?.batchItemFailures[0]?.itemIdentifier;
      failedFrom = failed === undefined ? -1 : batch.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
    } catch (error) {
      logger.error('invocation failed; the batch will be retried', { error: error as Error });
      failedFrom = 0;
    }
    if (failedFrom < 0) {
      reader.pending = [];
      reader.attempts = 0;
      return;
    }
    reader.pending = batch.slice(failedFrom);
    reader.attempts = failedFrom > 0 ? 1 : reader.attempts + 1;
    if (reader.attempts >= options.attempts) {
      const [given] = reader.pending.splice(0, 1);
      logger.error('stream record given up after its retries', {
        sequenceNumber: given?.dynamodb?.SequenceNumber,
        attempts: reader.attempts,
      });
      reader.attempts = 0;
    }
    await pause();
  }

  const pause = () => new Promise((resolve) => setTimeout(resolve, idleMs));

  async function poll(): Promise<void> {
    let firstTime = true;
    while (!stopping) {
      let busy = false;
      try {
        await discoverShards(firstTime);
        firstTime = false;
        for (const reader of readers.values()) busy = (await advance(reader)) || busy;
      } catch (error) {
        logger.warn('reading the stream failed; polling again shortly', { error: error as Error });
      }
      if (!busy) await pause();
    }
  }

  const loop = poll();
  return {
    async stop() {
      stopping = true;
      await loop;
    },
  };
}
