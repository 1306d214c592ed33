import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { pipelineAdapters } from '../adapters/aws/pipeline-adapters.js';
import {
  type ReprocessDependencies,
  type ReprocessReport,
  reprocessImages,
} from '../services/reprocess-images.js';
import { DEFAULT_STUCK_AFTER_MS } from '../services/variant-renders.js';
import { functionRuntime, onColdStart } from './function-runtime.js';

export interface ReprocessHandlerDependencies extends ReprocessDependencies {
  logger: Logger;
}

/** Images planned at once; the queue's consumers scale with what is queued, so no pacing here. */
const CONCURRENCY = 8;

/**
 * The deployment's own upkeep (lib/reprocess.ts): started by each deploy that changes the upkeep
 * version, and every hour for what a run left or what stalled or failed on the way. It reads only
 * what the upkeep index holds as outstanding (unsettled, or settled on an older version), so with
 * everything settled it reads no item. A run cut short by the function's timeout loses nothing:
 * images it moved leave the old version's partitions, and the next run does the rest.
 */
export function createReprocessHandler(deps: ReprocessHandlerDependencies) {
  const { logger } = deps;
  return middy<unknown, ReprocessReport, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const report = await reprocessImages(deps, {
        scope: 'outstanding',
        dryRun: false,
        prune: false,
        stuckAfterMs: DEFAULT_STUCK_AFTER_MS,
        concurrency: CONCURRENCY,
      });
      logger.info('reprocess run done', { ...report });
      return report;
    });
}

export function reprocessDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): ReprocessHandlerDependencies {
  const { config, clients, logger } = functionRuntime(env, 'aperture-reprocess');
  return { ...pipelineAdapters(config, clients), now: () => new Date(), logger };
}

export const handler = onColdStart(() =>
  createReprocessHandler(reprocessDependenciesFromEnvironment(process.env)),
);
