import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  CATALOG_TABLE,
  DERIVATIVES_PREFIX,
  REPROCESS_INTERVAL_HOURS,
  REPROCESS_MEMORY_MB,
  REPROCESS_TIMEOUT_SECONDS,
} from '../lambdas/contract.js';
import { WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import { acknowledgeAwsCustomResourceHandler } from './nag.js';
import type { LaneQueues } from './work-queues.js';

export interface ReprocessProps extends FunctionTelemetryProps {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly queues: Readonly<Record<WorkLane, LaneQueues>>;
  /** The deployment's variant set (`variantSetVersion` of its settings): a deploy changing it starts a run. */
  readonly variantSetVersion: string;
}

/**
 * The upkeep: keeps every image on the current variant set without an operator. The reprocess
 * function (`lambdas/handlers/reprocess.ts`) runs once as soon as a deploy changes the variant set,
 * and every hour after to finish what a run left. It finds the stale images through the catalog's
 * `byVariantSet` index, so with nothing stale a run reads one small item
 * (docs/adr/0012-upkeep-by-variant-set-index.md).
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

    // Reading each stale image and moving its record (compare-and-set), recording the variant sets,
    // finding the stale images in the index, listing what is stored of each.
    reprocess.grantTableActions(props.table, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query', 'dynamodb:Scan'],
        resources: [`${props.table.tableArn}/index/${CATALOG_TABLE.variantSetIndex.name}`],
      }),
    );
    reprocess.grantListing(props.imageBucket, DERIVATIVES_PREFIX);
    for (const lane of WORK_LANES) props.queues[lane].queue.grant(this.function, 'sqs:SendMessage');

    new Rule(this, 'Hourly', {
      description: 'Aperture: finish moving images to the current variant set',
      schedule: Schedule.rate(Duration.hours(REPROCESS_INTERVAL_HOURS)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });

    // CloudFormation updates the resource only when its properties change, and the variant set is
    // one of them: a deploy that changes it invokes the function (asynchronously: a run may take
    // the function's 15 minutes, longer than the deploy should wait), any other deploy does not.
    const invoke: AwsSdkCall = {
      service: 'Lambda',
      action: 'invoke',
      parameters: {
        FunctionName: this.function.functionName,
        InvocationType: 'Event',
        Payload: JSON.stringify({ variantSetVersion: props.variantSetVersion }),
      },
      physicalResourceId: PhysicalResourceId.of(`variant-set-${props.variantSetVersion}`),
    };
    new AwsCustomResource(this, 'OnVariantSetChange', {
      onCreate: invoke,
      onUpdate: invoke,
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
      ]),
      installLatestAwsSdk: false,
    });
    acknowledgeAwsCustomResourceHandler(
      this,
      "CDK's own handler for AwsCustomResource; the managed policy only lets it write its logs, and its one other permission is lambda:InvokeFunction on the reprocess function.",
    );
  }
}
