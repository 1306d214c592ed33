import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  cloudfront: CloudFrontClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
}

type Environment = Record<string, string | undefined>;

/**
 * Region and, only when an endpoint is overridden (the local twin), the static credentials named in
 * the environment passed in. In Lambda no override is set and the SDK's own credential chain applies.
 */
function commonConfig(env: Environment, endpoint: string | undefined) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  const local = endpoint && accessKeyId && secretAccessKey;
  return {
    region: env.AWS_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN } } : {}),
  };
}

/**
 * Builds the SDK clients once per cold start. The standard `AWS_ENDPOINT_URL_{S3,DYNAMODB,SQS}`
 * variables point them at the local twin; in Lambda they are unset and the SDK finds AWS itself.
 */
export function createAwsClients(env: Environment): AwsClients {
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3;
  return {
    // Global service; no twin emulates it (the local CDN caches nothing to invalidate).
    cloudfront: new CloudFrontClient({ region: env.AWS_REGION }),
    s3: new S3Client({
      ...commonConfig(env, s3Endpoint),
      forcePathStyle: Boolean(s3Endpoint),
      // Checksums only where S3 demands them: the default (WHEN_SUPPORTED) signs an empty-body CRC
      // into presigned PUT URLs, which then reject every real upload.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    dynamo: DynamoDBDocumentClient.from(
      new DynamoDBClient(commonConfig(env, env.AWS_ENDPOINT_URL_DYNAMODB)),
      {
        marshallOptions: { removeUndefinedValues: true },
      },
    ),
    sqs: new SQSClient(commonConfig(env, env.AWS_ENDPOINT_URL_SQS)),
    secrets: new SecretsManagerClient({ region: env.AWS_REGION }),
  };
}
