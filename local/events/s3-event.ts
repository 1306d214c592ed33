import type { S3Event } from 'aws-lambda';

/**
 * An S3 ObjectCreated notification as S3 delivers it to Lambda: one record, the key URL-encoded
 * (spaces as `+`), as the local runtime and the tests hand it to the ingest handler.
 */
export function objectCreatedEvent(
  object: { bucket: string; key: string; size: number; eTag?: string; eventName?: string },
  region = 'us-east-1',
): S3Event {
  const encodedKey = encodeURIComponent(object.key).replace(/%20/g, '+').replace(/%2F/g, '/');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName: object.eventName ?? 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:LOCAL' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'LOCAL', 'x-amz-id-2': 'LOCAL' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'aperture-ingest',
          bucket: {
            name: object.bucket,
            ownerIdentity: { principalId: 'LOCAL' },
            arn: `arn:aws:s3:::${object.bucket}`,
          },
          object: {
            key: encodedKey,
            size: object.size,
            eTag: object.eTag ?? '',
            sequencer: Date.now().toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  };
}
