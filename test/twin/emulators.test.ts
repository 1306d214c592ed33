/**
 * What the pipeline relies on from each emulator, proven with the SDK clients the functions use, and
 * what the emulators do not enforce, so nobody mistakes a green local run for a checked policy.
 * See docs/adr/0004-local-emulators.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { CATALOG_TABLE, MAX_RECEIVE_COUNT, visibilityTimeoutSeconds } from '../../lambdas/contract.js';
import { uploadKey } from '../../lambdas/core/keys.js';
import { WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { ensureWorkQueue } from '../../local/twin/provision.js';
import { twinEnv, twinInfo } from '../support/twin.js';

const { s3, dynamo, sqs } = createAwsClients(twinEnv());
const { resources } = twinInfo();

const sha256Base64 = (text: string) => createHash('sha256').update(text).digest('base64');

async function readObject(bucket: string, key: string): Promise<string> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await Body?.transformToString()) ?? '';
}

/** A presigned POST for one PNG of at most 1 KiB under the upload key, as the API grants it. */
async function presignPost(key = uploadKey(newUploadId())) {
  return createPresignedPost(s3, {
    Bucket: resources.uploadBucket,
    Key: key,
    Conditions: [
      ['content-length-range', 1, 1024],
      ['eq', '$Content-Type', 'image/png'],
    ],
    Fields: { 'Content-Type': 'image/png' },
    Expires: 60,
  });
}

function postForm(fields: Record<string, string>, body: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  // S3 ignores every field after the file, so it goes last.
  form.append('file', new Blob([body]), 'upload.png');
  return form;
}

describe('S3 (s3rver)', () => {
  it('stores, reads and lists objects across several ListObjectsV2 pages', async () => {
    const prefix = `emulator-test/${randomUUID()}/`;
    const keys = ['a', 'b', 'c', 'd', 'e'].map((name) => `${prefix}${name}`);
    await Promise.all(
      keys.map((key) =>
        s3.send(new PutObjectCommand({ Bucket: resources.imageBucket, Key: key, Body: key })),
      ),
    );

    expect(await readObject(resources.imageBucket, `${prefix}c`)).toBe(`${prefix}c`);
    const pages: string[][] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 2 },
      { Bucket: resources.imageBucket, Prefix: prefix },
    )) {
      pages.push((page.Contents ?? []).map((object) => object.Key ?? ''));
    }
    expect(pages).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);
  });

  it('honours presigned PUT and GET URLs before they expire', async () => {
    const key = uploadKey(newUploadId());
    const put = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: resources.uploadBucket, Key: key, ContentType: 'image/png' }),
      { expiresIn: 60 },
    );
    const upload = await fetch(put, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: 'png bytes',
    });
    expect(upload.status).toBe(200);

    const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: resources.uploadBucket, Key: key }), {
      expiresIn: 60,
    });
    const download = await fetch(get);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('png bytes');
  });

  it('refuses presigned URLs once they have expired', async () => {
    const key = uploadKey(newUploadId());
    // Signed a minute ago for one second: expired without the test having to wait.
    const expired = { expiresIn: 1, signingDate: new Date(Date.now() - 60_000) };
    const put = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: resources.uploadBucket, Key: key }),
      expired,
    );
    const get = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: resources.uploadBucket, Key: key }),
      expired,
    );

    const upload = await fetch(put, { method: 'PUT', body: 'late' });
    expect(upload.status).toBe(403);
    expect(await upload.text()).toContain('Request has expired');
    expect((await fetch(get)).status).toBe(403);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: resources.uploadBucket, Key: key })),
    ).rejects.toThrow();
  });

  it('accepts a presigned POST upload sent as a browser would (fetch + FormData)', async () => {
    const key = uploadKey(newUploadId());
    const { url, fields } = await presignPost(key);
    const response = await fetch(url, { method: 'POST', body: postForm(fields, 'png bytes') });
    expect(response.status).toBe(204);

    const head = await s3.send(new HeadObjectCommand({ Bucket: resources.uploadBucket, Key: key }));
    expect(head).toMatchObject({ ContentType: 'image/png', ContentLength: 'png bytes'.length });
  });

  it.each([
    // A POST goes to the bucket itself, a PUT to the object.
    ['POST', (_key: string) => `/${resources.uploadBucket}`],
    ['PUT', (key: string) => `/${resources.uploadBucket}/${key}`],
  ])('answers a browser preflight for a %s to the upload bucket, and only there', async (method, path) => {
    const key = uploadKey(newUploadId());
    const preflight = (bucketPath: string) =>
      fetch(new URL(bucketPath, twinInfo().endpoints.s3), {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:5173',
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight(path(key));
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('*');
    expect(allowed.headers.get('access-control-allow-methods')).toContain(method);

    const refused = await preflight(`/${resources.imageBucket}/${key}`);
    expect(refused.status).toBe(403);
  });

  describe('does not enforce (so Aperture asserts its own policies and signatures)', () => {
    it.each([
      ['a Content-Type other than the policy demands', { 'Content-Type': 'text/html' }, 'png bytes'],
      ['a body beyond content-length-range', {}, 'x'.repeat(2048)],
      ['a key other than the signed one', { key: uploadKey(newUploadId()) }, 'png bytes'],
      ['a forged signature', { 'X-Amz-Signature': '0'.repeat(64) }, 'png bytes'],
    ])('POST policy conditions: accepts %s', async (_, overrides: Record<string, string>, body) => {
      const { url, fields } = await presignPost();
      const response = await fetch(url, {
        method: 'POST',
        body: postForm({ ...fields, ...overrides }, body),
      });
      // Real S3 answers 403 AccessDenied ("Policy Condition failed" / SignatureDoesNotMatch).
      expect(response.status).toBe(204);
    });

    it('signatures: accepts a presigned URL whose signature was forged', async () => {
      const key = `emulator-test/${randomUUID()}`;
      await s3.send(new PutObjectCommand({ Bucket: resources.imageBucket, Key: key, Body: 'secret' }));
      const url = new URL(
        await getSignedUrl(s3, new GetObjectCommand({ Bucket: resources.imageBucket, Key: key }), {
          expiresIn: 60,
        }),
      );
      url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
      expect((await fetch(url)).status).toBe(200);
    });

    it('authentication: serves an unsigned request for an object in a private bucket', async () => {
      const key = `emulator-test/${randomUUID()}`;
      await s3.send(new PutObjectCommand({ Bucket: resources.imageBucket, Key: key, Body: 'private' }));
      const response = await fetch(new URL(`/${resources.imageBucket}/${key}`, twinInfo().endpoints.s3));
      expect(response.status).toBe(200);
    });

    it('checksums: stores a body whose x-amz-checksum-sha256 does not match', async () => {
      const key = `emulator-test/${randomUUID()}`;
      // Real S3 answers 400 BadDigest.
      await s3.send(
        new PutObjectCommand({
          Bucket: resources.imageBucket,
          Key: key,
          Body: 'actual bytes',
          ChecksumSHA256: sha256Base64('other bytes'),
        }),
      );
      expect(await readObject(resources.imageBucket, key)).toBe('actual bytes');
    });
  });
});

describe('DynamoDB (DynamoDB Local)', () => {
  const table = resources.table;
  const key = () => catalogKeys.upload(newUploadId());

  it('lets only the first of two conditional writers in (attribute_not_exists)', async () => {
    const itemKey = key();
    const putIfAbsent = (writer: string) =>
      dynamo.send(
        new PutCommand({
          TableName: table,
          Item: { ...itemKey, writer },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': CATALOG_TABLE.partitionKey },
        }),
      );
    await putIfAbsent('first');
    await expect(putIfAbsent('second')).rejects.toThrow(ConditionalCheckFailedException);
    const { Item } = await dynamo.send(new GetCommand({ TableName: table, Key: itemKey }));
    expect(Item?.writer).toBe('first');
  });

  it('commits every write of a transaction', async () => {
    const [a, b] = [key(), key()];
    await dynamo.send(
      new TransactWriteCommand({
        TransactItems: [{ Put: { TableName: table, Item: a } }, { Put: { TableName: table, Item: b } }],
      }),
    );
    for (const k of [a, b]) {
      expect((await dynamo.send(new GetCommand({ TableName: table, Key: k }))).Item).toEqual(k);
    }
  });

  it('cancels the whole transaction when one condition fails', async () => {
    const [existing, fresh] = [key(), key()];
    await dynamo.send(new PutCommand({ TableName: table, Item: existing }));

    const transaction = dynamo.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table, Item: fresh } },
          {
            Put: {
              TableName: table,
              Item: { ...existing, overwritten: true },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': CATALOG_TABLE.partitionKey },
            },
          },
        ],
      }),
    );
    await expect(transaction).rejects.toThrow(TransactionCanceledException);
    await expect(transaction).rejects.toMatchObject({
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    expect((await dynamo.send(new GetCommand({ TableName: table, Key: fresh }))).Item).toBeUndefined();
    expect((await dynamo.send(new GetCommand({ TableName: table, Key: existing }))).Item).toEqual(existing);
  });

  it('has TTL enabled on the expiry attribute', async () => {
    const { TimeToLiveDescription } = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: CATALOG_TABLE.timeToLiveAttribute,
    });
  });

  it('has the collection index, projecting every attribute, and answers queries on it; and the keys-only upkeep index', async () => {
    const { collectionIndex, upkeepIndex } = CATALOG_TABLE;
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table }));
    const byName = (name: string) => Table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === name);
    expect(Table?.GlobalSecondaryIndexes).toHaveLength(2);
    expect(byName(collectionIndex.name)).toMatchObject({
      KeySchema: [
        { AttributeName: collectionIndex.partitionKey, KeyType: 'HASH' },
        { AttributeName: collectionIndex.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    expect(byName(upkeepIndex.name)).toMatchObject({
      KeySchema: [
        { AttributeName: upkeepIndex.partitionKey, KeyType: 'HASH' },
        { AttributeName: upkeepIndex.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });

    const collection = `COLLECTION#${randomUUID()}`;
    const link = {
      ...key(),
      [collectionIndex.partitionKey]: collection,
      [collectionIndex.sortKey]: '1',
      note: 'kept',
    };
    await dynamo.send(new PutCommand({ TableName: table, Item: link }));
    const { Items } = await dynamo.send(
      new QueryCommand({
        TableName: table,
        IndexName: collectionIndex.name,
        KeyConditionExpression: '#pk = :collection',
        ExpressionAttributeNames: { '#pk': collectionIndex.partitionKey },
        ExpressionAttributeValues: { ':collection': collection },
      }),
    );
    expect(Items).toEqual([link]);
  });
});

describe('SQS (fauxqs)', () => {
  const receive = async (queueUrl: string, options: { wait?: number; visibility?: number } = {}) => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: options.wait ?? 0,
        VisibilityTimeout: options.visibility,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return Messages;
  };
  const receiveCount = (message: Message | undefined) => Number(message?.Attributes?.ApproximateReceiveCount);
  /** A private queue pair made by the same code as the lanes, so tests never race the handlers. */
  const privateQueue = () => ensureWorkQueue(sqs, `emulator-test-${randomUUID()}`, 30);

  it.each([
    ...WORK_LANES.map(
      (lane) => [`the ${lane} lane`, resources.queues[lane], visibilityTimeoutSeconds(lane)] as const,
    ),
    // Imports' jobs of either lane: the slower lane's timeout bounds them all.
    ['the bulk queue', resources.bulkQueue, visibilityTimeoutSeconds('variants')] as const,
  ])(
    'provisions %s as the construct does: DLQ redrive and visibility timeout',
    async (_name, queue, visibility) => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
        }),
      );
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: queue.deadLetterArn,
        maxReceiveCount: MAX_RECEIVE_COUNT,
      });
      expect(Number(Attributes?.VisibilityTimeout)).toBe(visibility);
    },
  );

  it('redelivers an unacknowledged message after its visibility timeout, then parks it in the DLQ', async () => {
    const queue = await privateQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'render me' }));

    const receivedAt = Date.now();
    const [first] = await receive(queue.url, { visibility: 1 });
    expect(receiveCount(first)).toBe(1);
    expect(await receive(queue.url)).toEqual([]);

    let [message] = await receive(queue.url, { wait: 5 });
    expect(Date.now() - receivedAt).toBeGreaterThanOrEqual(900);
    expect(receiveCount(message)).toBe(2);
    for (let count = 3; count <= MAX_RECEIVE_COUNT; count++) {
      // Visibility 0 hands the message back at once: a failed attempt without the wait.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queue.url,
          ReceiptHandle: message?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      [message] = await receive(queue.url);
      expect(receiveCount(message)).toBe(count);
    }

    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queue.url,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    expect(await receive(queue.url)).toEqual([]);
    const [parked] = await receive(queue.deadLetterUrl);
    expect(parked?.Body).toBe('render me');
  });

  it('answers a long poll as soon as a message arrives', async () => {
    const queue = await privateQueue();
    const started = Date.now();
    const polling = receive(queue.url, { wait: 10 });
    await sleep(300);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'now' }));

    const [message] = await polling;
    expect(message?.Body).toBe('now');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
