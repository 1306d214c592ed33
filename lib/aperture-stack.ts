import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ImagePipeline, type ImagePipelineProps } from './image-pipeline.js';

export interface ApertureStackProps extends StackProps {
  readonly pipeline?: ImagePipelineProps;
  /**
   * Buckets, by name, that imports may read (read-only), besides `pipeline.importSources`: the way
   * to name them from CDK context (`-c importSources=my-library`).
   * @default - none
   */
  readonly importSourceBucketNames?: string[];
}

/** The deployable unit: one ImagePipeline and the outputs an operator or an app needs from it. */
export class ApertureStack extends Stack {
  public readonly pipeline: ImagePipeline;

  constructor(scope: Construct, id: string, props: ApertureStackProps = {}) {
    super(scope, id, props);
    const importSources = [
      ...(props.pipeline?.importSources ?? []),
      ...(props.importSourceBucketNames ?? []).map((name) =>
        Bucket.fromBucketName(this, `ImportSource-${name}`, name),
      ),
    ];
    this.pipeline = new ImagePipeline(this, 'Pipeline', { ...props.pipeline, importSources });

    new CfnOutput(this, 'ApiUrl', { value: this.pipeline.apiUrl, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'CdnDomainName', {
      value: this.pipeline.distribution.distributionDomainName,
      description: 'CloudFront domain serving the derivatives',
    });
    new CfnOutput(this, 'CdnBaseUrl', {
      value: this.pipeline.cdnBaseUrl,
      description: 'Base of every image URL',
    });
    new CfnOutput(this, 'UploadBucketName', { value: this.pipeline.uploadBucket.bucketName });
    new CfnOutput(this, 'ImageBucketName', { value: this.pipeline.imageBucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.pipeline.table.tableName });
    new CfnOutput(this, 'EventBusName', {
      value: this.pipeline.eventBus.eventBusName,
      description: "Where the pipeline's events go (docs/events.md)",
    });
    new CfnOutput(this, 'ReconcileStateMachineArn', {
      value: this.pipeline.reconcile.stateMachine.stateMachineArn,
      description:
        'Reconcile at scale: start it with {} (dry run) or {"fix": true} (docs/operations.md#reconcile)',
    });
    new CfnOutput(this, 'WebhookDeliveryQueueUrl', {
      value: this.pipeline.webhooks.deliveryQueue.queueUrl,
      description: 'aperture webhooks replay --webhook-queue-url',
    });
    new CfnOutput(this, 'WebhookDeadLetterQueueUrl', {
      value: this.pipeline.webhooks.deliveryDeadLetterQueue.queueUrl,
      description: 'aperture webhooks replay --webhook-dlq-url',
    });
    const bulkImport = this.pipeline.bulkImport;
    if (bulkImport) {
      new CfnOutput(this, 'ImportStateMachineArn', {
        value: bulkImport.stateMachine.stateMachineArn,
        description: 'aperture import: the state machine each import is an execution of',
      });
      new CfnOutput(this, 'ImportResultsBucketName', {
        value: bulkImport.resultsBucket.bucketName,
        description: "Each import's result files, every rejection with its key and reason",
      });
      new CfnOutput(this, 'BulkQueueUrl', {
        value: bulkImport.bulkQueue.queueUrl,
        description: "Imports' render jobs, rendered at a capped concurrency",
      });
    }
  }
}
