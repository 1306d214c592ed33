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
  /** The deployment's `upkeepVersion` (lambdas/core/upkeep.ts): a deploy changing it starts a run. */
  readonly upkeepVersion: string;
}

/**
 * The upkeep: keeps every image current without an operator. The reprocess function
 * (`lambdas/handlers/reprocess.ts`) runs once as soon as a deploy changes the upkeep version (the
 * variant set, or what the thumbnails lane derives), and every hour after to finish what a run left
 * and requeue what stalled or failed. It reads only what the catalog's upkeep index holds as
 * outstanding, so with everything settled a run reads no item
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

    // Reading each image the index names and moving or filing its record (compare-and-set).
    reprocess.grantTableActions(props.table, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // Finding those images: queries of the upkeep index, never a scan of anything.
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/${CATALOG_TABLE.upkeepIndex.name}`],
      }),
    );
    // The record of upkeep versions (its items are dated with UpdateItem, granted above), and
    // nothing else in the table, by its partition key.
    this.function.addToRolePolicy(
      upkeepVersionsStatement(props.table, 'dynamodb:Query', 'dynamodb:DeleteItem'),
    );
    reprocess.grantListing(props.imageBucket, DERIVATIVES_PREFIX);
    for (const lane of WORK_LANES) props.queues[lane].queue.grant(this.function, 'sqs:SendMessage');

    new Rule(this, 'Hourly', {
      description: 'Aperture: finish what the upkeep left, requeue what stalled or failed',
      schedule: Schedule.rate(Duration.hours(REPROCESS_INTERVAL_HOURS)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });

    // CloudFormation updates these resources only when their properties change, and the upkeep
    // version is one of them: a deploy that changes it records the new version (so the upkeep knows
    // every version images may be settled on, whatever becomes of the run), then invokes the function
    // (asynchronously: a run may take the function's 15 minutes, longer than the deploy should wait).
    // Any other deploy does neither.
    const version = props.upkeepVersion;
    const record: AwsSdkCall = {
      service: 'DynamoDB',
      action: 'putItem',
      parameters: {
        TableName: props.table.tableName,
        Item: {
          [CATALOG_TABLE.partitionKey]: { S: CATALOG_TABLE.upkeepVersions.partition },
          [CATALOG_TABLE.sortKey]: { S: `${CATALOG_TABLE.upkeepVersions.sortPrefix}${version}` },
        },
      },
      physicalResourceId: PhysicalResourceId.of(`upkeep-version-${version}`),
    };
    const recorded = new AwsCustomResource(this, 'RecordUpkeepVersion', {
      onCreate: record,
      onUpdate: record,
      policy: AwsCustomResourcePolicy.fromStatements([
        upkeepVersionsStatement(props.table, 'dynamodb:PutItem'),
      ]),
      installLatestAwsSdk: false,
    });
    const invoke: AwsSdkCall = {
      service: 'Lambda',
      action: 'invoke',
      parameters: {
        FunctionName: this.function.functionName,
        InvocationType: 'Event',
        Payload: JSON.stringify({ upkeepVersion: version }),
      },
      physicalResourceId: PhysicalResourceId.of(`upkeep-${version}`),
    };
    const started = new AwsCustomResource(this, 'OnUpkeepVersionChange', {
      onCreate: invoke,
      onUpdate: invoke,
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
      ]),
      installLatestAwsSdk: false,
    });
    started.node.addDependency(recorded);
    acknowledgeAwsCustomResourceHandler(
      this,
      "CDK's own handler for AwsCustomResource; the managed policy only lets it write its logs; its other permissions are lambda:InvokeFunction on the reprocess function and dynamodb:PutItem on the upkeep's version records.",
    );
  }
}

/** Item actions on the upkeep's version records only (`dynamodb:LeadingKeys`). */
function upkeepVersionsStatement(table: ITable, ...actions: string[]): PolicyStatement {
  return new PolicyStatement({
    actions,
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CATALOG_TABLE.upkeepVersions.partition] },
    },
  });
}
