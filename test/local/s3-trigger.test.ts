import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { startS3Trigger } from '../../local/runtime/s3-trigger.js';
import type { ObjectCreatedListener, ObjectCreatedRecord } from '../../local/twin/index.js';

/** The twin's notification hook, fed by hand so each test decides which objects "land". */
function notifications() {
  const listeners = new Set<ObjectCreatedListener>();
  return {
    twin: {
      region: 'us-east-1',
      onObjectCreated(listener: ObjectCreatedListener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    land(record: ObjectCreatedRecord) {
      for (const listener of listeners) listener(record);
    },
  };
}

const logger = new Logger({ serviceName: 's3-trigger-test' });
const object = (bucket: string, key: string): ObjectCreatedRecord => ({
  bucket,
  key,
  size: 3,
  eTag: 'abc',
  eventName: 'ObjectCreated:Put',
});

describe('the S3 notification and async invocation, played locally', () => {
  it('invokes the handler for objects under the prefix of its bucket only, with real-shaped events', async () => {
    const { twin, land } = notifications();
    const events: S3Event[] = [];
    const trigger = startS3Trigger({
      twin,
      bucket: 'uploads-bucket',
      prefix: 'uploads/',
      functionName: 'ingest',
      timeoutSeconds: 60,
      logger,
      handler: async (event) => {
        events.push(event);
      },
    });
    land(object('uploads-bucket', 'uploads/a b'));
    land(object('uploads-bucket', 'elsewhere/c'));
    land(object('images-bucket', 'uploads/d'));
    land({ ...object('uploads-bucket', 'uploads/e'), eventName: 'ObjectCreated:CompleteMultipartUpload' });
    await trigger.stop();
    expect(events).toHaveLength(2);
    // S3 names the event by how the object was made; a completed multipart upload is one too.
    expect(events[1]?.Records[0]?.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    const [record] = events[0]?.Records ?? [];
    expect(record).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      awsRegion: 'us-east-1',
      s3: { bucket: { name: 'uploads-bucket' }, object: { key: 'uploads/a+b', size: 3, eTag: 'abc' } },
    });
  });

  it.each([
    { behaviour: 'keeps failing', failures: Number.POSITIVE_INFINITY, expected: 3 },
    { behaviour: 'fails once', failures: 2, expected: 2 },
  ])(
    'retries a failed invocation at most twice: one that $behaviour is tried $expected times',
    async ({ failures, expected }) => {
      const { twin, land } = notifications();
      const attempts: string[] = [];
      const trigger = startS3Trigger({
        twin,
        bucket: 'b',
        prefix: 'uploads/',
        functionName: 'ingest',
        timeoutSeconds: 60,
        logger,
        retryDelaysMs: [10, 20],
        handler: async (event) => {
          attempts.push(event.Records[0]?.s3.object.key ?? '');
          if (attempts.length < failures) throw new Error('the catalog is down');
        },
      });
      land(object('b', 'uploads/y'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await trigger.stop();
      expect(attempts).toEqual(Array(expected).fill('uploads/y'));
    },
  );
});
