import type { FunctionEnvironment } from '../../core/environment.js';
import type { AwsClients } from './clients.js';
import { CloudFrontCache } from './cloudfront-cache.js';
import { DynamoMaintenanceCatalog } from './dynamo-maintenance-catalog.js';
import { DynamoWebhookEndpoints } from './dynamo-webhook-endpoints.js';
import { S3ImageObjects } from './s3-image-objects.js';
import { S3ObjectInventory } from './s3-object-inventory.js';
import { SqsDeadLetters } from './sqs-dead-letters.js';
import { SqsWorkQueue } from './sqs-work-queue.js';

/**
 * The adapters that work over the whole pipeline (the operator CLI's commands, the scheduled
 * reprocess), built from a function environment as the functions build theirs.
 */
export function pipelineAdapters(config: FunctionEnvironment, clients: AwsClients) {
  return {
    settings: config.settings,
    catalog: new DynamoMaintenanceCatalog(clients.dynamo, config.table),
    inventory: new S3ObjectInventory(clients.s3, {
      uploads: config.uploadBucket,
      images: config.imageBucket,
    }),
    queue: new SqsWorkQueue(clients.sqs, config.queueUrls),
    objects: new S3ImageObjects(clients.s3, config.imageBucket),
    cdn: config.distributionId ? new CloudFrontCache(clients.cloudfront, config.distributionId) : undefined,
    webhooks: new DynamoWebhookEndpoints(clients.dynamo, config.table),
    /** Only when the environment names the webhook queues (the CLI's `--webhook-*-url` flags). */
    parkedDeliveries: config.webhookQueues
      ? new SqsDeadLetters(clients.sqs, config.webhookQueues)
      : undefined,
  };
}

export type PipelineAdapters = ReturnType<typeof pipelineAdapters>;
