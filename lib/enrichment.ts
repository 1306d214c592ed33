import { Arn, ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction, ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { CfnIndex, CfnVectorBucket } from 'aws-cdk-lib/aws-s3vectors';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ANALYSIS_PREFIX,
  ENRICHMENT_BATCH_SIZE,
  ENRICHMENT_MEMORY_MB,
  ENRICHMENT_TIMEOUT_SECONDS,
  ENRICHMENT_VISIBILITY_TIMEOUT_SECONDS,
  MAX_RECEIVE_COUNT,
} from '../lambdas/contract.js';
import type { VectorIndexLocation } from '../lambdas/core/environment.js';
import type { EnrichmentSettings } from '../lambdas/core/settings.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import { acknowledgeWildcardResource } from './nag.js';

export interface EnrichmentProps {
  /** `settings.enrichment`, enabled: which models run, and whether there is a vector index. */
  readonly settings: EnrichmentSettings;
  readonly removalPolicy: RemovalPolicy;
}

export interface EnrichmentWorkerProps extends FunctionTelemetryProps {
  /** The pipeline's function environment, the enrichment queue and vector index included. */
  readonly environment: Record<string, string>;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly sharpLayer: ILayerVersion;
}

/**
 * The enrichment lane: its queue (with a dead-letter queue), its function, and the S3 Vectors index
 * embeddings are filed in. Created only when `settings.enrichment.enabled`; the queue and index first
 * (every function's environment names them), the worker with `addWorker` once that environment exists.
 */
export class Enrichment extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  /** Absent when embeddings are off. */
  public readonly vectorIndex: VectorIndexLocation | undefined;
  private readonly settings: EnrichmentSettings;

  constructor(scope: Construct, id: string, props: EnrichmentProps) {
    super(scope, id);
    this.settings = props.settings;
    this.deadLetterQueue = new Queue(this, 'Dlq', {
      // The longest SQS allows: time to notice the alarm, fix the cause and redrive.
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(ENRICHMENT_VISIBILITY_TIMEOUT_SECONDS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
    });

    const { embeddings } = props.settings;
    if (embeddings.enabled) {
      const bucket = new CfnVectorBucket(this, 'VectorBucket', {
        encryptionConfiguration: { sseType: 'AES256' },
      });
      bucket.applyRemovalPolicy(props.removalPolicy);
      // One index per model and size: a vector records both, and another model means another index
      // (a new logical id here, so CloudFormation makes it and the upkeep enriches every image again).
      const index = new CfnIndex(this, `Index${embeddings.dimensions}`, {
        vectorBucketArn: bucket.attrVectorBucketArn,
        dataType: 'float32',
        dimension: embeddings.dimensions,
        distanceMetric: 'cosine',
        // Queries filter on the owner; the image id only comes back with a match.
        metadataConfiguration: { nonFilterableMetadataKeys: ['imageId'] },
      });
      index.applyRemovalPolicy(props.removalPolicy);
      this.vectorIndex = { indexArn: index.attrIndexArn };
    }
  }

  /** The enrichment function, consuming the queue: it reads analysis images and calls the models. */
  addWorker(props: EnrichmentWorkerProps): IFunction {
    const worker = new ApertureFunction(this, 'Worker', {
      handlerFile: 'enrich.ts',
      description: 'Aperture enrichment: tags, colours, captions and embeddings of an image',
      environment: props.environment,
      memorySize: ENRICHMENT_MEMORY_MB,
      timeout: Duration.seconds(ENRICHMENT_TIMEOUT_SECONDS),
      ...telemetryOf(props),
      // For the dominant colours, which sharp works out from the analysis image.
      sharpLayer: props.sharpLayer,
    });
    const fn = worker.function;
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: ENRICHMENT_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(0),
        reportBatchItemFailures: true,
      }),
    );
    worker.grantObjectActions(
      props.imageBucket,
      ANALYSIS_PREFIX,
      ['s3:GetObject'],
      'Analysis images are keyed by their image hash under analysis/; the enrichment worker only reads them.',
    );
    // The image record (read, enrichment written), its holders (query), the owners' entries (batch
    // writes) and the stored embedding (put).
    worker.grantTableActions(
      props.table,
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'dynamodb:BatchWriteItem',
      'dynamodb:PutItem',
    );

    const rekognitionActions = ['rekognition:DetectLabels'];
    if (this.settings.moderation.enabled) rekognitionActions.push('rekognition:DetectModerationLabels');
    fn.addToRolePolicy(new PolicyStatement({ actions: rekognitionActions, resources: ['*'] }));
    acknowledgeWildcardResource(
      worker,
      '*',
      "Rekognition's image operations (DetectLabels, DetectModerationLabels) act on no resource, so IAM can only name '*'.",
    );
    const models = [
      ...(this.settings.captions.enabled ? [this.settings.captions.modelId] : []),
      ...(this.settings.embeddings.enabled ? [this.settings.embeddings.modelId] : []),
    ];
    if (models.length > 0) this.grantInvokeModels(fn, models);
    this.grantVectors(fn, 's3vectors:PutVectors');
    return fn;
  }

  /** Text embeddings for `q` (the API's search). */
  grantTextEmbedding(grantee: IGrantable): void {
    if (this.settings.embeddings.enabled) this.grantInvokeModels(grantee, [this.settings.embeddings.modelId]);
  }

  /** Vector actions on this deployment's index, and only there; nothing when there is no index. */
  grantVectors(grantee: IGrantable, ...actions: string[]): void {
    if (!this.vectorIndex) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions, resources: [this.vectorIndex.indexArn] }),
    );
  }

  /**
   * `bedrock:InvokeModel` (which `Converse` needs too) on the named foundation models of this region.
   * A cross-region inference profile id (`us.…`, `eu.…`) is granted as the profile and the model in
   * every region it may route to.
   */
  private grantInvokeModels(grantee: IGrantable, modelIds: readonly string[]): void {
    const stack = Stack.of(this);
    const resources = modelIds.flatMap((modelId) => {
      const profile = /^(us|eu|apac|us-gov|global)\.(.+)$/.exec(modelId);
      if (!profile?.[2]) return [foundationModelArn(stack, modelId, stack.region)];
      return [
        Arn.format({ service: 'bedrock', resource: 'inference-profile', resourceName: modelId }, stack),
        foundationModelArn(stack, profile[2], '*'),
      ];
    });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['bedrock:InvokeModel'], resources }),
    );
  }
}

const foundationModelArn = (stack: Stack, modelId: string, region: string) =>
  Arn.format(
    {
      service: 'bedrock',
      region,
      account: '',
      resource: 'foundation-model',
      resourceName: modelId,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    },
    stack,
  );
