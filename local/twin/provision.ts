import { setTimeout } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketCorsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  CATALOG_TABLE,
  ENRICHMENT_VISIBILITY_TIMEOUT_SECONDS,
  MAX_RECEIVE_COUNT,
  visibilityTimeoutSeconds,
  WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS,
  WEBHOOK_FANOUT_VISIBILITY_TIMEOUT_SECONDS,
} from '../../lambdas/contract.js';
import { WORK_LANES, type WorkLane } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { deliveryAttempts } from '../../lambdas/core/webhooks.js';
import { TWIN_CREDENTIALS } from './environment.js';

/** Local names are fixed (nothing else shares these emulators); in AWS, CloudFormation names them. */
export const TWIN_NAMES = {
  uploadBucket: 'aperture-uploads',
  imageBucket: 'aperture-images',
  table: 'aperture-catalog',
  queue: (lane: WorkLane) => `aperture-${lane}`,
  enrichmentQueue: 'aperture-enrichment',
  webhookEvents: 'aperture-webhook-events',
  webhookDeliveries: 'aperture-webhook-deliveries',
  bulkQueue: 'aperture-bulk',
} as const;

export interface WorkQueue {
  url: string;
  arn: string;
  deadLetterUrl: string;
  deadLetterArn: string;
}

export interface TwinResources {
  uploadBucket: string;
  imageBucket: string;
  table: string;
  /** The table's stream (new and old images), which the announce function reads. */
  tableStreamArn: string;
  queues: Record<WorkLane, WorkQueue>;
  /** Made whether enrichment is on or not: a runtime started with it on finds it there. */
  enrichmentQueue: WorkQueue;
  /** Pipeline events for webhook fan-out (in AWS, the target of the rule on the bus). */
  webhookEvents: WorkQueue;
  /**
   * One message per webhook delivery. Its `maxReceiveCount` follows the default retry schedule; a
   * runtime with another sets its own (`local/runtime/webhooks.ts`).
   */
  webhookDeliveries: WorkQueue;
  /** Every render job of an import, of either lane: its own queue, so app uploads' lanes never wait behind a library. */
  bulkQueue: WorkQueue;
}

export interface TwinEndpoints {
  s3: string;
  dynamodb: string;
  sqs: string;
}

/**
 * Creates what the ImagePipeline construct creates (lib/storage.ts, lib/catalog-table.ts,
 * lib/work-queues.ts), through the services' own APIs, so it works
 * against any S3/DynamoDB/SQS endpoint. Idempotent: resources that exist (a persisted data dir) are
 * kept and their settings converged.
 */
export async function provisionTwin(endpoints: TwinEndpoints, region: string): Promise<TwinResources> {
  // The twin's own admin connection, not the application's: createAwsClients takes its region and
  // credentials from the ambient environment, which the twin must not depend on.
  const config = { region, credentials: TWIN_CREDENTIALS };
  const s3 = adminS3(endpoints.s3, region);
  const dynamodb = new DynamoDBClient({ ...config, endpoint: endpoints.dynamodb });
  const sqs = new SQSClient({ ...config, endpoint: endpoints.sqs });
  try {
    const [queues, enrichmentQueue, webhookEvents, webhookDeliveries, bulkQueue, , , tableStreamArn] =
      await Promise.all([
        provisionQueues(sqs),
        ensureWorkQueue(sqs, TWIN_NAMES.enrichmentQueue, ENRICHMENT_VISIBILITY_TIMEOUT_SECONDS),
        ensureWorkQueue(sqs, TWIN_NAMES.webhookEvents, WEBHOOK_FANOUT_VISIBILITY_TIMEOUT_SECONDS),
        ensureWorkQueue(
          sqs,
          TWIN_NAMES.webhookDeliveries,
          WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS,
          deliveryAttempts(parseSettings().webhooks.retryScheduleSeconds),
        ),
        // A bulk job may be a variants job, the slower lane's: its timeout bounds every job there.
        ensureWorkQueue(sqs, TWIN_NAMES.bulkQueue, visibilityTimeoutSeconds('variants')),
        ensureBucket(s3, TWIN_NAMES.uploadBucket).then(() =>
          allowBrowserUploads(s3, TWIN_NAMES.uploadBucket, ['*']),
        ),
        ensureBucket(s3, TWIN_NAMES.imageBucket),
        ensureCatalogTable(dynamodb, TWIN_NAMES.table),
      ]);
    return {
      uploadBucket: TWIN_NAMES.uploadBucket,
      imageBucket: TWIN_NAMES.imageBucket,
      table: TWIN_NAMES.table,
      tableStreamArn,
      queues,
      enrichmentQueue,
      webhookEvents,
      webhookDeliveries,
      bulkQueue,
    };
  } finally {
    s3.destroy();
    dynamodb.destroy();
    sqs.destroy();
  }
}

/** Lets browsers of `origins` only send uploads to the upload bucket (see allowBrowserUploads). */
export async function admitBrowserUploads(
  endpoints: TwinEndpoints,
  region: string,
  origins: readonly string[],
): Promise<void> {
  const s3 = adminS3(endpoints.s3, region);
  try {
    await allowBrowserUploads(s3, TWIN_NAMES.uploadBucket, origins);
  } finally {
    s3.destroy();
  }
}

function adminS3(endpoint: string, region: string): S3Client {
  return new S3Client({ region, credentials: TWIN_CREDENTIALS, endpoint, forcePathStyle: true });
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    // s3rver answers BucketAlreadyExists for a bucket it already holds; S3 says BucketAlreadyOwnedByYou.
    const exists =
      error instanceof S3ServiceException &&
      (error.name === 'BucketAlreadyExists' || error.name === 'BucketAlreadyOwnedByYou');
    if (!exists) throw error;
  }
}

/**
 * Browsers send the bytes straight to the upload bucket with the presigned POST or PUT, and may GET
 * them back (a dev page showing what it uploaded): from `origins`, as the construct's
 * `allowedOrigins` says, which start as any origin (`*`, its default too).
 */
async function allowBrowserUploads(s3: S3Client, bucket: string, origins: readonly string[]): Promise<void> {
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [...origins],
            AllowedMethods: ['POST', 'PUT', 'GET'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 3600,
          },
        ],
      },
    }),
  );
}

/** The stream the construct gives the table (lib/catalog-table.ts): what the announce function reads. */
const CATALOG_STREAM = { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } as const;

const { upkeepIndex } = CATALOG_TABLE;

/** The upkeep's index (lib/catalog-table.ts), keys only. */
const upkeepIndexSpec = {
  IndexName: upkeepIndex.name,
  KeySchema: [
    { AttributeName: upkeepIndex.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: upkeepIndex.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' as const },
};

/** Creates the catalog table, or converges one kept from an earlier run; returns its stream's ARN. */
async function ensureCatalogTable(dynamodb: DynamoDBClient, table: string): Promise<string> {
  const { partitionKey, sortKey, collectionIndex, timeToLiveAttribute } = CATALOG_TABLE;
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          partitionKey,
          sortKey,
          collectionIndex.partitionKey,
          collectionIndex.sortKey,
          upkeepIndex.partitionKey,
        ].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: collectionIndex.name,
            KeySchema: [
              { AttributeName: collectionIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: collectionIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          upkeepIndexSpec,
        ],
        StreamSpecification: CATALOG_STREAM,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // Enabling TTL twice is an error, so look first.
  const { TimeToLiveDescription } = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }));
  if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
      }),
    );
  }
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  if (!Table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === upkeepIndexSpec.IndexName)) {
    // A table kept from before the upkeep had its index. Its older images carry no key: `aperture
    // reprocess` files them (docs/operations.md), as after upgrading a deployment.
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: upkeepIndex.partitionKey, AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [{ Create: upkeepIndexSpec }],
      }),
    );
    // Queries of an index still being built fail; DynamoDB Local builds it in moments.
    for (let ready = false, polls = 0; !ready; polls++) {
      if (polls === 600)
        throw new Error(`${table}'s ${upkeepIndexSpec.IndexName} index is not active after a minute`);
      const { Table: now } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
      ready =
        now?.GlobalSecondaryIndexes?.some(
          (index) => index.IndexName === upkeepIndexSpec.IndexName && index.IndexStatus === 'ACTIVE',
        ) ?? false;
      if (!ready) await setTimeout(100);
    }
  }
  if (Table?.LatestStreamArn && Table.StreamSpecification?.StreamEnabled) return Table.LatestStreamArn;
  // A table kept from before events existed.
  const { TableDescription } = await dynamodb.send(
    new UpdateTableCommand({ TableName: table, StreamSpecification: CATALOG_STREAM }),
  );
  if (!TableDescription?.LatestStreamArn) throw new Error(`${table} has no stream after enabling one`);
  return TableDescription.LatestStreamArn;
}

async function provisionQueues(sqs: SQSClient): Promise<Record<WorkLane, WorkQueue>> {
  const entries = await Promise.all(
    WORK_LANES.map(
      async (lane) =>
        [lane, await ensureWorkQueue(sqs, TWIN_NAMES.queue(lane), visibilityTimeoutSeconds(lane))] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<WorkLane, WorkQueue>;
}

/**
 * A queue whose messages move to `{name}-dlq` after MAX_RECEIVE_COUNT receives (or `maxReceiveCount`),
 * as every lane has. Exported so tests can make a private pair that behaves exactly like a lane.
 */
export async function ensureWorkQueue(
  sqs: SQSClient,
  name: string,
  visibilityTimeoutSeconds: number,
  maxReceiveCount = MAX_RECEIVE_COUNT,
): Promise<WorkQueue> {
  const deadLetterUrl = await createQueue(sqs, `${name}-dlq`, {});
  const deadLetterArn = await queueArn(sqs, deadLetterUrl);
  const url = await createQueue(sqs, name, {
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount }),
  });
  return { url, arn: await queueArn(sqs, url), deadLetterUrl, deadLetterArn };
}

/** CreateQueue returns the existing queue when the name and attributes match. */
async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  return QueueUrl;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes returned no QueueArn for ${url}`);
  return arn;
}
