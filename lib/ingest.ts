import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IDestination, IFunction, ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { EventType, type IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  INGEST_MEMORY_MB,
  INGEST_RETRY_WINDOW_SECONDS,
  INGEST_TIMEOUT_SECONDS,
  ORIGINALS_PREFIX,
  UPLOADS_PREFIX,
} from '../lambdas/contract.js';
import { WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import { deadLetterStore } from './dead-letter-store.js';
import { acknowledgeBucketNotificationsHandler } from './nag.js';
import type { LaneQueues } from './work-queues.js';

/** Lambda's own limits for asynchronous invocations: the most retries, the longest wait. */
const ASYNC_RETRY_ATTEMPTS = 2;
const ASYNC_MAX_EVENT_AGE = Duration.seconds(INGEST_RETRY_WINDOW_SECONDS);

export interface IngestProps extends FunctionTelemetryProps {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly uploadBucket: IBucket;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly queues: Readonly<Record<WorkLane, LaneQueues>>;
  readonly sharpLayer: ILayerVersion;
  /**
   * Subscribe the function to the upload bucket's ObjectCreated events under `uploads/`. Only for a
   * bucket the pipeline created: an imported bucket's notifications belong to its owner, who points
   * them at `function` (see `ImagePipelineProps.uploadBucket`).
   */
  readonly subscribe: boolean;
}

/**
 * The ingest function: S3 calls it for every new upload; it checks the bytes (magic number, decodable,
 * pixel limit), hashes them, records or links the image in the catalog, copies a new original to the
 * image bucket, queues its render jobs and deletes the upload.
 *
 * S3 invokes it asynchronously. A transient failure throws and Lambda retries twice; an event that
 * still fails, or waits over six hours (throttled, say), lands in `failures` with the error, and an
 * alarm says so. No reserved concurrency: ingest follows upload traffic, and a cap would only turn a
 * burst into throttles; Lambda queues throttled events itself and keeps retrying them for those hours.
 */
export class Ingest extends Construct {
  /** Give this to an imported upload bucket's ObjectCreated notification under `uploads/`. */
  public readonly function: IFunction;
  /**
   * Lambda's on-failure destination: one record per event that failed every attempt, holding the S3
   * event (`requestPayload`) and the error. Replay one by invoking the function with its payload.
   */
  public readonly failures: IQueue;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);

    const ingest = new ApertureFunction(this, 'Handler', {
      handlerFile: 'ingest.ts',
      description: 'Aperture ingest: checks, hashes and catalogs each upload',
      environment: props.environment,
      // Why this much: INGEST_MEMORY_MB.
      memorySize: INGEST_MEMORY_MB,
      timeout: Duration.seconds(INGEST_TIMEOUT_SECONDS),
      ...telemetryOf(props),
      sharpLayer: props.sharpLayer,
    });
    this.function = ingest.function;

    this.failures = deadLetterStore(
      this,
      'Failures',
      "the ingest function's on-failure destination, after Lambda's retries",
    );
    this.function.configureAsyncInvoke({
      retryAttempts: ASYNC_RETRY_ATTEMPTS,
      maxEventAge: ASYNC_MAX_EVENT_AGE,
      onFailure: sendOnlyQueueDestination(this.failures),
    });

    if (props.subscribe) {
      const destination = new LambdaDestination(this.function);
      props.uploadBucket.addEventNotification(EventType.OBJECT_CREATED, destination, {
        prefix: UPLOADS_PREFIX,
      });
      acknowledgeBucketNotificationsHandler(this);
    }

    // Read the upload, and delete it once decided; a server-side copy reads it as the source too.
    ingest.grantObjectActions(
      props.uploadBucket,
      UPLOADS_PREFIX,
      ['s3:GetObject', 's3:DeleteObject'],
      'Uploads arrive at random keys under uploads/; ingest may only read and delete there.',
    );
    // The copy's destination: originals are content-addressed keys under originals/.
    ingest.grantObjectActions(
      props.imageBucket,
      ORIGINALS_PREFIX,
      ['s3:PutObject'],
      'Originals are keyed by their SHA-256 under originals/; ingest may only put objects there.',
    );

    // Item reads and conditional writes, alone or in TransactWriteItems (which checks the per-item
    // actions), and a new owner's index entries of an image already fingerprinted or enriched, in
    // batches; ingest never queries, scans or deletes.
    ingest.grantTableActions(
      props.table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchWriteItem',
    );

    for (const lane of WORK_LANES) props.queues[lane].queue.grant(this.function, 'sqs:SendMessage');
  }
}

/**
 * An SQS on-failure destination. CDK's `SqsDestination` also grants GetQueueAttributes and GetQueueUrl;
 * delivering the failure record needs only SendMessage.
 */
function sendOnlyQueueDestination(queue: IQueue): IDestination {
  return {
    bind: (_scope, fn) => {
      queue.grant(fn, 'sqs:SendMessage');
      return { destination: queue.queueArn };
    },
  };
}
