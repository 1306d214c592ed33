import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ImagePipeline, type ImagePipelineProps } from './image-pipeline.js';

export interface ApertureStackProps extends StackProps {
  readonly pipeline?: ImagePipelineProps;
}

/** The deployable unit: one ImagePipeline and the outputs an operator or an app needs from it. */
export class ApertureStack extends Stack {
  public readonly pipeline: ImagePipeline;

  constructor(scope: Construct, id: string, props: ApertureStackProps = {}) {
    super(scope, id, props);
    this.pipeline = new ImagePipeline(this, 'Pipeline', props.pipeline);

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
  }
}
