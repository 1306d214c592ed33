import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction, ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ANALYSIS_PREFIX,
  DERIVATIVES_PREFIX,
  ORIGINALS_PREFIX,
  RENDER_BATCH_SIZE,
  RENDER_MEMORY_MB,
  RENDER_TIMEOUT_SECONDS,
} from '../lambdas/contract.js';
import { mapLanes, WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import type { LaneQueues } from './work-queues.js';

/**
 * How each lane's event source hands jobs to its function: `RENDER_BATCH_SIZE` (why those sizes is
 * there), and no batching window: a thumbnail is what a user waits for, and under a backlog one poll
 * returns a full batch anyway.
 *
 * `maxConcurrency` is left unset on purpose: the pollers then scale with the backlog up to the
 * account's concurrency, and S3 and the on-demand table absorb whatever the workers write. To cap a
 * lane (to leave concurrency to the API and ingest, say), set `maxConcurrency` here, never reserved
 * concurrency on the function: the pollers would keep receiving, the throttled messages would count
 * as receives, and healthy jobs would end up in the dead-letter queue.
 */
export const RENDER_EVENT_SOURCES: Readonly<
  Record<WorkLane, Pick<SqsEventSourceProps, 'batchSize' | 'maxBatchingWindow'>>
> = mapLanes((lane) => ({ batchSize: RENDER_BATCH_SIZE[lane], maxBatchingWindow: Duration.seconds(0) }));

export interface RenderWorkersProps extends FunctionTelemetryProps {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly queues: Readonly<Record<WorkLane, LaneQueues>>;
  readonly sharpLayer: ILayerVersion;
  /** The enrichment lane's queue, when enrichment is on: the thumbnails lane feeds it. */
  readonly enrichmentQueue?: IQueue | undefined;
}

/**
 * The render workers: one function per lane (`WORK_LANES`), all running `lambdas/handlers/render.ts`,
 * each consuming its own lane's queue. A job names its lane, so the functions differ only in timeout,
 * memory and batching, never in code or environment.
 *
 * Failures are reported per message (`ReportBatchItemFailures`): a job that threw goes back to its
 * queue alone, and after `MAX_RECEIVE_COUNT` receives into the lane's dead-letter queue, which alarms.
 * The queue's visibility timeout is six times the function timeout (`visibilityTimeoutSeconds`).
 */
export class RenderWorkers extends Construct {
  public readonly functions: Readonly<Record<WorkLane, IFunction>>;

  constructor(scope: Construct, id: string, props: RenderWorkersProps) {
    super(scope, id);

    const workers = mapLanes(
      (lane) =>
        new ApertureFunction(this, lane, {
          handlerFile: 'render.ts',
          description: `Aperture render (${lane} lane): makes an image's ${lane} with sharp`,
          environment: props.environment,
          memorySize: RENDER_MEMORY_MB[lane],
          timeout: Duration.seconds(RENDER_TIMEOUT_SECONDS[lane]),
          ...telemetryOf(props),
          sharpLayer: props.sharpLayer,
        }),
    );

    for (const lane of WORK_LANES) {
      const worker = workers[lane];

      // Adds the event source mapping and grants exactly the consume actions on this lane's queue.
      worker.function.addEventSource(
        new SqsEventSource(props.queues[lane].queue, {
          ...RENDER_EVENT_SOURCES[lane],
          reportBatchItemFailures: true,
        }),
      );

      grantRenderWork(worker, props, [lane]);
    }

    this.functions = mapLanes((lane) => workers[lane].function);
  }
}

/** What a render worker is given to work with: the originals, the catalog, and the enrichment lane if on. */
export type RenderWorkProps = Pick<RenderWorkersProps, 'imageBucket' | 'table' | 'enrichmentQueue'>;

/**
 * What a worker rendering the jobs of `lanes` may do, and nothing more: a lane's worker gets its own
 * lane's; the bulk renderer, which takes jobs of every lane (lib/bulk-import.ts), gets them all.
 */
export function grantRenderWork(
  worker: ApertureFunction,
  props: RenderWorkProps,
  lanes: readonly WorkLane[],
): void {
  // Read the original, write derivatives: no delete, no list. (Without s3:ListBucket, S3 answers
  // a missing original with 403 AccessDenied rather than 404 NoSuchKey.)
  worker.grantObjectActions(
    props.imageBucket,
    ORIGINALS_PREFIX,
    ['s3:GetObject'],
    'Originals are keyed by their SHA-256 under originals/; a render worker may only get objects there.',
  );
  worker.grantObjectActions(
    props.imageBucket,
    DERIVATIVES_PREFIX,
    ['s3:PutObject', 's3:DeleteObject'],
    'Derivatives are content-addressed keys under derived/; a render worker only puts objects there, and removes what it put for an image deleted meanwhile.',
  );

  // Reading an image and recording its variants (conditional updates). The thumbnails lane also
  // files the image's fingerprint for each owner: it queries the image's holders and writes the
  // owners' index entries in batches.
  const thumbnails = lanes.includes('thumbnails');
  const fingerprints = thumbnails ? ['dynamodb:Query', 'dynamodb:BatchWriteItem'] : [];
  worker.grantTableActions(props.table, 'dynamodb:GetItem', 'dynamodb:UpdateItem', ...fingerprints);

  if (thumbnails && props.enrichmentQueue) {
    // After an image's thumbnails: its analysis image (put, or removed again for an image deleted
    // meanwhile), then its enrichment job.
    worker.grantObjectActions(
      props.imageBucket,
      ANALYSIS_PREFIX,
      ['s3:PutObject', 's3:DeleteObject'],
      'Analysis images are keyed by their image hash under analysis/; the thumbnails lane writes them there only.',
    );
    props.enrichmentQueue.grant(worker.function, 'sqs:SendMessage');
  }
}
