import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import sharp from 'sharp';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoImportTallies } from '../adapters/aws/dynamo-import-tallies.js';
import { DynamoOwnerIndex } from '../adapters/aws/dynamo-owner-index.js';
import { awsVectorFiling } from '../adapters/aws/enrichment-adapters.js';
import { S3ImportSources } from '../adapters/aws/s3-import-sources.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SqsWorkQueue } from '../adapters/aws/sqs-work-queue.js';
import { readImportEnvironment } from '../core/environment.js';
import { ValidationError } from '../core/errors.js';
import { type ImportBatchResult, type ImportOutcome, importBatchSchema } from '../core/imports.js';
import { mapLanes } from '../core/render-jobs.js';
import { describeIssues } from '../core/validation.js';
import { type ImportDependencies, importBatch } from '../services/import-objects.js';
import { functionRuntime, onColdStart, publishMetrics } from './function-runtime.js';

// Each object is decoded once: libvips' operation cache would only hold memory between invocations.
sharp.cache(false);

export interface ImportHandlerDependencies extends ImportDependencies {
  logger: Logger;
  metrics: Metrics;
}

const METRIC_BY_OUTCOME: Record<ImportOutcome, string> = {
  new: 'ImportedImagesCreated',
  duplicate: 'ImportedDuplicates',
  already_imported: 'ImportedBefore',
  rejected: 'ImportsRejected',
  skipped: 'ImportsSkipped',
  failed: 'ImportsFailed',
};

/**
 * One batch of a server-side import: a child execution of the import's Distributed Map, or the local
 * runner's equal. Returns each object's result (the map's ResultWriter files them); throws when an
 * object failed, for Step Functions to run the batch again. An input that is not a batch is refused
 * outright, since running it again would not change it.
 */
export function createImportHandler(deps: ImportHandlerDependencies) {
  const { logger, metrics } = deps;
  return middy<unknown, ImportBatchResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .handler(async (event) => {
      const parsed = importBatchSchema.safeParse(event);
      if (!parsed.success) throw new ValidationError(`not an import batch: ${describeIssues(parsed.error)}`);
      const batch = parsed.data;
      logger.appendKeys({ importId: batch.BatchInput.importId });
      const result = await importBatch(deps, batch);
      for (const item of result.results) {
        metrics.addMetric(METRIC_BY_OUTCOME[item.outcome], MetricUnit.Count, 1);
        if (item.outcome !== 'already_imported') logger.info('object imported', { ...item });
      }
      return result;
    });
}

export function importDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): ImportHandlerDependencies {
  const { config, clients, logger, metrics } = functionRuntime(env, 'aperture-import', readImportEnvironment);
  const now = () => new Date();
  return {
    settings: config.settings,
    catalog: new DynamoCatalog(clients.dynamo, config.table, now),
    store: new S3ObjectStore(clients.s3, { uploads: config.uploadBucket, images: config.imageBucket }),
    // Every render job of an import goes to the bulk queue, whose function has a concurrency cap.
    queue: new SqsWorkQueue(
      clients.sqs,
      mapLanes(() => config.bulkQueueUrl),
    ),
    ownerIndex: new DynamoOwnerIndex(clients.dynamo, config.table),
    vectors: awsVectorFiling(config, clients.dynamo, env),
    sources: new S3ImportSources(clients.s3),
    tallies: new DynamoImportTallies(clients.dynamo, config.table),
    now,
    logger,
    metrics,
  };
}

export const handler = onColdStart(() => createImportHandler(importDependenciesFromEnvironment(process.env)));
