import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import sharp from 'sharp';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../adapters/aws/dynamo-owner-index.js';
import { S3DerivativeStore } from '../adapters/aws/s3-derivative-store.js';
import { SqsEnrichmentQueue } from '../adapters/aws/sqs-enrichment-queue.js';
import { MAX_RECEIVE_COUNT } from '../contract.js';
import { renderJobSchema } from '../core/render-jobs.js';
import {
  DerivedFilingError,
  type RenderDependencies,
  type RenderOutcome,
  renderJob,
} from '../services/render-job.js';
import { functionRuntime, onColdStart } from './function-runtime.js';
import { parseJobMessage, sqsJobsHandler } from './sqs-jobs.js';

// One image at a time per invocation: libvips' operation cache would only hold memory between jobs.
// Its thread pool stays at sharp's default (1 on glibc Linux, as on Lambda): the bench saw no gain
// from 2 threads on 2 cores, and the variants function at 2048 MB has about 1.2 vCPU.
sharp.cache(false);

export interface RenderHandlerDependencies extends RenderDependencies {
  logger: Logger;
  metrics: Metrics;
}

/**
 * A job whose image was recorded `failed` (it cannot be rendered): the message still fails, so that
 * it is parked in the dead-letter queue for inspection rather than deleted.
 */
class ImageFailedError extends Error {
  override readonly name = 'ImageFailedError';
}

/**
 * A batch of render jobs, one at a time (each already uses every vCPU). Each message succeeds or
 * fails on its own (Powertools' batch processor reports `batchItemFailures`): a bad one never fails
 * its neighbours, and a batch that fails whole is still an answer, not a function error. A job whose
 * image cannot be rendered is recorded as `failed` and still fails its message; one that keeps
 * failing for other reasons marks its image `failed` on its last delivery, unless its variants were
 * recorded and only filing what they yield failed (`DerivedFilingError`): that job goes to the
 * dead-letter queue alone.
 */
export function createRenderHandler(deps: RenderHandlerDependencies) {
  const { logger, metrics } = deps;

  /** Renders the record's job; on its last delivery, a render's failure marks the image `failed` as well. */
  async function render(record: SQSRecord): Promise<RenderOutcome> {
    const job = parseJobMessage(record, renderJobSchema, 'a render job');
    logger.appendKeys({ imageId: job.imageId, lane: job.lane });
    try {
      return await renderJob(deps, job);
    } catch (error) {
      const lastDelivery = Number(record.attributes.ApproximateReceiveCount) >= MAX_RECEIVE_COUNT;
      if (lastDelivery && !(error instanceof DerivedFilingError)) {
        await deps.catalog.failImage(job.imageId, {
          reason: 'retries_exhausted',
          message: `rendering failed ${MAX_RECEIVE_COUNT} times: ${(error as Error).message}`,
        });
      }
      throw error;
    }
  }

  async function handleRecord(record: SQSRecord): Promise<RenderOutcome> {
    try {
      let outcome: RenderOutcome;
      try {
        outcome = await render(record);
      } catch (error) {
        logger.error('render job failed', { messageId: record.messageId, error: error as Error });
        metrics.addMetric('RenderJobErrors', MetricUnit.Count, 1);
        throw error;
      }
      logger.info('render job done', { ...outcome });
      metrics.addMetric(`RenderJobs_${outcome.outcome}`, MetricUnit.Count, 1);
      if (outcome.outcome === 'failed')
        throw new ImageFailedError(`image ${outcome.imageId} failed: ${outcome.failure.reason}`);
      return outcome;
    } finally {
      logger.removeKeys(['imageId', 'lane']);
    }
  }

  return sqsJobsHandler(logger, metrics, handleRecord);
}

export function renderDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): RenderHandlerDependencies {
  const { config, clients, logger, metrics } = functionRuntime(env, 'aperture-render');
  return {
    settings: config.settings,
    catalog: new DynamoCatalog(clients.dynamo, config.table),
    store: new S3DerivativeStore(clients.s3, config.imageBucket),
    enrichmentQueue: config.enrichmentQueueUrl
      ? new SqsEnrichmentQueue(clients.sqs, config.enrichmentQueueUrl)
      : undefined,
    ownerIndex: new DynamoOwnerIndex(clients.dynamo, config.table),
    logger,
    metrics,
  };
}

export const handler = onColdStart(() => createRenderHandler(renderDependenciesFromEnvironment(process.env)));
