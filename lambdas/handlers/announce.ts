import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { catalogChangeOf } from '../adapters/aws/catalog-stream.js';
import { cloudFrontUrlSignerFor } from '../adapters/aws/cloudfront-url-signer.js';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoEventLedger } from '../adapters/aws/dynamo-event-ledger.js';
import { EventBridgeBus } from '../adapters/aws/eventbridge-bus.js';
import { ENV } from '../contract.js';
import { type AnnounceDependencies, announceChange } from '../services/announce-change.js';
import { functionRuntime, onColdStart } from './function-runtime.js';
import { partialBatchHandler } from './partial-batch.js';
import { ownerImageView } from './routes/get-image.js';

export interface AnnounceHandlerDependencies extends AnnounceDependencies {
  logger: Logger;
  metrics: Metrics;
}

/**
 * The catalog table's stream, a batch of committed changes, in order per record: each change's events
 * published once. A change that could not be announced is reported by its sequence number, and the
 * stream delivers it, and everything after it, again: the events already published are skipped then
 * by their ids (the service's ledger).
 */
export function createAnnounceHandler(deps: AnnounceHandlerDependencies) {
  const { logger, metrics } = deps;

  async function handleRecord(record: DynamoDBRecord): Promise<void> {
    const change = catalogChangeOf(record);
    if (!change) return;
    try {
      const events = await announceChange(deps, change);
      for (const event of events) {
        logger.info('event published', {
          eventId: event.id,
          type: event.type,
          uploadId: event.uploadId,
          ...('imageId' in event ? { imageId: event.imageId } : {}),
        });
        metrics.addMetric(`Events_${event.type.replace('.', '_')}`, MetricUnit.Count, 1);
      }
    } catch (error) {
      logger.error('change not announced', {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        record: change.record,
        error: error as Error,
      });
      metrics.addMetric('EventPublishErrors', MetricUnit.Count, 1);
      throw error;
    }
  }

  // One after another, so a record's changes are announced in the order they happened.
  return partialBatchHandler('DynamoDBStreams', logger, metrics, handleRecord);
}

export function announceDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): AnnounceHandlerDependencies {
  const { config, clients, logger, metrics } = functionRuntime(env, 'aperture-announce');
  if (!config.eventBus) throw new Error(`the announce function needs ${ENV.eventBus}`);
  const catalog = new DynamoCatalog(clients.dynamo, config.table);
  const viewDeps = {
    settings: config.settings,
    catalog,
    cdnBaseUrl: config.cdnBaseUrl,
    urlSigner: cloudFrontUrlSignerFor(config.signedUrls, clients.secrets),
  };
  return {
    catalog,
    viewOf: (image, link) => ownerImageView(viewDeps, image, link),
    bus: new EventBridgeBus(new EventBridgeClient({ region: env.AWS_REGION }), config.eventBus),
    ledger: new DynamoEventLedger(clients.dynamo, config.table),
    now: () => new Date(),
    logger,
    metrics,
  };
}

export const handler = onColdStart(() =>
  createAnnounceHandler(announceDependenciesFromEnvironment(process.env)),
);
