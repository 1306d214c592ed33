import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { IMMUTABLE_CACHE_CONTROL } from '../../lambdas/adapters/aws/s3-derivative-store.js';
import { DERIVATIVES_PREFIX } from '../../lambdas/contract.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../lambdas/core/formats.js';
import { derivativeKey, originalKey, uploadKey } from '../../lambdas/core/keys.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import type { VariantSpec } from '../../lambdas/core/variants.js';
import { CDN_CORS, CDN_RESPONSE_HEADERS } from '../../lambdas/edge/response-headers.js';
import { type LocalCdn, LocalCdnStartError, startLocalCdn } from '../../local/cdn/server.js';
import { twinEnv, twinInfo } from '../support/twin.js';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const SAFARI_13 = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';

const settings = parseSettings();
const [thumb, , medium] = settings.variants as [VariantSpec, VariantSpec, VariantSpec];
const bucket = twinInfo().resources.imageBucket;
const { s3 } = createAwsClients(twinEnv());
/** The twin is shared by every test file running at once: each test gets images of its own. */
const newImageId = () => randomBytes(32).toString('hex');
const shard = (imageId: string) => `/${imageId.slice(0, 2)}/${imageId.slice(2, 4)}/${imageId}`;

let cdn: LocalCdn;
beforeAll(async () => {
  cdn = await startLocalCdn({ host: '127.0.0.1', port: 0, s3, bucket, settings });
});
afterAll(() => cdn.stop());

/** Stores a derivative as the render workers do; returns its CDN path and bytes. */
async function putDerivative(imageId: string, spec: VariantSpec, format: OutputFormat, page?: number) {
  const key = derivativeKey(imageId, spec, format, page);
  const body = Buffer.from(`${format} bytes of ${key}`);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: OUTPUT_FORMATS[format].mime,
      CacheControl: IMMUTABLE_CACHE_CONTROL,
    }),
  );
  return { path: `/${key.slice(DERIVATIVES_PREFIX.length)}`, body };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as given (fetch would resolve `..` before sending it). */
function send(path: string, options: { method?: string; headers?: OutgoingHttpHeaders; base?: string } = {}) {
  const { hostname, port } = new URL(options.base ?? cdn.url);
  return new Promise<Answer>((resolve, reject) => {
    const outgoing = request(
      { hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('serving a derivative', () => {
  it('streams its bytes with its type, length and cache headers, and the CDN’s own headers', async () => {
    const stored = await putDerivative(newImageId(), thumb, 'avif');
    const answer = await send(stored.path);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(stored.body);
    expect(answer.headers).toMatchObject({
      'content-type': 'image/avif',
      'content-length': String(stored.body.length),
      'cache-control': IMMUTABLE_CACHE_CONTROL,
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
      ...CDN_RESPONSE_HEADERS,
    });
    expect(new Date(answer.headers['last-modified'] ?? '').getTime()).toBeGreaterThan(Date.now() - 60_000);
    // Over plain HTTP browsers ignore HSTS, so the local CDN does not pretend.
    expect(answer.headers).not.toHaveProperty('strict-transport-security');
  });

  it('lets any page read it from script, answering CORS only to requests with an Origin', async () => {
    const stored = await putDerivative(newImageId(), thumb, 'webp');
    const crossOrigin = await send(stored.path, {
      method: 'HEAD',
      headers: { origin: 'https://app.example' },
    });
    expect(crossOrigin.headers['access-control-allow-origin']).toBe(CDN_CORS.allowOrigin);
    expect((await send(stored.path)).headers).not.toHaveProperty('access-control-allow-origin');
  });

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const stored = await putDerivative(newImageId(), medium, 'webp');
    const { headers } = await send(stored.path);
    const answer = await send(stored.path, { headers: { 'if-none-match': headers.etag } });
    expect(answer.status).toBe(304);
    expect(answer.body.length).toBe(0);
    const stale = await send(stored.path, {
      headers: { 'if-none-match': '"0123456789abcdef0123456789abcdef"' },
    });
    expect(stale.status).toBe(200);
    expect(stale.body).toEqual(stored.body);
  });

  it('answers HEAD with the headers and no body', async () => {
    const stored = await putDerivative(newImageId(), thumb, 'jpeg');
    const answer = await send(stored.path, { method: 'HEAD' });
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(0);
    expect(answer.headers).toMatchObject({
      'content-type': 'image/jpeg',
      'content-length': String(stored.body.length),
      'cache-control': IMMUTABLE_CACHE_CONTROL,
      vary: 'Accept',
    });
  });

  it('answers 404 for a derivative that is not there, GET or HEAD', async () => {
    const imageId = newImageId();
    const missing = `/${derivativeKey(imageId, thumb, 'webp').slice(DERIVATIVES_PREFIX.length)}`;
    expect((await send(missing)).status).toBe(404);
    expect((await send(missing, { method: 'HEAD' })).status).toBe(404);
    expect((await send(`${shard(imageId)}/thumb`, { headers: { accept: CHROME } })).status).toBe(404);
  });
});

describe('negotiating a format-less variant URL', () => {
  let imageId: string;
  let stored: Record<OutputFormat, { path: string; body: Buffer }>;
  beforeAll(async () => {
    imageId = newImageId();
    const [avif, webp, jpeg] = await Promise.all(
      (['avif', 'webp', 'jpeg'] as const).map((format) => putDerivative(imageId, thumb, format)),
    );
    stored = { avif, webp, jpeg } as Record<OutputFormat, { path: string; body: Buffer }>;
  });

  it.each<[string, string | string[], OutputFormat]>([
    ['Chrome', CHROME, 'avif'],
    ['a WebP-only client', 'image/webp,*/*', 'webp'],
    ['Safari 13', SAFARI_13, 'jpeg'],
    ['curl', '*/*', 'jpeg'],
    ['Accept sent twice', ['image/webp', 'image/avif'], 'avif'],
  ])('gives %s the %s bytes', async (_, accept, format) => {
    const answer = await send(`${shard(imageId)}/thumb`, { headers: { accept } });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(OUTPUT_FORMATS[format].mime);
    expect(answer.body).toEqual(stored[format].body);
  });

  it('gives a client without an Accept header JPEG', async () => {
    const answer = await send(`${shard(imageId)}/thumb`);
    expect(answer.body).toEqual(stored.jpeg.body);
  });

  it('answers 406 when every format is refused', async () => {
    const answer = await send(`${shard(imageId)}/thumb`, { headers: { accept: 'image/*;q=0' } });
    expect(answer.status).toBe(406);
    expect(answer.headers.vary).toBe('Accept');
  });

  it('serves one page of a multi-page variant', async () => {
    const page = await putDerivative(imageId, medium, 'webp', 2);
    const answer = await send(`${shard(imageId)}/medium-page002`, { headers: { accept: CHROME } });
    expect(answer.status).toBe(404); // no AVIF of that page was stored: negotiation picked AVIF
    const webp = await send(`${shard(imageId)}/medium-page002`, { headers: { accept: 'image/webp' } });
    expect(webp.body).toEqual(page.body);
  });
});

describe('what the CDN never serves', () => {
  let imageId: string;
  beforeAll(async () => {
    imageId = newImageId();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: originalKey(imageId), Body: 'original' }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: uploadKey(imageId.slice(0, 32)), Body: 'upload' }),
    );
  });

  const original = () => originalKey(imageId);
  it.each([
    ['a dot-dot segment', () => `/../${original()}`],
    ['dot-dot after a hash', () => `${shard(imageId)}/../../../../${original()}`],
    ['an encoded dot-dot', () => `/%2E%2E/${original()}`],
    ['an encoded slash', () => `/..%2F${original().replaceAll('/', '%2F')}`],
    ['backslashes', () => `/..\\${original().replaceAll('/', '\\')}`],
    ['a double slash', () => `//${original()}`],
    ['a dot segment', () => `/./${original()}`],
    ['an absolute URL', () => `http://localhost/../${original()}`],
    ['an upload', () => `/../${uploadKey(imageId.slice(0, 32))}`],
  ])('refuses %s with 400 before asking S3', async (_, path) => {
    const answer = await send(path());
    expect(answer.status).toBe(400);
    expect(answer.body.toString()).not.toContain('original');
  });

  it('answers 404 for an original’s key taken as a path: it is looked up under derived/', async () => {
    const answer = await send(`/${original()}`);
    expect(answer.status).toBe(404);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])(
    'answers %s with 405, allowing GET and HEAD',
    async (method) => {
      const stored = await putDerivative(newImageId(), thumb, 'jpeg');
      const answer = await send(stored.path, { method });
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
    },
  );
});

/** A port nothing listens on: bound by the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const refusesConnections = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });

describe('failing over to the fallback origin', () => {
  it('asks it, by the rewritten path, only for what S3 does not have, and serves its answer', async () => {
    const asked: string[] = [];
    const withFallback = await startLocalCdn({
      host: '127.0.0.1',
      port: 0,
      s3,
      bucket,
      settings,
      fallbackOrigin: async (method, path) => {
        asked.push(`${method} ${path}`);
        return {
          statusCode: 200,
          headers: { 'content-type': 'image/webp', 'x-from': 'fallback' },
          body: Buffer.from('made'),
        };
      },
    });
    try {
      const stored = await putDerivative(newImageId(), thumb, 'webp');
      const present = await send(stored.path, { base: withFallback.url });
      expect(present.body).toEqual(stored.body);

      const missing = derivativeKey(newImageId(), thumb, 'webp').slice(DERIVATIVES_PREFIX.length - 1);
      const rendered = await send(missing, { base: withFallback.url });
      expect([rendered.status, rendered.headers['x-from'], rendered.body.toString()]).toEqual([
        200,
        'fallback',
        'made',
      ]);
      expect(asked).toEqual([`GET ${missing}`]);
    } finally {
      await withFallback.stop();
    }
  });
});

describe('life cycle', () => {
  it('answers 502 when S3 cannot be reached', async () => {
    const unreachable = new S3Client({
      region: twinInfo().region,
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const broken = await startLocalCdn({ host: '127.0.0.1', port: 0, s3: unreachable, bucket, settings });
    try {
      const answer = await send(`${shard(newImageId())}/thumb`, { base: broken.url });
      expect(answer.status).toBe(502);
    } finally {
      await broken.stop();
      unreachable.destroy();
    }
  });

  it('fails to start with LocalCdnStartError when its port is taken', async () => {
    const port = Number(new URL(cdn.url).port);
    await expect(startLocalCdn({ host: '127.0.0.1', port, s3, bucket, settings })).rejects.toThrow(
      LocalCdnStartError,
    );
  });

  it('stops listening and closes kept-alive connections on stop()', async () => {
    const own = await startLocalCdn({ host: '127.0.0.1', port: 0, s3, bucket, settings });
    const port = Number(new URL(own.url).port);
    const stored = await putDerivative(newImageId(), thumb, 'webp');
    const kept = await fetch(`${own.url}${stored.path}`, { headers: { connection: 'keep-alive' } });
    expect(kept.status).toBe(200);
    await kept.arrayBuffer();
    await own.stop();
    expect(await refusesConnections(port)).toBe(true);
  });
});
