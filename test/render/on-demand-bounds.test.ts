import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DERIVATIVES_PREFIX, ON_DEMAND_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import { derivativeKey, derivativesPrefix } from '../../lambdas/core/keys.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import {
  createOnDemandHandler,
  type OnDemandHandlerDependencies,
  onDemandDependenciesFromEnvironment,
} from '../../lambdas/handlers/on-demand.js';
import { functionUrlEvent } from '../../local/events/function-url-event.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { makeDocument, makeImage } from '../support/images.js';
import { channelDelta, decode, hexToRgb, pixelAt } from '../support/pixels.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const info = twinInfo();
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
const settings = parseSettings();
const env = twinFunctionEnvironment(info, settings, 'https://cdn.example');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const variant = (name: string) => DEFAULT_VARIANTS.find((v) => v.name === name) as VariantSpec;

/**
 * Ingests bytes as the pipeline does, but runs none of the render jobs: every derivative is then
 * the on-demand renderer's to make.
 */
async function ingested(bytes: Buffer, contentType: string): Promise<string> {
  const ingest = createIngestHandler({
    ...ingestDependenciesFromEnvironment(env),
    queue: { enqueue: async () => {} },
  });
  const sent = await seedUpload(
    { catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket },
    bytes,
    { owner: `bounds-${randomBytes(3).toString('hex')}`, contentType },
  );
  await ingest(
    objectCreatedEvent({ bucket: info.resources.uploadBucket, ...sent }),
    lambdaContext('aperture-ingest'),
  );
  const imageId = sha256(bytes);
  expect((await catalog.getImage(imageId))?.status).toBe('processing');
  return imageId;
}

/**
 * The handler on the twin, its store and leases counted on the way through to the real adapters:
 * an original read is a render, and nothing else costs the renderer more than a catalog read.
 */
function countedHandler(overrides: Partial<OnDemandHandlerDependencies> = {}) {
  const deps = { ...onDemandDependenciesFromEnvironment(env), ...overrides };
  const calls = { readOriginal: 0, readDerivative: 0, putDerivative: 0, acquire: 0 };
  const { store, leases } = deps;
  const handler = createOnDemandHandler({
    ...deps,
    store: {
      readOriginal: (key) => {
        calls.readOriginal++;
        return store.readOriginal(key);
      },
      readDerivative: (key) => {
        calls.readDerivative++;
        return store.readDerivative(key);
      },
      putDerivative: (derivative) => {
        calls.putDerivative++;
        return store.putDerivative(derivative);
      },
      deleteDerivatives: (keys) => store.deleteDerivatives(keys),
    },
    leases: {
      acquire: (name, seconds) => {
        calls.acquire++;
        return leases.acquire(name, seconds);
      },
      release: (name) => leases.release(name),
    },
  });
  /** Asks for a derivative key as CloudFront does, by the path under the origin path `/derived`. */
  const request = (key: string) =>
    handler(
      functionUrlEvent('GET', `/${key.slice(DERIVATIVES_PREFIX.length)}`),
      lambdaContext('aperture-on-demand', { timeoutSeconds: ON_DEMAND_TIMEOUT_SECONDS }),
    );
  return { request, calls };
}

async function storedKeys(imageId: string): Promise<string[]> {
  const { Contents = [] } = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: info.resources.imageBucket, Prefix: derivativesPrefix(imageId) }),
  );
  return Contents.map((object) => object.Key ?? '').sort();
}

/** Runs `work` over `items`, `width` at a time: enough to be quick, few enough to spare the emulators. */
async function inBatches<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map(work))));
  }
  return results;
}

describe('page keys on demand', () => {
  it('answers 1,000 page keys of a single-page image with a long-cached 404 and renders nothing', async () => {
    const imageId = await ingested(
      await makeImage('jpeg', { width: 800, height: 600, seed: randomBytes(4).readUInt32LE() }),
      'image/jpeg',
    );
    // Every variant of the spec, pages 1 to 250, formats in turn: each key is one the spec builds.
    const keys = DEFAULT_VARIANTS.flatMap((spec) =>
      Array.from({ length: 250 }, (_, i) => {
        const { format } = spec.formats[i % spec.formats.length] ?? { format: 'jpeg' as const };
        return derivativeKey(imageId, spec, format, i + 1);
      }),
    );
    expect(new Set(keys).size).toBe(1000);

    const { request, calls } = countedHandler();
    const responses = await inBatches(keys, 10, request);
    expect(new Set(responses.map((r) => `${r.statusCode} ${r.headers?.['cache-control']}`))).toEqual(
      new Set(['404 public, max-age=300']),
    );
    expect(calls).toEqual({ readOriginal: 0, readDerivative: 0, putDerivative: 0, acquire: 0 });
    expect(await storedKeys(imageId)).toEqual([]);
  });

  it("renders page 3 of a multi-page TIFF, and only page 3, in each of the variant's formats", async () => {
    const colours = Array.from({ length: 4 }, () => `#${randomBytes(3).toString('hex')}`);
    const imageId = await ingested(await makeDocument(colours, { width: 800, height: 600 }), 'image/tiff');
    const small = variant('small');

    const { request, calls } = countedHandler();
    const response = await request(derivativeKey(imageId, small, 'jpeg', 3));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('image/jpeg');
    const served = await decode(Buffer.from(response.body ?? '', 'base64'));
    expect([served.width, served.height]).toEqual([640, 480]);
    const centre = pixelAt(served, served.width / 2, served.height / 2);
    expect(channelDelta(centre, hexToRgb(colours[2] ?? ''))).toBeLessThan(8);

    expect(calls.readOriginal).toBe(1);
    expect(await storedKeys(imageId)).toEqual(
      small.formats.map(({ format }) => derivativeKey(imageId, small, format, 3)).sort(),
    );
    // One page is not the variant: its render job still stores every page and marks it ready.
    expect((await catalog.getImage(imageId))?.variants.small).toBe('pending');
  });

  it('answers a page the document does not have, or a document variant without a page, with a long-cached 404', async () => {
    const colours = Array.from({ length: 2 }, () => `#${randomBytes(3).toString('hex')}`);
    const imageId = await ingested(await makeDocument(colours), 'image/tiff');
    const { request, calls } = countedHandler();
    for (const key of [
      derivativeKey(imageId, variant('small'), 'webp', 3),
      derivativeKey(imageId, variant('small'), 'webp'),
      derivativeKey(imageId, variant('thumb'), 'webp', 1),
    ]) {
      const response = await request(key);
      expect([response.statusCode, response.headers?.['cache-control']], key).toEqual([
        404,
        'public, max-age=300',
      ]);
    }
    expect(calls).toEqual({ readOriginal: 0, readDerivative: 0, putDerivative: 0, acquire: 0 });
  });
});

describe('an on-demand request that cannot be answered now', () => {
  /** A loopback port nothing listens on: connections to it are refused at once. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  it.each([
    [
      'another request holds the render lease for longer than the wait',
      async (): Promise<Partial<OnDemandHandlerDependencies>> => {
        const deps = onDemandDependenciesFromEnvironment(env);
        return {
          leases: { acquire: async () => false, release: (name) => deps.leases.release(name) },
          // The wait polls S3 as in Lambda, only without sleeping between polls.
          sleep: async () => {},
        };
      },
    ],
    [
      'DynamoDB is unreachable',
      async (): Promise<Partial<OnDemandHandlerDependencies>> => {
        const down = onDemandDependenciesFromEnvironment({
          ...env,
          AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await closedPort()}`,
        });
        const failure = await down.catalog.getImage('0'.repeat(64)).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(RetryableError);
        expect(failure).toHaveProperty('reason', 'dependency_unavailable');
        return { catalog: down.catalog, leases: down.leases };
      },
    ],
  ])('answers 503 with Retry-After and no-store when %s', async (_, failure) => {
    const imageId = await ingested(
      await makeImage('jpeg', { width: 800, height: 600, seed: randomBytes(4).readUInt32LE() }),
      'image/jpeg',
    );
    const { request, calls } = countedHandler(await failure());
    const response = await request(derivativeKey(imageId, variant('small'), 'webp'));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['cache-control']).toBe('no-store');
    expect(Number(response.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(calls.readOriginal).toBe(0);
  });
});
