import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import { API_ROUTES, type ApiRouteKey } from '../../lambdas/contract.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import type { ImagePage, UploadView } from '../../lambdas/core/image-views.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { apiEvent } from '../support/api-events.js';
import { enrich, enrichment } from '../support/enrichment.js';
import { twinHandlers } from '../support/handlers.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { responseValidator } from '../support/openapi-validator.js';
import { twinEnv, twinInfo } from '../support/twin.js';

const twin = twinHandlers();
const deps = apiDependenciesFromEnvironment(twin.env);
const api = createApiHandler(deps);
const dynamo = createAwsClients(twinEnv()).dynamo;
const table = twinInfo().resources.table;
const validate = responseValidator();
const owner = uniqueOwner('contract');
let seed = firstSeed();

interface Request {
  owner?: string | null;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  body?: unknown;
}

/** One request through the API handler; the answer, and what the document says is wrong with it. */
async function call(routeKey: ApiRouteKey, request: Request = {}, handler = api) {
  const { owner: caller = owner, ...rest } = request;
  const response = await handler(
    apiEvent(routeKey, { ...rest, ...(caller ? { owner: caller } : {}) }),
    lambdaContext('aperture-api'),
  );
  const body: unknown = response.body ? JSON.parse(response.body) : undefined;
  return { status: response.statusCode, body, problems: validate(routeKey, response.statusCode, body) };
}

/** Asserts the route answered `status` with a body the document describes; the body. */
async function expectAnswer(routeKey: ApiRouteKey, status: number, request: Request = {}, handler = api) {
  const answer = await call(routeKey, request, handler);
  expect({ routeKey, status: answer.status, problems: answer.problems }).toEqual({
    routeKey,
    status,
    problems: [],
  });
  return answer.body;
}

describe('real answers validate against the OpenAPI document', () => {
  let imageId: string;

  beforeAll(async () => {
    const bytes = await makeImage('jpeg', { width: 320, height: 240, seed: seed++ });
    await twin.render(await twin.ingest(owner, bytes));
    imageId = createHash('sha256').update(bytes).digest('hex');
    await enrich(
      { catalog: new DynamoCatalog(dynamo, table), ownerIndex: new DynamoOwnerIndex(dynamo, table) },
      imageId,
      enrichment({
        tags: ['contract'],
        caption: 'a gradient',
        colours: [{ hex: '#102030', name: 'blue', share: 0.5 }],
      }),
    );
  });

  it('the upload routes: single and multipart grants, a duplicate, an upload', async () => {
    const image = { contentType: 'image/jpeg', size: 1234, filename: 'photo.jpg' };
    for (const method of ['POST', 'PUT', 'MULTIPART']) {
      const grant = (await expectAnswer(API_ROUTES.createUpload, 201, { body: { ...image, method } })) as {
        uploadId: string;
        method: string;
      };
      expect(grant.method).toBe(method);
      const pending = (await expectAnswer(API_ROUTES.getUpload, 200, {
        pathParameters: { uploadId: grant.uploadId },
      })) as UploadView;
      expect(pending.status).toBe('pending');
    }
    const multipart = (await expectAnswer(API_ROUTES.createUpload, 201, {
      body: { ...image, size: 20 * 1024 * 1024, method: 'MULTIPART' },
    })) as { uploadId: string; partCount: number };
    const uploadId = multipart.uploadId;
    await expectAnswer(API_ROUTES.signUploadPart, 200, { pathParameters: { uploadId, partNumber: '2' } });
    expect(await expectAnswer(API_ROUTES.listUploadParts, 200, { pathParameters: { uploadId } })).toEqual({
      parts: [],
    });
    await expectAnswer(API_ROUTES.abortUpload, 204, { pathParameters: { uploadId } });
    const duplicate = await expectAnswer(API_ROUTES.createUpload, 200, {
      body: { ...image, sha256: imageId },
    });
    expect(duplicate).toEqual({ duplicate: true, imageId });
  });

  it('the image routes on a ready, enriched image: the image, its upload, the list, search, similar ones', async () => {
    const page = (await expectAnswer(API_ROUTES.listImages, 200, {
      queryStringParameters: { limit: '10' },
    })) as ImagePage;
    const link = page.items.find((item) => item.imageId === imageId);
    expect(link).toBeDefined();
    const image = (await expectAnswer(API_ROUTES.getImage, 200, { pathParameters: { imageId } })) as {
      status: string;
      variants: Array<{ url?: string }>;
      enrichment?: unknown;
      placeholder?: unknown;
    };
    // The fields that exist only once rendered and enriched were among those validated.
    expect(image.status).toBe('ready');
    expect(image.variants.some((variant) => variant.url)).toBe(true);
    expect(image.enrichment).toBeDefined();
    expect(image.placeholder).toBeDefined();
    const upload = (await expectAnswer(API_ROUTES.getUpload, 200, {
      pathParameters: { uploadId: link?.uploadId ?? '' },
    })) as UploadView;
    expect(upload.status).toBe('ready');
    const found = (await expectAnswer(API_ROUTES.search, 200, {
      queryStringParameters: { tag: 'contract' },
    })) as { items: Array<{ imageId: string }> };
    expect(found.items.map((item) => item.imageId)).toEqual([imageId]);
    await expectAnswer(API_ROUTES.similarImages, 200, { pathParameters: { imageId } });
    await expectAnswer(API_ROUTES.getOpenApi, 200, { owner: null });
  });

  it('each class of error, with the body the document gives it', async () => {
    const image = { contentType: 'image/jpeg', filename: 'photo.jpg' };
    await expectAnswer(API_ROUTES.createUpload, 400, { body: { ...image } });
    await expectAnswer(API_ROUTES.listImages, 400, { queryStringParameters: { sort: 'newest' } });
    await expectAnswer(API_ROUTES.getUpload, 401, { owner: null, pathParameters: { uploadId: 'x' } });
    await expectAnswer(API_ROUTES.getImage, 404, {
      pathParameters: { imageId: randomBytes(32).toString('hex') },
    });
    const single = (await expectAnswer(API_ROUTES.createUpload, 201, {
      body: { ...image, size: 1234, method: 'PUT' },
    })) as { uploadId: string };
    const conflict = await expectAnswer(API_ROUTES.abortUpload, 409, {
      pathParameters: { uploadId: single.uploadId },
    });
    expect(conflict).toMatchObject({ error: { code: 'conflict', reason: 'upload_not_in_progress' } });
    await expectAnswer(API_ROUTES.createUpload, 413, { body: { ...image, size: 2 ** 40 } });
    await expectAnswer(API_ROUTES.createUpload, 415, {
      body: { ...image, contentType: 'text/plain', size: 9 },
    });

    // DynamoDB throttled past the SDK's retries, and then a fault nobody foresaw.
    for (const [status, failure] of [
      [503, new RetryableError('dependency_unavailable', 'the catalog is throttled')],
      [500, new TypeError('a bug')],
    ] as const) {
      const failing: typeof deps.catalog = Object.assign(Object.create(deps.catalog), {
        getUpload: async () => {
          throw failure;
        },
      });
      const handler = createApiHandler({ ...deps, catalog: failing });
      await expectAnswer(
        API_ROUTES.getUpload,
        status,
        { pathParameters: { uploadId: single.uploadId } },
        handler,
      );
    }
  });

  it('the webhook routes: registered (with its secret, once), listed, refused, removed', async () => {
    const caller = uniqueOwner('contract-hooks');
    // An address literal: the deployment's policy resolves names, and this machine has no DNS.
    const created = (await expectAnswer(API_ROUTES.createWebhook, 201, {
      owner: caller,
      body: { url: 'https://93.184.216.34/hooks', events: ['image.ready'] },
    })) as { webhookId: string; secret: string };
    expect(created.secret).toMatch(/^whsec_/);
    const listed = (await expectAnswer(API_ROUTES.listWebhooks, 200, { owner: caller })) as {
      items: Record<string, unknown>[];
    };
    expect(listed.items.map((item) => [item.webhookId, 'secret' in item])).toEqual([
      [created.webhookId, false],
    ]);
    await expectAnswer(API_ROUTES.createWebhook, 400, {
      owner: caller,
      body: { url: 'http://169.254.169.254/latest/meta-data/' },
    });
    const { webhookId } = created;
    await expectAnswer(API_ROUTES.deleteWebhook, 204, { owner: caller, pathParameters: { webhookId } });
    await expectAnswer(API_ROUTES.deleteWebhook, 404, { owner: caller, pathParameters: { webhookId } });
  });

  it('a body the document does not describe is caught', () => {
    expect(validate(API_ROUTES.getImage, 200, { imageId: 'x' })).not.toEqual([]);
    expect(validate(API_ROUTES.getImage, 418, {})).not.toEqual([]);
  });
});
