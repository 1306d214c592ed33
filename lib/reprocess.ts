import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DERIVATIVES_PREFIX,
  REPROCESS_INTERVAL_HOURS,
  REPROCESS_MEMORY_MB,
  REPROCESS_TIMEOUT_SECONDS,
} from '../lambdas/contract.js';
import { WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import type { LaneQueues } from './work-queues.js';

export interface ReprocessProps extends FunctionTelemetryProps {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly queues: Readonly<Record<WorkLane, LaneQueues>>;
}

/**
 * Reprocess, scheduled: keeps every image on the current variant set without an operator. The
 * reprocess function (`lambdas/handlers/reprocess.ts`, what `aperture reprocess` does) runs every
 * hour. A run over images already current only reads them, so the schedule costs a scan when there
 * is nothing to do.
 */
export class Reprocess extends Construct {
  public readonly function: IFunction;

  constructor(scope: Construct, id: string, props: ReprocessProps) {
    super(scope, id);
    const reprocess = new ApertureFunction(this, 'Reprocess', {
      handlerFile: 'reprocess.ts',
      description:
        'Aperture reprocess: moves images to the current variant set, queuing only what is missing',
      environment: props.environment,
      memorySize: REPROCESS_MEMORY_MB,
      timeout: Duration.seconds(REPROCESS_TIMEOUT_SECONDS),
      ...telemetryOf(props),
    });
    this.function = reprocess.function;

    // Reading every image, moving its record (compare-and-set), listing what is stored of it.
    reprocess.grantTableActions(props.table, 'dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    reprocess.grantListing(props.imageBucket, DERIVATIVES_PREFIX);
    for (const lane of WORK_LANES) props.queues[lane].queue.grant(this.function, 'sqs:SendMessage');

    new Rule(this, 'Hourly', {
      description: 'Aperture: finish moving images to the current variant set',
      schedule: Schedule.rate(Duration.hours(REPROCESS_INTERVAL_HOURS)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
