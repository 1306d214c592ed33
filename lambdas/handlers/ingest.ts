import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, S3Event } from 'aws-lambda';
import sharp from 'sharp';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../adapters/aws/dynamo-owner-index.js';
import { awsVectorFiling } from '../adapters/aws/enrichment-adapters.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SqsWorkQueue } from '../adapters/aws/sqs-work-queue.js';
import { type IngestDependencies, type IngestOutcome, ingestUpload } from '../services/ingest-upload.js';
import { functionRuntime, onColdStart, publishMetrics } from './function-runtime.js';

// Each upload is decoded once: libvips' operation cache would only hold memory between invocations.
sharp.cache(false);

export interface IngestHandlerDependencies extends IngestDependencies {
  logger: Logger;
  metrics: Metrics;
}

/** S3 event keys are URL-encoded, with spaces as `+`. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

const METRIC_BY_OUTCOME: Record<IngestOutcome['outcome'], string> = {
  created: 'ImagesCreated',
  linked: 'UploadsLinked',
  rejected: 'UploadsRejected',
  already_decided: 'DuplicateDeliveries',
  ignored: 'ObjectsIgnored',
};

/**
 * One S3 notification, its records in turn. A transient failure throws, so Lambda's async retries
 * (then the on-failure queue) redeliver the event; the records already done are no-ops the second time.
 */
export function createIngestHandler(deps: IngestHandlerDependencies) {
  const { logger, metrics } = deps;
  return middy<S3Event, IngestOutcome[], Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .handler(async (event) => {
      const outcomes: IngestOutcome[] = [];
      for (const record of event.Records) {
        const key = decodeS3Key(record.s3.object.key);
        const outcome = await ingestUpload(deps, { key, size: record.s3.object.size ?? 0 });
        logger.info('upload ingested', { key, ...outcome });
        metrics.addMetric(METRIC_BY_OUTCOME[outcome.outcome], MetricUnit.Count, 1);
        outcomes.push(outcome);
      }
      return outcomes;
    });
}

export function ingestDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): IngestHandlerDependencies {
  const { config, clients, logger, metrics } = functionRuntime(env, 'aperture-ingest');
  const now = () => new Date();
  return {
    settings: config.settings,
    catalog: new DynamoCatalog(clients.dynamo, config.table, now),
    store: new S3ObjectStore(clients.s3, { uploads: config.uploadBucket, images: config.imageBucket }),
    queue: new SqsWorkQueue(clients.sqs, config.queueUrls),
    ownerIndex: new DynamoOwnerIndex(clients.dynamo, config.table),
    vectors: awsVectorFiling(config, clients.dynamo, env),
    now,
    logger,
    metrics,
  };
}

export const handler = onColdStart(() => createIngestHandler(ingestDependenciesFromEnvironment(process.env)));
