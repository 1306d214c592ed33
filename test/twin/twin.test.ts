/**
 * The twin's own promises: provisioning survives a restart on the same data dir, uploads are
 * announced, and stop (or a failed start) leaves no server or JVM behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { uploadKey } from '../../lambdas/core/keys.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import {
  type ObjectCreatedRecord,
  startTwin,
  type Twin,
  TwinStartError,
  twinEnvironment,
} from '../../local/twin/index.js';

/** Whether anything accepts connections at the URL's host and port. */
function isListening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
      .once('connect', () => {
        socket.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('startTwin', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function started(dataDir: string): Promise<Twin> {
    const twin = await startTwin({ dataDir });
    cleanups.push(() => twin.stop());
    return twin;
  }

  it('announces uploads, keeps data across a restart on the same data dir (giving an old catalog its stream), and stops completely', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'aperture-twin-test-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    const first = await started(dataDir);
    const records: ObjectCreatedRecord[] = [];
    first.onObjectCreated((record) => records.push(record));
    const clients = createAwsClients(twinEnvironment(first));
    const { uploadBucket, imageBucket, table } = first.resources;

    const uploaded = uploadKey(newUploadId());
    const { url, fields } = await createPresignedPost(clients.s3, { Bucket: uploadBucket, Key: uploaded });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob(['posted']), 'photo.jpg');
    expect((await fetch(url, { method: 'POST', body: form })).status).toBe(204);
    // Keys arrive as stored, not URL-encoded as in a real S3 notification.
    const spaced = `emulator test/${randomUUID()} photo.jpg`;
    await clients.s3.send(new PutObjectCommand({ Bucket: imageBucket, Key: spaced, Body: 'put' }));
    await vi.waitFor(() =>
      expect(records).toEqual([
        {
          bucket: uploadBucket,
          key: uploaded,
          size: 'posted'.length,
          eTag: md5('posted'),
          eventName: 'ObjectCreated:Post',
        },
        {
          bucket: imageBucket,
          key: spaced,
          size: 'put'.length,
          eTag: md5('put'),
          eventName: 'ObjectCreated:Put',
        },
      ]),
    );
    const itemKey = catalogKeys.upload(newUploadId());
    const item = { ...itemKey, status: 'pending' };
    await clients.dynamo.send(new PutCommand({ TableName: table, Item: item }));
    // As a data dir kept from before the catalog had a stream (issue 18) would have it.
    expect(first.resources.tableStreamArn).toContain(`table/${table}/stream/`);
    await clients.dynamo.send(
      new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: false } }),
    );

    await first.stop();
    await first.stop();
    for (const endpoint of Object.values(first.endpoints)) expect(await isListening(endpoint)).toBe(false);

    const second = await started(dataDir);
    expect(second.resources).toMatchObject({ uploadBucket, imageBucket, table });
    const again = createAwsClients(twinEnvironment(second));
    const { Body } = await again.s3.send(new GetObjectCommand({ Bucket: imageBucket, Key: spaced }));
    expect(await Body?.transformToString()).toBe('put');
    expect((await again.dynamo.send(new GetCommand({ TableName: table, Key: itemKey }))).Item).toEqual(item);
    const { TimeToLiveDescription } = await again.dynamo.send(
      new DescribeTimeToLiveCommand({ TableName: table }),
    );
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
    const { Table } = await again.dynamo.send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(second.resources.tableStreamArn).toBe(Table?.LatestStreamArn);
  });

  it('admits browsers to S3 from the page’s origins only, once it has them', async () => {
    const twin = await startTwin();
    cleanups.push(() => twin.stop());
    const clients = createAwsClients(twinEnvironment(twin));
    const { uploadBucket, imageBucket } = twin.resources;
    const page = 'http://127.0.0.1:3000';
    await twin.admitBrowserOrigins([page]);

    const post = async (origin: string, bucket: string, fields: Record<string, string>) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob(['posted']), 'photo.jpg');
      return fetch(`${twin.endpoints.s3}/${bucket}`, { method: 'POST', body: form, headers: { origin } });
    };
    const preflight = (origin: string) =>
      fetch(`${twin.endpoints.s3}/${uploadBucket}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });

    // The page's upload, as the browser sends it.
    expect((await preflight(page)).status).toBe(200);
    const granted = await createPresignedPost(clients.s3, {
      Bucket: uploadBucket,
      Key: uploadKey(newUploadId()),
    });
    const uploaded = await post(page, uploadBucket, granted.fields);
    expect(uploaded.status).toBe(204);
    expect(uploaded.headers.get('access-control-allow-origin')).toBe(page);

    // Any other page: s3rver would store an unsigned form anywhere, and list a bucket for anyone.
    const planted = `derived/planted-${randomUUID()}`;
    for (const origin of ['https://evil.example', 'http://127.0.0.1:3001', 'null']) {
      expect((await preflight(origin)).status, origin).toBe(403);
      expect((await post(origin, imageBucket, { key: planted })).status, origin).toBe(403);
      const listing = await fetch(`${twin.endpoints.s3}/${uploadBucket}?list-type=2`, {
        headers: { origin },
      });
      expect([listing.status, listing.headers.get('access-control-allow-origin')], origin).toEqual([
        403,
        null,
      ]);
    }
    await expect(
      clients.s3.send(new GetObjectCommand({ Bucket: imageBucket, Key: planted })),
    ).rejects.toThrow();
    // Clients without a browser send no Origin, and are served as before.
    await clients.s3.send(new PutObjectCommand({ Bucket: imageBucket, Key: planted, Body: 'sdk' }));
  }, 60_000);

  it('fails with a clear error without Java, leaving nothing listening', async () => {
    vi.stubEnv('PATH', join(tmpdir(), `no-java-${randomUUID()}`));
    vi.stubEnv('JAVA_HOME', undefined);
    const ports = { s3: await freePort(), sqs: await freePort() };

    const starting = startTwin({ ports });
    await expect(starting).rejects.toThrow(TwinStartError);
    await expect(starting).rejects.toThrow(/Java 17/);
    for (const port of Object.values(ports))
      expect(await isListening(`http://127.0.0.1:${port}`)).toBe(false);
  });
});
