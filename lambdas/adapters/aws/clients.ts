import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  s3: S3Client;
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/**
 * Builds the SDK clients once per cold start. The standard `AWS_ENDPOINT_URL_{S3,DYNAMODB,SQS}`
 * variables point them at the local twin; in Lambda they are unset and the SDK finds AWS itself.
 */
export function createAwsClients(env: Record<string, string | undefined>): AwsClients {
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3;
  return {
    s3: new S3Client({
      ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {}),
      // Checksums only where S3 demands them: the default (WHEN_SUPPORTED) signs an empty-body CRC
      // into presigned PUT URLs, which then reject every real upload.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sqs: new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS }),
  };
}
