import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { pipelineAdapters } from '../adapters/aws/pipeline-adapters.js';
import { RECONCILE_LISTED_FINDINGS } from '../contract.js';
import { ValidationError } from '../core/errors.js';
import { isShard } from '../core/reconcile-slices.js';
import { describeIssues } from '../core/validation.js';
import { DEFAULT_GRACE_MS } from '../services/reconcile/findings.js';
import {
  type ReconcileDependencies,
  type ReconcileReport,
  reconcileSlice,
} from '../services/reconcile/reconcile.js';
import { DEFAULT_STUCK_AFTER_MS } from '../services/variant-renders.js';
import { functionRuntime, onColdStart } from './function-runtime.js';

export interface ReconcileSliceHandlerDependencies extends ReconcileDependencies {
  logger: Logger;
}

const sliceSchema = z.union([
  z.strictObject({ shard: z.string().refine(isShard, 'two lowercase hex digits') }),
  z
    .strictObject({ segment: z.int().nonnegative(), totalSegments: z.int().positive() })
    .refine(({ segment, totalSegments }) => segment < totalSegments, 'segment beyond totalSegments'),
]);

/**
 * A Distributed Map batch (`ItemBatcher`): the slices, and the run's options as `BatchInput`, the
 * thresholds `aperture reconcile`'s defaults unless given.
 */
export const reconcileBatchSchema = z.object({
  Items: z.array(sliceSchema).min(1),
  BatchInput: z.strictObject({
    fix: z.boolean(),
    graceMs: z.int().nonnegative().default(DEFAULT_GRACE_MS),
    stuckAfterMs: z.int().nonnegative().default(DEFAULT_STUCK_AFTER_MS),
  }),
});

export type ReconcileBatch = z.input<typeof reconcileBatchSchema>;

/** What one batch found (and repaired), slice by slice; each lists its first findings, counts all. */
export interface ReconcileBatchResult {
  slices: Array<ReconcileReport & { slice: string }>;
}

/**
 * Reconciles the slices of one Distributed Map batch (lib/reconcile-map.ts), one after another.
 * A slice that fails throws, and the map retries the batch: auditing is reading, and every repair
 * is conditional.
 */
export function createReconcileSliceHandler(deps: ReconcileSliceHandlerDependencies) {
  const { logger } = deps;
  return middy<unknown, ReconcileBatchResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) =>
      reconcileBatch(deps, event, ({ slice, found, repaired, cleared }) =>
        logger.info('reconcile slice done', { slice, found, repaired, cleared }),
      ),
    );
}

/**
 * The handler's work, which `aperture reconcile` also runs locally over every slice: the batch
 * checked, each slice reconciled, its findings listed up to `RECONCILE_LISTED_FINDINGS`.
 */
export async function reconcileBatch(
  deps: ReconcileDependencies,
  event: unknown,
  onSlice: (report: ReconcileReport & { slice: string }) => void,
): Promise<ReconcileBatchResult> {
  const parsed = reconcileBatchSchema.safeParse(event);
  if (!parsed.success)
    throw new ValidationError(`not a reconcile batch: ${describeIssues(parsed.error)}`, 'Items');
  const { Items, BatchInput } = parsed.data;
  const slices: ReconcileBatchResult['slices'] = [];
  for (const slice of Items) {
    const report = await reconcileSlice(deps, slice, BatchInput);
    onSlice(report);
    slices.push({
      ...report,
      findings: report.findings.slice(0, RECONCILE_LISTED_FINDINGS),
      unlisted: Math.max(report.findings.length - RECONCILE_LISTED_FINDINGS, 0),
    });
  }
  return { slices };
}

export function reconcileSliceDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): ReconcileSliceHandlerDependencies {
  const { config, clients, logger } = functionRuntime(env, 'aperture-reconcile');
  return { ...pipelineAdapters(config, clients), now: () => new Date(), logger };
}

export const handler = onColdStart(() =>
  createReconcileSliceHandler(reconcileSliceDependenciesFromEnvironment(process.env)),
);
