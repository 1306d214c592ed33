import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  type IBucket,
  type LifecycleRule,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { UPLOADS_PREFIX } from '../lambdas/contract.js';

/** Where each source's access logs go inside the log bucket. */
export const ACCESS_LOG_PREFIXES = {
  uploadBucket: 's3/uploads/',
  imageBucket: 's3/images/',
  cdn: 'cloudfront/',
  reconcileReports: 's3/reconcile-reports/',
} as const;

export interface ImageStorageProps {
  readonly removalPolicy: RemovalPolicy;
  /** Origins allowed to POST/PUT uploads (and multipart uploads' parts) from a browser. */
  readonly allowedOrigins: string[];
  /** Days before an incomplete multipart upload to the upload bucket is aborted (`settings.multipartUploadDays`). */
  readonly multipartUploadDays: number;
  /** How long access logs are kept; follows the pipeline's log retention. */
  readonly logRetention: RetentionDays;
  readonly uploadBucket?: IBucket;
  readonly imageBucket?: IBucket;
}

/** A multipart upload that never completes still bills for its parts until it is aborted. */
const abortIncompleteUploads = (days: number): LifecycleRule => ({
  id: 'abort-incomplete-multipart-uploads',
  abortIncompleteMultipartUploadAfter: Duration.days(days),
});

/** Nothing but the API's multipart uploads goes to a bucket in parts: the others' rule is a safety net. */
const ABORT_OTHER_UPLOADS_DAYS = 1;

/**
 * The pipeline's buckets: uploads land in one, originals and derivatives live in the other, and a third
 * keeps the access logs of both and of the CDN.
 *
 * All three are private (BLOCK_ALL), TLS-only and encrypted with SSE-S3. Not SSE-KMS: CloudFront's OAC
 * could only read KMS-encrypted derivatives with a key policy naming the distribution, a per-request
 * KMS cost on every cache miss, and little gain: derivatives are published through the CDN anyway,
 * and everything else is reachable only through IAM grants already. Versioning stays off: uploads are transient, originals are
 * content-addressed (a key is never rewritten with other bytes) and derivatives can be re-rendered
 * from them, so old versions would only cost storage.
 */
export class ImageStorage extends Construct {
  public readonly uploadBucket: IBucket;
  public readonly imageBucket: IBucket;
  public readonly logBucket: IBucket;

  constructor(scope: Construct, id: string, props: ImageStorageProps) {
    super(scope, id);

    const logBucket = new Bucket(this, 'AccessLogs', {
      ...privateBucketDefaults(props.removalPolicy),
      // CloudFront standard logging still writes through an ACL grant to its log-delivery account.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [
        abortIncompleteUploads(ABORT_OTHER_UPLOADS_DAYS),
        ...(props.logRetention === RetentionDays.INFINITE
          ? []
          : [{ id: 'expire-access-logs', expiration: Duration.days(props.logRetention) }]),
      ],
    });
    Validations.of(logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging its own accesses into itself would loop.',
    });
    this.logBucket = logBucket;

    this.uploadBucket =
      props.uploadBucket ??
      new Bucket(this, 'Uploads', {
        ...privateBucketDefaults(props.removalPolicy),
        serverAccessLogsBucket: logBucket,
        serverAccessLogsPrefix: ACCESS_LOG_PREFIXES.uploadBucket,
        // Browsers send the bytes straight to S3 with the presigned POST form, PUT URL or part URLs. The
        // signature, not the origin, is what authorises an upload; CORS only lets the page read S3's
        // answer, and a multipart upload needs each part's ETag from it.
        cors: [
          {
            allowedMethods: [HttpMethods.POST, HttpMethods.PUT],
            allowedOrigins: props.allowedOrigins,
            allowedHeaders: ['*'],
            exposedHeaders: ['ETag'],
            maxAge: Duration.hours(1).toSeconds(),
          },
        ],
        lifecycleRules: [
          abortIncompleteUploads(props.multipartUploadDays),
          // An upload is only the way in: ingest writes accepted bytes to the image bucket, so whatever
          // is still here well after it could last have arrived is done with or abandoned, and must not
          // be paid for forever. A multipart object's age counts from the upload's start, and it may be
          // completed until the upload is aborted: it gets that long and a day more for ingest, on top
          // of S3 rounding both rules up to a midnight UTC.
          {
            id: 'expire-stale-uploads',
            prefix: UPLOADS_PREFIX,
            expiration: Duration.days(props.multipartUploadDays + 1),
          },
        ],
      });

    this.imageBucket =
      props.imageBucket ??
      new Bucket(this, 'Images', {
        ...privateBucketDefaults(props.removalPolicy),
        serverAccessLogsBucket: logBucket,
        serverAccessLogsPrefix: ACCESS_LOG_PREFIXES.imageBucket,
        lifecycleRules: [abortIncompleteUploads(ABORT_OTHER_UPLOADS_DAYS)],
      });
  }
}

/**
 * With RemovalPolicy.DESTROY a bucket is deleted only when empty: emptying it is left to the operator
 * rather than to an auto-delete custom resource that could wipe images on a mistaken stack update.
 */
export function privateBucketDefaults(removalPolicy: RemovalPolicy) {
  return {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    encryption: BucketEncryption.S3_MANAGED,
    versioned: false,
    removalPolicy,
  };
}
