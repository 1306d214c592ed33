import {
  type FunctionEnvironment,
  functionEnvironmentVariables,
  importEnvironmentVariables,
  webhookEnvironmentVariables,
} from '../../lambdas/core/environment.js';
import { mapLanes } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import type { TwinInfo } from './index.js';

/** The region every twin resource lives in; the emulators ignore it, but ARNs and signatures carry it. */
export const TWIN_REGION = 'us-east-1';

/**
 * s3rver only accepts signed requests from its one built-in account, so the whole twin uses its
 * keys; DynamoDB Local (started with -sharedDb) and fauxqs accept any credentials.
 */
export const TWIN_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** What the twin's function environment names as the vector index (see twinFunctionEnvironment). */
export const TWIN_VECTOR_INDEX_ARN = `arn:aws:s3vectors:${TWIN_REGION}:000000000000:bucket/aperture-local/index/local`;

/**
 * What the twin's function environment names as the event bus: no EventBridge offline, so the local
 * runtime plays the bus (local/runtime/local-event-bus.ts) and hands the announce function that instead.
 */
export const TWIN_EVENT_BUS = 'aperture-events';

/**
 * The environment a function gets when it runs against the twin: the standard per-service endpoint
 * variables that createAwsClients reads, plus region and credentials so nothing falls back to a
 * developer's real AWS profile.
 */
export function twinEnvironment(info: TwinInfo): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: info.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: info.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: info.endpoints.sqs,
    AWS_REGION: info.region,
    AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
  };
}

/**
 * Everything a handler reads when it runs against the twin: the endpoints above plus the function
 * environment the construct would set, naming the twin's buckets, table and queues.
 */
export function twinFunctionEnvironment(
  info: TwinInfo,
  settings: Settings,
  cdnBaseUrl: string,
): Record<string, string> {
  return {
    ...twinEnvironment(info),
    ...functionEnvironmentVariables(twinFunctionConfig(info, settings, cdnBaseUrl)),
  };
}

/** What the import function gets against the twin: the pipeline's environment and the twin's bulk queue. */
export function twinImportEnvironment(
  info: TwinInfo,
  settings: Settings,
  cdnBaseUrl: string,
): Record<string, string> {
  return {
    ...twinEnvironment(info),
    ...importEnvironmentVariables({
      ...twinFunctionConfig(info, settings, cdnBaseUrl),
      bulkQueueUrl: info.resources.bulkQueue.url,
    }),
  };
}

function twinFunctionConfig(info: TwinInfo, settings: Settings, cdnBaseUrl: string): FunctionEnvironment {
  return {
    settings,
    uploadBucket: info.resources.uploadBucket,
    imageBucket: info.resources.imageBucket,
    table: info.resources.table,
    cdnBaseUrl,
    queueUrls: mapLanes((lane) => info.resources.queues[lane].url),
    enrichmentQueueUrl: info.resources.enrichmentQueue.url,
    // No S3 Vectors offline: this names the index the local runtime keeps in SQLite instead
    // (local/enrichment/), whose adapter it hands the functions in place of the S3 Vectors one.
    vectorIndex: { indexArn: TWIN_VECTOR_INDEX_ARN },
    eventBus: TWIN_EVENT_BUS,
    webhookQueues: {
      deliveryQueueUrl: info.resources.webhookDeliveries.url,
      deadLetterQueueUrl: info.resources.webhookDeliveries.deadLetterUrl,
    },
  };
}

/** What the webhook functions get against the twin: its deliveries queue, unless told another. */
export function twinWebhookEnvironment(
  info: TwinInfo,
  settings: Settings,
  deliveryQueueUrl = info.resources.webhookDeliveries.url,
): Record<string, string> {
  return {
    ...twinEnvironment(info),
    ...webhookEnvironmentVariables({ settings, table: info.resources.table, deliveryQueueUrl }),
  };
}
