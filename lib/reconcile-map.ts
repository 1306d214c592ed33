import { ArnFormat, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { IDistribution } from 'aws-cdk-lib/aws-cloudfront';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Errors,
  ItemBatcher,
  JitterType,
  LogLevel,
  Pass,
  Result,
  ResultWriterV2,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  ANALYSIS_PREFIX,
  DERIVATIVES_PREFIX,
  ORIGINALS_PREFIX,
  RECONCILE_MAX_CONCURRENCY,
  RECONCILE_REPORTS_PREFIX,
  RECONCILE_SLICE_MEMORY_MB,
  RECONCILE_SLICE_TIMEOUT_SECONDS,
  UPLOADS_PREFIX,
} from '../lambdas/contract.js';
import { reconcileSlices } from '../lambdas/core/reconcile-slices.js';
import { WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import { acknowledgeWildcardResource } from './nag.js';
import { ACCESS_LOG_PREFIXES, privateBucketDefaults } from './storage.js';
import type { LaneQueues } from './work-queues.js';

export interface ReconcileMapProps extends FunctionTelemetryProps {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly uploadBucket: IBucket;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly queues: Readonly<Record<WorkLane, LaneQueues>>;
  /** Purging an image has the CDN forget it. */
  readonly distribution: IDistribution;
  /** Receives the reports bucket's access logs. */
  readonly logBucket: IBucket;
}

/** A run that takes longer than this is stuck: 512 slices at 16 at once, each under 15 minutes. */
const RUN_TIMEOUT = Duration.hours(12);
/** Reports are read right after a run; a quarter keeps a few runs to compare. */
const REPORT_RETENTION = Duration.days(90);

/**
 * `aperture reconcile` at scale: a Standard state machine whose Distributed Map runs every slice
 * (`lambdas/core/reconcile-slices.ts`: 256 key shards and the catalog scan's segments) through the
 * slice function, `RECONCILE_MAX_CONCURRENCY` at once, each slice's report written by the map's
 * ResultWriter to a bucket of its own (`reportBucket`, under `RECONCILE_REPORTS_PREFIX`): the
 * ResultWriter's grant covers a whole bucket, and the image bucket's originals are no place for it.
 *
 * A dry run unless the execution input says `{"fix": true}`. The two are two functions: the audit's
 * role can only read, so a dry run cannot change anything whatever its input; only the repair
 * function's role may write, and only what the repairs write.
 *
 * The slices are a list in the definition (a Pass state's result), not an ItemReader: they are a
 * fixed 512, known at synth, and a list needs no object to be written before a run nor a grant to
 * read it.
 */
export class ReconcileMap extends Construct {
  public readonly stateMachine: StateMachine;
  /** Each run's slice reports (`ResultWriter`): private, TLS-only, SSE-S3, expired after 90 days. */
  public readonly reportBucket: IBucket;
  /** Audits a slice; may only read the catalog and the buckets. */
  public readonly auditFunction: IFunction;
  /** Audits a slice and repairs what still holds on a second look. */
  public readonly repairFunction: IFunction;

  constructor(scope: Construct, id: string, props: ReconcileMapProps) {
    super(scope, id);
    const sliceFunction = (functionId: string, description: string) =>
      new ApertureFunction(this, functionId, {
        handlerFile: 'reconcile-slice.ts',
        description,
        environment: props.environment,
        memorySize: RECONCILE_SLICE_MEMORY_MB,
        timeout: Duration.seconds(RECONCILE_SLICE_TIMEOUT_SECONDS),
        ...telemetryOf(props),
      });
    const audit = sliceFunction('Audit', 'Aperture reconcile: audits one slice, reading only');
    const repair = sliceFunction('Repair', 'Aperture reconcile --fix: audits one slice and repairs it');
    for (const fn of [audit, repair]) grantAudit(fn, props);
    grantRepairs(repair, props);
    this.auditFunction = audit.function;
    this.repairFunction = repair.function;

    this.reportBucket = new Bucket(this, 'Reports', {
      ...privateBucketDefaults(props.removalPolicy),
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: ACCESS_LOG_PREFIXES.reconcileReports,
      lifecycleRules: [{ id: 'expire-reports', expiration: REPORT_RETENTION }],
    });

    const slices = new Pass(this, 'Slices', {
      comment: 'Every slice of a whole reconcile: 256 key shards, then the scan segments',
      result: Result.fromArray(reconcileSlices()),
      resultPath: '$.slices',
    });
    const auditMap = this.sliceMap('Audit slices', audit.function, false);
    const repairMap = this.sliceMap('Repair slices', repair.function, true);
    const definition = slices.next(
      new Choice(this, 'Fix?')
        .when(
          Condition.and(
            Condition.isPresent('$.fix'),
            Condition.isBoolean('$.fix'),
            Condition.booleanEquals('$.fix', true),
          ),
          repairMap,
        )
        .otherwise(auditMap),
    );

    const logs = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: RUN_TIMEOUT,
      comment: 'Aperture reconcile over every slice; input {"fix": true} repairs, anything else is a dry run',
      // Every state's events, without their data: a slice's result names images and owners.
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: props.tracing === Tracing.ACTIVE,
    });
    this.acknowledgeStateMachineGrants(props.tracing === Tracing.ACTIVE);
  }

  private sliceMap(name: string, fn: IFunction, fix: boolean): DistributedMap {
    const invoke = new LambdaInvoke(this, `${name}: one slice`, {
      lambdaFunction: fn,
      outputPath: '$.Payload',
    });
    // A malformed batch fails the same way every time; anything else (a throttled table, a Lambda
    // timeout) is retried, as auditing is reading and every repair is conditional.
    invoke.addRetry({ errors: ['ValidationError'], maxAttempts: 0 });
    invoke.addRetry({
      errors: [Errors.ALL],
      interval: Duration.seconds(10),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: JitterType.FULL,
    });
    const map = new DistributedMap(this, name, {
      itemsPath: '$.slices',
      // One slice per child execution: a slice's work is what fits one invocation.
      itemBatcher: new ItemBatcher({ maxItemsPerBatch: 1, batchInput: { fix } }),
      maxConcurrency: RECONCILE_MAX_CONCURRENCY,
      // A failed slice leaves the report incomplete: the run fails (and alarms) rather than pass.
      // 0 is also Step Functions' default, so CDK leaves the field out of the definition.
      toleratedFailurePercentage: 0,
      // Slices may run up to Lambda's 15 minutes, past an Express child's 5.
      mapExecutionType: StateMachineType.STANDARD,
      resultWriterV2: new ResultWriterV2({ bucket: this.reportBucket, prefix: RECONCILE_REPORTS_PREFIX }),
      label: fix ? 'RepairSlices' : 'AuditSlices',
    });
    map.itemProcessor(invoke);
    return map;
  }

  private acknowledgeStateMachineGrants(traced: boolean): void {
    const role = this.stateMachine.role;
    for (const fn of [this.auditFunction, this.repairFunction]) {
      acknowledgeWildcardResource(
        role,
        `${fn.functionArn}:*`,
        'Invoking the function by any of its versions: CDK grants its ARN with `:*` for LambdaInvoke.',
      );
    }
    // CDK names the bucket in this grant by its name, not its ARN attribute.
    acknowledgeWildcardResource(
      role,
      Stack.of(this).formatArn({
        service: 's3',
        region: '',
        account: '',
        resource: this.reportBucket.bucketName,
        resourceName: '*',
      }),
      "The ResultWriter writes each run's reports at keys Step Functions names per run, in a bucket that holds nothing else.",
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "Delivering the state machine's logs to CloudWatch Logs: the log delivery actions support no resource-level permissions.",
    });
    // The map starts its child executions of this state machine, then describes, stops and redrives
    // them: their ARNs exist only at run time, under the state machine's name (and each map's label).
    const name = Fn.select(6, Fn.split(':', this.stateMachine.stateMachineArn));
    for (const suffix of ['', '/AuditSlices', '/RepairSlices']) {
      acknowledgeWildcardResource(
        this.stateMachine,
        Stack.of(this).formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${name}${suffix}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
        "A Distributed Map's child executions of this very state machine, named only at run time.",
      );
    }
    if (!traced) {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF2',
        reason: "X-Ray tracing follows the pipeline's `tracing` prop, off by default as for every function.",
      });
    }
  }
}

/**
 * What auditing a slice reads: the catalog (a segment's scan, records, holders), the listings of
 * originals, derivatives and uploads, and originals' metadata (HEAD needs s3:GetObject).
 */
function grantAudit(fn: ApertureFunction, props: ReconcileMapProps): void {
  fn.grantTableActions(props.table, 'dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:Query');
  fn.grantListing(props.imageBucket, ORIGINALS_PREFIX);
  fn.grantListing(props.imageBucket, DERIVATIVES_PREFIX);
  fn.grantListing(props.uploadBucket, UPLOADS_PREFIX);
  fn.grantObjectActions(
    props.imageBucket,
    ORIGINALS_PREFIX,
    ['s3:GetObject'],
    "A segment checks that each image's original is there (HEAD); originals are only under originals/.",
  );
}

/**
 * What the repairs write: conditional updates of records (counts, marks, variant plans, failed
 * images, abandoned uploads), removal of dangling links (a transaction with a condition check) and
 * purged records; removal of orphans' and purged images' objects and of abandoned upload bytes;
 * render jobs for variants to render again; the CDN forgetting a purged image.
 */
function grantRepairs(fn: ApertureFunction, props: ReconcileMapProps): void {
  fn.grantTableActions(
    props.table,
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  );
  for (const prefix of [ORIGINALS_PREFIX, DERIVATIVES_PREFIX, ANALYSIS_PREFIX]) {
    fn.grantObjectActions(
      props.imageBucket,
      prefix,
      ['s3:DeleteObject'],
      `Orphans and purged images' objects are under ${prefix} at keys derived from their hash; repairs delete only there.`,
    );
  }
  fn.grantObjectActions(
    props.uploadBucket,
    UPLOADS_PREFIX,
    ['s3:DeleteObject'],
    'Abandoned upload bytes are under uploads/ only.',
  );
  for (const lane of WORK_LANES) props.queues[lane].queue.grant(fn.function, 'sqs:SendMessage');
  props.distribution.grantCreateInvalidation(fn.function);
}
