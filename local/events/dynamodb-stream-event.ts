import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * The event Lambda's DynamoDB event source mapping builds from stream records, as the local runtime
 * and the tests hand it to the announce handler: the same fields, the creation time in epoch
 * seconds as Lambda gives it (GetRecords gives a date).
 */
export function dynamoDbStreamEvent(
  records: readonly StreamRecord[],
  streamArn: string,
): DynamoDBStreamEvent {
  return { Records: records.map((record) => lambdaRecord(record, streamArn)) };
}

function lambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const { dynamodb = {} } = record;
  const created = dynamodb.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      Keys: dynamodb.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      NewImage: dynamodb.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      OldImage: dynamodb.OldImage as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'],
      SequenceNumber: dynamodb.SequenceNumber,
      SizeBytes: dynamodb.SizeBytes,
      StreamViewType: dynamodb.StreamViewType,
    },
  };
}
