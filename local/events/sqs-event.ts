import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';

/**
 * The SQS event Lambda's event source mapping builds from received messages, as the local runtime
 * and the tests hand it to the render handler. Receive with `MessageSystemAttributeNames: ['All']`
 * so the receive count and timestamps are real.
 */
export function sqsEvent(messages: readonly Message[], queueArn: string, region = 'us-east-1'): SQSEvent {
  return {
    Records: messages.map((message) => {
      const system = message.Attributes ?? {};
      return {
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
          SentTimestamp: system.SentTimestamp ?? String(Date.now()),
          SenderId: system.SenderId ?? 'LOCAL',
          ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      };
    }),
  };
}
