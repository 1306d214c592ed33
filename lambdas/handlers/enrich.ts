import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import sharp from 'sharp';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoImageEmbeddings } from '../adapters/aws/dynamo-image-embeddings.js';
import { DynamoOwnerIndex } from '../adapters/aws/dynamo-owner-index.js';
import { awsEnrichmentModels, awsVectorFiling } from '../adapters/aws/enrichment-adapters.js';
import { S3DerivativeStore } from '../adapters/aws/s3-derivative-store.js';
import { MAX_RECEIVE_COUNT } from '../contract.js';
import { enrichmentJobSchema } from '../core/enrichment.js';
import { type EnrichDependencies, type EnrichOutcome, enrichImage } from '../services/enrich-image.js';
import { functionRuntime, onColdStart } from './function-runtime.js';
import { parseJobMessage, sqsJobsHandler } from './sqs-jobs.js';

// One small JPEG at a time: libvips' operation cache would only hold memory between jobs.
sharp.cache(false);

export interface EnrichHandlerDependencies extends EnrichDependencies {
  logger: Logger;
  metrics: Metrics;
}

/**
 * A batch of enrichment jobs, each succeeding or failing on its own (Powertools' batch processor
 * reports `batchItemFailures`). A model's lasting refusal of the image is recorded by the service and
 * the message acknowledged; a job that keeps failing otherwise (a model down, a request refused)
 * marks the enrichment `failed` on its last delivery and then goes to the dead-letter queue. The
 * image stays `ready` and served throughout.
 */
export function createEnrichHandler(deps: EnrichHandlerDependencies) {
  const { logger, metrics } = deps;

  async function enrich(record: SQSRecord): Promise<EnrichOutcome> {
    const job = parseJobMessage(record, enrichmentJobSchema, 'an enrichment job');
    logger.appendKeys({ imageId: job.imageId, enrichmentVersion: job.version });
    try {
      return await enrichImage(deps, job);
    } catch (error) {
      if (Number(record.attributes.ApproximateReceiveCount) >= MAX_RECEIVE_COUNT) {
        await deps.catalog.failEnrichment(job.imageId, job.version, {
          reason: 'retries_exhausted',
          message: `enrichment failed ${MAX_RECEIVE_COUNT} times: ${(error as Error).message}`,
        });
      }
      throw error;
    }
  }

  async function handleRecord(record: SQSRecord): Promise<EnrichOutcome> {
    try {
      const outcome = await enrich(record);
      logger.info('enrichment job done', { ...outcome });
      metrics.addMetric(`EnrichmentJobs_${outcome.outcome}`, MetricUnit.Count, 1);
      return outcome;
    } catch (error) {
      logger.error('enrichment job failed', { messageId: record.messageId, error: error as Error });
      metrics.addMetric('EnrichmentJobErrors', MetricUnit.Count, 1);
      throw error;
    } finally {
      logger.removeKeys(['imageId', 'enrichmentVersion']);
    }
  }

  return sqsJobsHandler(logger, metrics, handleRecord);
}

/** Production wiring: the managed models and the catalog, built once per cold start. */
export function enrichDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): EnrichHandlerDependencies {
  const { config, clients, logger, metrics } = functionRuntime(env, 'aperture-enrich');
  const catalog = new DynamoCatalog(clients.dynamo, config.table);
  return {
    settings: config.settings.enrichment,
    pipelineSettings: config.settings,
    catalog,
    store: new S3DerivativeStore(clients.s3, config.imageBucket),
    models: awsEnrichmentModels(config.settings.enrichment, env),
    ownerIndex: new DynamoOwnerIndex(clients.dynamo, config.table),
    vectors: awsVectorFiling(config, clients.dynamo, env),
    embeddings: new DynamoImageEmbeddings(clients.dynamo, config.table),
    now: () => new Date(),
    logger,
    metrics,
  };
}

export const handler = onColdStart(() => createEnrichHandler(enrichDependenciesFromEnvironment(process.env)));
