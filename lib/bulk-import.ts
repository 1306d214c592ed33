import { Arn, ArnFormat, Duration, Fn, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IFunction, type ILayerVersion, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  ItemBatcher,
  LogLevel,
  QueryLanguage,
  ResultWriterV2,
  S3ObjectsItemReader,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  BULK_RENDER_MAX_CONCURRENCY,
  ENV,
  IMPORT_BATCH_SIZE,
  IMPORT_MAX_CONCURRENCY,
  IMPORT_MEMORY_MB,
  IMPORT_TIMEOUT_SECONDS,
  IMPORT_TOLERATED_FAILURE_PERCENTAGE,
  MAX_RECEIVE_COUNT,
  ORIGINALS_PREFIX,
  RENDER_MEMORY_MB,
  RENDER_TIMEOUT_SECONDS,
  visibilityTimeoutSeconds,
} from '../lambdas/contract.js';
import { WORK_LANES } from '../lambdas/core/render-jobs.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import { acknowledgeWildcardResource } from './nag.js';
import { grantRenderWork } from './render-workers.js';

/** How long an import's result files are kept: time to read every rejection, well past any redrive. */
export const IMPORT_RESULTS_DAYS = 90;

/**
 * The errors a batch is run again on: the import function's own "some objects failed for now"
 * (`RetryableError`; what it decided is a no-op the second time) and Lambda refusing the invocation
 * for lack of concurrency. Lambda's other transient errors are retried by the task itself
 * (`retryOnServiceExceptions`). A `ValidationError` (not a batch) would fail the same way again.
 */
export const IMPORT_RETRIED_ERRORS = ['RetryableError', 'Lambda.TooManyRequestsException'] as const;

/** Attempts of a batch in all, its first included: with the backoff, some two minutes of waiting. */
const IMPORT_BATCH_ATTEMPTS = 4;

/**
 * What each batch is told (the Distributed Map's `BatchInput`), from the execution input
 * `{bucket, prefix?, owner, collection?}`. A field of `BatchInput` cannot be left out when its value
 * is missing, so an import into a collection runs a map of its own (`INTO_COLLECTION`).
 */
const BATCH_INPUT = {
  importId: '{% $states.context.Execution.Name %}',
  bucket: '{% $states.input.bucket %}',
  owner: '{% $states.input.owner %}',
} as const;

/** The two maps' names and labels (a map run's name starts with its label). */
export const IMPORT_MAPS = { objects: 'ImportObjects', intoCollection: 'ImportIntoCollection' } as const;

/** Whether the execution input names a collection: the choice between the two maps. */
const INTO_COLLECTION = '{% $exists($states.input.collection) %}';

/**
 * The source listing, bucket and prefix from the execution input. CDK would let a reader whose bucket
 * is only known at run time list every bucket (`s3:ListBucket` on `*`); here the state machine may
 * list the allowed sources only, granted one by one (`BulkImport.addSource`).
 */
class AllowedSourceListing extends S3ObjectsItemReader {
  constructor() {
    super({
      bucketNamePath: '{% $states.input.bucket %}',
      prefix: "{% $exists($states.input.prefix) ? $states.input.prefix : '' %}",
    });
  }

  override providePolicyStatements(): PolicyStatement[] {
    return [];
  }
}

/** The bounds of every import and of its rendering (`ImagePipelineProps.importLimits`). */
export interface ImportLimits {
  /** Batches imported at once (the map's `MaxConcurrency`). @default IMPORT_MAX_CONCURRENCY (40) */
  readonly maxConcurrency?: number;
  /**
   * The share of batches, in percent, that may fail (after their retries) before the import stops.
   * @default IMPORT_TOLERATED_FAILURE_PERCENTAGE (5)
   */
  readonly toleratedFailurePercentage?: number;
  /**
   * Invocations at once of the bulk render function (its event source's `maxConcurrency`, 2 to 1,000).
   * @default BULK_RENDER_MAX_CONCURRENCY (10)
   */
  readonly bulkRenderMaxConcurrency?: number;
}

export interface BulkImportProps extends FunctionTelemetryProps, ImportLimits {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly sharpLayer: ILayerVersion;
  /** Receives the results bucket's access logs. */
  readonly logBucket: IBucket;
  /** The enrichment lane's queue, when enrichment is on: imported thumbnails feed it as the thumbnails lane's do. */
  readonly enrichmentQueue?: IQueue | undefined;
  /** Of the results bucket and the state machine's log group. */
  readonly removalPolicy: RemovalPolicy;
  /** The buckets an import may read (never write); more with `addSource`. */
  readonly sources: readonly IBucket[];
}

/**
 * Server-side import of a library already in S3 (docs/deployment.md, "Importing a library from S3"): a Standard
 * state machine running one Distributed Map (with a collection or without) over the source objects,
 * listed by S3 (ListObjectsV2 under a prefix), in batches of `IMPORT_BATCH_SIZE` given to the import function
 * (`lambdas/handlers/import-batch.ts`), which judges each object with ingest's own code and stores
 * the original. Each batch's results (every rejection with its key and reason) are written to the
 * results bucket by the map's ResultWriter. A failed or stopped import is resumed by redriving the
 * execution (Standard workflows allow it for 14 days): only the batches not done run again, and an
 * object already decided is only reported.
 *
 * Imports render apart from app uploads: every render job of an import goes to one bulk queue,
 * consumed by a render function whose event source runs at most `bulkRenderMaxConcurrency`
 * invocations at once, so a library of millions never takes the concurrency the upload lanes need.
 */
export class BulkImport extends Construct {
  public readonly stateMachine: StateMachine;
  /** Where each import's result files go, under `imports/{execution}/…` (see the execution's output). */
  public readonly resultsBucket: IBucket;
  public readonly importFunction: IFunction;
  /** Every render job of every import, whatever its lane. */
  public readonly bulkQueue: IQueue;
  public readonly bulkDeadLetterQueue: IQueue;
  public readonly bulkRenderFunction: IFunction;
  private readonly importer: ApertureFunction;

  constructor(scope: Construct, id: string, props: BulkImportProps) {
    super(scope, id);

    this.bulkDeadLetterQueue = new Queue(this, 'BulkDlq', {
      // The longest SQS allows: time to notice the alarm, fix the cause and redrive.
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
    });
    this.bulkQueue = new Queue(this, 'BulkQueue', {
      // A bulk job may be a variants job, the slowest lane's.
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds('variants')),
      deadLetterQueue: { queue: this.bulkDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
    });

    const renderer = new ApertureFunction(this, 'BulkRender', {
      handlerFile: 'render.ts',
      description: 'Aperture bulk render: makes the thumbnails and variants of imported images with sharp',
      environment: props.environment,
      // Any job of any lane: the variants lane's, the larger of both.
      memorySize: RENDER_MEMORY_MB.variants,
      timeout: Duration.seconds(RENDER_TIMEOUT_SECONDS.variants),
      ...telemetryOf(props),
      sharpLayer: props.sharpLayer,
    });
    this.bulkRenderFunction = renderer.function;
    // One job per invocation, as the variants lane takes them: any job may be a variants job. The cap
    // is the event source's, never reserved concurrency (see RENDER_EVENT_SOURCES for why).
    renderer.function.addEventSource(
      new SqsEventSource(this.bulkQueue, {
        batchSize: 1,
        maxBatchingWindow: Duration.seconds(0),
        maxConcurrency: props.bulkRenderMaxConcurrency ?? BULK_RENDER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );
    grantRenderWork(renderer, props, WORK_LANES);

    this.importer = new ApertureFunction(this, 'Import', {
      handlerFile: 'import-batch.ts',
      description: 'Aperture import: judges a batch of a library in S3 as ingest judges uploads',
      environment: { ...props.environment, [ENV.bulkQueueUrl]: this.bulkQueue.queueUrl },
      memorySize: IMPORT_MEMORY_MB,
      timeout: Duration.seconds(IMPORT_TIMEOUT_SECONDS),
      ...telemetryOf(props),
      sharpLayer: props.sharpLayer,
    });
    this.importFunction = this.importer.function;
    // Ingest's grants (lib/ingest.ts) but for the upload bucket, which an import never touches.
    this.importer.grantObjectActions(
      props.imageBucket,
      ORIGINALS_PREFIX,
      ['s3:PutObject'],
      'Originals are keyed by their SHA-256 under originals/; the import function may only put objects there.',
    );
    // Item reads and conditional writes, alone or in TransactWriteItems (which checks the per-item
    // actions), the import's tally (an update) and new owners' index entries, in batches.
    this.importer.grantTableActions(
      props.table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchWriteItem',
    );
    this.bulkQueue.grant(this.importFunction, 'sqs:SendMessage');

    const results = new Bucket(this, 'Results', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      removalPolicy: props.removalPolicy,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3/import-results/',
      lifecycleRules: [
        { id: 'expire-import-results', expiration: Duration.days(IMPORT_RESULTS_DAYS) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.resultsBucket = results;

    // The same map twice, but for what its batches are told: with the collection, or without.
    const importMap = (id: string, batchInput: Record<string, string>) => {
      const importBatch = LambdaInvoke.jsonata(this, `${id}Batch`, {
        lambdaFunction: this.importFunction,
        payloadResponseOnly: true,
      });
      importBatch.addRetry({
        errors: [...IMPORT_RETRIED_ERRORS],
        interval: Duration.seconds(10),
        backoffRate: 3,
        maxAttempts: IMPORT_BATCH_ATTEMPTS - 1,
      });
      return DistributedMap.jsonata(this, id, {
        itemReader: new AllowedSourceListing(),
        itemBatcher: new ItemBatcher({ maxItemsPerBatch: IMPORT_BATCH_SIZE, batchInput }),
        maxConcurrency: props.maxConcurrency ?? IMPORT_MAX_CONCURRENCY,
        toleratedFailurePercentage: props.toleratedFailurePercentage ?? IMPORT_TOLERATED_FAILURE_PERCENTAGE,
        resultWriterV2: new ResultWriterV2({ bucket: results, prefix: 'imports' }),
        // Standard children: a batch's attempts may together outlast an Express child's five minutes.
        mapExecutionType: StateMachineType.STANDARD,
        label: id,
      }).itemProcessor(importBatch);
    };
    const start = Choice.jsonata(this, 'IntoCollection')
      .when(
        Condition.jsonata(INTO_COLLECTION),
        importMap(IMPORT_MAPS.intoCollection, {
          ...BATCH_INPUT,
          collection: '{% $states.input.collection %}',
        }),
      )
      .otherwise(importMap(IMPORT_MAPS.objects, BATCH_INPUT));

    const tracing = props.tracing === Tracing.ACTIVE;
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(start),
      queryLanguage: QueryLanguage.JSONATA,
      stateMachineType: StateMachineType.STANDARD,
      comment: 'Aperture import: a library in S3, batch by batch, judged as uploads',
      tracingEnabled: tracing,
      logs: {
        destination: new LogGroup(this, 'Logs', {
          retention: props.logRetention,
          removalPolicy: props.removalPolicy,
        }),
        level: LogLevel.ALL,
        // The events, not the owners and keys they carry: the result files have those.
        includeExecutionData: false,
      },
    });
    if (!tracing) {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF2',
        reason:
          "X-Ray follows the pipeline's `tracing` prop, off by default; the map run's console, metrics and result files show each batch.",
      });
    }
    this.acknowledgeStateMachineWildcards(results, Object.values(IMPORT_MAPS));

    for (const source of props.sources) this.addSource(source);
  }

  /** The wildcards CDK writes into the state machine's role, each scoped as narrowly as IAM allows. */
  private acknowledgeStateMachineWildcards(results: IBucket, labels: readonly string[]): void {
    const stack = Stack.of(this);
    const machine = this.stateMachine;
    acknowledgeWildcardResource(
      machine,
      '*',
      "CloudWatch Logs' log-delivery actions (and X-Ray's, when traced) support no resource-level permissions.",
    );
    acknowledgeWildcardResource(
      machine,
      `${this.importFunction.functionArn}:*`,
      "LambdaInvoke grants the import function's versions and aliases besides the function; there are none but $LATEST.",
    );
    acknowledgeWildcardResource(
      machine,
      Arn.format(
        { service: 's3', region: '', account: '', resource: results.bucketName, resourceName: '*' },
        stack,
      ),
      "The map run's ResultWriter writes each import's result files at keys Step Functions chooses, in this bucket of its own.",
    );
    // The Distributed Map's child executions and map runs are named by Step Functions, under this
    // state machine's name and each map's label.
    const name = Fn.select(6, Fn.split(':', machine.stateMachineArn));
    for (const resourceName of [`${name}:*`, ...labels.map((label) => `${name}/${label}:*`)]) {
      acknowledgeWildcardResource(
        machine,
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
        "A Distributed Map starts, describes, stops and redrives its child executions, which Step Functions names under this state machine's executions and map runs.",
      );
    }
  }

  /**
   * Lets imports read one more bucket, and only read it: the state machine lists it, the import
   * function gets its objects (and may list it, so a key deleted since the listing is a 404, skipped,
   * not a 403 retried). Nothing may write or delete there.
   */
  addSource(bucket: IBucket): void {
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    this.importFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    this.importer.grantObjectActions(
      bucket,
      '',
      ['s3:GetObject'],
      'An import reads any object of an allowed source bucket (the prefix is chosen per import), and only reads.',
    );
    bucket.encryptionKey?.grantDecrypt(this.importFunction);
  }
}
