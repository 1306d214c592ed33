/**
 * The API's OpenAPI 3.1 document, generated from the zod schemas the routes validate requests with
 * and build answers by, so the published contract cannot drift from the code. Served at
 * `GET /v1/openapi.json` and committed as `docs/openapi.json` (a unit test keeps the two equal).
 *
 * Adding a route: add it to `API_ROUTES`, then one entry to `OPERATIONS` below (the compiler insists),
 * naming its query schema or body, its answers by status and the error statuses it can give; a new
 * body or answer is registered once in `REQUEST_SCHEMAS` or `RESPONSE_SCHEMAS`.
 */

import { z } from 'zod';
import { API_ROUTES, type ApiRouteKey, PUBLIC_API_ROUTES } from '../contract.js';
import { errorBodySchema, gatewayErrorBodySchema } from '../core/error-body.js';
import {
  imagePageSchema,
  imageViewSchema,
  linkViewSchema,
  searchPageSchema,
  similarImagesSchema,
  similarImageViewSchema,
  uploadViewSchema,
  variantViewSchema,
} from '../core/image-views.js';
import { MAX_PARTS } from '../core/multipart.js';
import {
  completedUploadViewSchema,
  completeUploadRequestSchema,
  duplicateUploadViewSchema,
  listedPartsSchema,
  listedPartViewSchema,
  multipartGrantViewSchema,
  partUrlViewSchema,
  uploadGrantSchema,
  uploadGrantViewSchema,
} from '../core/upload-views.js';
import { uploadRequestSchema } from '../core/uploads.js';
import {
  createdWebhookViewSchema,
  webhookListSchema,
  webhookRegistrationSchema,
  webhookViewSchema,
} from '../core/webhooks.js';
import { listQuerySchema } from './routes/list-images.js';
import { searchQuerySchema } from './routes/search-images.js';
import { similarQuerySchema } from './routes/similar-images.js';

/** Named answers: each becomes `#/components/schemas/{name}`, shared where several routes give it. */
export const RESPONSE_SCHEMAS = {
  UploadView: uploadViewSchema,
  UploadGrant: uploadGrantSchema,
  SingleUploadGrant: uploadGrantViewSchema,
  MultipartUploadGrant: multipartGrantViewSchema,
  DuplicateUpload: duplicateUploadViewSchema,
  PartUrl: partUrlViewSchema,
  ListedPart: listedPartViewSchema,
  ListedParts: listedPartsSchema,
  CompletedUpload: completedUploadViewSchema,
  VariantView: variantViewSchema,
  ImageView: imageViewSchema,
  LinkView: linkViewSchema,
  ImagePage: imagePageSchema,
  SearchPage: searchPageSchema,
  SimilarImage: similarImageViewSchema,
  SimilarImages: similarImagesSchema,
  Error: errorBodySchema,
  GatewayError: gatewayErrorBodySchema,
  Webhook: webhookViewSchema,
  CreatedWebhook: createdWebhookViewSchema,
  WebhookList: webhookListSchema,
  OpenApiDocument: z.looseObject({
    openapi: z.literal('3.1.0'),
    info: z.looseObject({}),
    paths: z.looseObject({}),
  }),
} as const;

/** Named request bodies, described as the route reads them (before defaults and transforms). */
export const REQUEST_SCHEMAS = {
  UploadRequest: uploadRequestSchema,
  CompleteUploadRequest: completeUploadRequestSchema,
  WebhookRegistration: webhookRegistrationSchema,
} as const;

type ResponseName = keyof typeof RESPONSE_SCHEMAS;
type RequestName = keyof typeof REQUEST_SCHEMAS;

/** The statuses the API's own error body comes with (`errorResult`); 429 is API Gateway's alone. */
type ErrorStatus = 400 | 404 | 409 | 413 | 415;
/** Any route may be throttled (429); an authenticated one may also find no identity, a dependency down, or a fault. */
type CommonStatus = ErrorStatus | 401 | 429 | 500 | 503;

export interface Operation {
  summary: string;
  description?: string;
  tag: 'uploads' | 'images' | 'search' | 'webhooks' | 'meta';
  /** The route's query string: a strict object whose keys are the parameters. */
  query?: z.ZodObject;
  body?: RequestName;
  /** Success answers by status; `null` for one without a body (204). */
  responses: Partial<Record<200 | 201 | 204, { description: string; schema: ResponseName | null }>>;
  /** What the route itself refuses with, besides `CommonStatus`'s. */
  errors: readonly ErrorStatus[];
}

/** One entry per route, typed by `ApiRouteKey`: a route without its operation does not compile. */
export const OPERATIONS: { readonly [Key in ApiRouteKey]: Operation } = {
  [API_ROUTES.createUpload]: {
    tag: 'uploads',
    summary: 'Start an upload',
    description:
      'A presigned upload (POST form or PUT), or with `method: "MULTIPART"` an S3 multipart upload whose parts are signed one by one; 200 with the existing image when the caller already has these bytes (`sha256`).',
    body: 'UploadRequest',
    responses: {
      201: { description: 'Send the bytes as the grant says.', schema: 'UploadGrant' },
      200: { description: 'The caller already has these bytes.', schema: 'DuplicateUpload' },
    },
    errors: [400, 413, 415],
  },
  [API_ROUTES.getUpload]: {
    tag: 'uploads',
    summary: "An upload's state",
    description: "`pending` until ingest decides, then `rejected` (with a reason) or the image's status.",
    responses: { 200: { description: 'The upload.', schema: 'UploadView' } },
    errors: [404],
  },
  [API_ROUTES.signUploadPart]: {
    tag: 'uploads',
    summary: 'Sign one part of a multipart upload',
    responses: { 200: { description: 'A URL for exactly this part.', schema: 'PartUrl' } },
    errors: [400, 404, 409],
  },
  [API_ROUTES.listUploadParts]: {
    tag: 'uploads',
    summary: 'The parts S3 holds for a multipart upload',
    responses: { 200: { description: 'Every part, by number.', schema: 'ListedParts' } },
    errors: [404, 409],
  },
  [API_ROUTES.completeUpload]: {
    tag: 'uploads',
    summary: 'Complete a multipart upload',
    description: 'Idempotent: completing a completed upload answers 200 again.',
    body: 'CompleteUploadRequest',
    responses: { 200: { description: 'S3 assembled the object.', schema: 'CompletedUpload' } },
    errors: [400, 404, 409, 413],
  },
  [API_ROUTES.abortUpload]: {
    tag: 'uploads',
    summary: 'Abort a multipart upload in progress',
    responses: {
      204: { description: 'Aborted; the upload reads `rejected`, reason `aborted`.', schema: null },
    },
    errors: [404, 409],
  },
  [API_ROUTES.getImage]: {
    tag: 'images',
    summary: 'One of the caller’s images',
    responses: { 200: { description: 'The image and its variants.', schema: 'ImageView' } },
    errors: [404],
  },
  [API_ROUTES.listImages]: {
    tag: 'images',
    summary: 'The caller’s images, a page at a time',
    query: listQuerySchema,
    responses: { 200: { description: 'A page of links, newest first.', schema: 'ImagePage' } },
    errors: [400],
  },
  [API_ROUTES.deleteImage]: {
    tag: 'images',
    summary: 'Remove an image from the caller’s library',
    responses: {
      204: { description: 'Gone from the library, whether or not others keep it.', schema: null },
    },
    errors: [404, 409],
  },
  [API_ROUTES.search]: {
    tag: 'search',
    summary: 'Search the caller’s images',
    description: 'By `tag`, `q` or `colour` (one at least); every criterion must hold.',
    query: searchQuerySchema,
    responses: { 200: { description: 'A page of images.', schema: 'SearchPage' } },
    errors: [400],
  },
  [API_ROUTES.similarImages]: {
    tag: 'search',
    summary: 'The caller’s images that look like this one',
    query: similarQuerySchema,
    responses: { 200: { description: 'Near-duplicates, nearest first.', schema: 'SimilarImages' } },
    errors: [400, 404],
  },
  [API_ROUTES.createWebhook]: {
    tag: 'webhooks',
    summary: 'Register a webhook endpoint',
    description:
      'https only, never a private, loopback, link-local or metadata address (by literal or by what the name resolves to). The secret that signs deliveries (Standard Webhooks) is in this answer only.',
    body: 'WebhookRegistration',
    responses: { 201: { description: 'Registered; keep the secret.', schema: 'CreatedWebhook' } },
    errors: [400],
  },
  [API_ROUTES.listWebhooks]: {
    tag: 'webhooks',
    summary: 'The caller’s webhook endpoints',
    responses: { 200: { description: 'Every endpoint, without secrets.', schema: 'WebhookList' } },
    errors: [],
  },
  [API_ROUTES.deleteWebhook]: {
    tag: 'webhooks',
    summary: 'Remove a webhook endpoint',
    responses: { 204: { description: 'Removed; its pending deliveries are dropped.', schema: null } },
    errors: [404],
  },
  [API_ROUTES.getOpenApi]: {
    tag: 'meta',
    summary: 'This document',
    responses: { 200: { description: 'The OpenAPI 3.1 document.', schema: 'OpenApiDocument' } },
    errors: [],
  },
};

/** Path parameters by name, wherever a route key has `{name}`. */
const PATH_PARAMETERS: Record<string, { description: string; schema: Record<string, unknown> }> = {
  uploadId: {
    description: 'As `POST /v1/uploads` gave it; any other answers 404.',
    schema: { type: 'string' },
  },
  imageId: {
    description: 'The SHA-256 of the bytes, hex; any other answers 404.',
    schema: { type: 'string' },
  },
  webhookId: {
    description: 'As `POST /v1/webhooks` gave it; any other answers 404.',
    schema: { type: 'string' },
  },
  partNumber: {
    description: 'From 1 to the grant’s `partCount`.',
    schema: { type: 'integer', minimum: 1, maximum: MAX_PARTS },
  },
};

const ERROR_DESCRIPTIONS: Record<CommonStatus, string> = {
  400: 'The request is malformed; `field` names the input at fault.',
  401: 'No identity the API can use: API Gateway refuses the credentials (`{"message"}`), or the function the identity.',
  404: 'No such thing, or not the caller’s: the two are answered alike.',
  409: 'The state does not allow it now; `reason` says why.',
  413: 'Too large: the declared size (`too_large`), or a body above API Gateway’s 10 MB (`{"message"}`).',
  415: 'Not an image type the deployment accepts.',
  429: 'Throttled by API Gateway; retry with backoff.',
  500: 'A fault of the API (`internal_error`); the details are in its log, not the answer.',
  503: 'A dependency is unavailable or too slow; retry with backoff.',
};

const ref = (name: ResponseName | RequestName) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });

/** Statuses API Gateway may answer with its own `{"message"}` instead of (or as well as) the function. */
const GATEWAY_STATUSES = new Set([401, 413, 429]);

function errorResponse(status: CommonStatus) {
  const schema =
    status === 429
      ? ref('GatewayError')
      : GATEWAY_STATUSES.has(status)
        ? { anyOf: [ref('Error'), ref('GatewayError')] }
        : ref('Error');
  return { description: ERROR_DESCRIPTIONS[status], content: jsonContent(schema) };
}

/** JSON Schema 2020-12 components; refs between them point at `#/components/schemas/{name}`. */
function components(schemas: Record<string, z.ZodType>, io: 'input' | 'output') {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  // Each component would name its dialect and itself; the document's `jsonSchemaDialect` does the first,
  // and its place in the document the second.
  return Object.fromEntries(
    Object.entries(generated).map(([id, { $schema: _dialect, $id: _self, ...schema }]) => [id, schema]),
  );
}

function queryParameters(query: z.ZodObject) {
  const { properties = {}, required = [] } = z.toJSONSchema(query, { target: 'draft-2020-12', io: 'input' });
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...schema } = property as { description?: string };
    return {
      name,
      in: 'query',
      required: required.includes(name),
      ...(description ? { description } : {}),
      schema,
    };
  });
}

function operationObject(operationId: string, routeKey: ApiRouteKey, operation: Operation) {
  const isPublic = (PUBLIC_API_ROUTES as readonly string[]).includes(routeKey);
  const path = routeKey.split(' ')[1] ?? '';
  const pathParameters = [...path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => {
    const parameter = PATH_PARAMETERS[name];
    if (!parameter) throw new Error(`route ${routeKey}: path parameter ${name} is not described`);
    return { name, in: 'path', required: true, ...parameter };
  });
  const parameters = [...pathParameters, ...(operation.query ? queryParameters(operation.query) : [])];
  // The stage's throttle applies to every route; the authorizer, the dependencies and faults to the others.
  const errors: CommonStatus[] = [...operation.errors, 429, ...(isPublic ? [] : ([401, 500, 503] as const))];
  return {
    operationId,
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body ? { requestBody: { required: true, content: jsonContent(ref(operation.body)) } } : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(operation.responses).map(([status, { description, schema }]) => [
          status,
          {
            description,
            ...(schema ? { content: jsonContent(ref(schema)) } : {}),
          },
        ]),
      ),
      ...Object.fromEntries(errors.sort((a, b) => a - b).map((status) => [status, errorResponse(status)])),
    },
    // Whatever the deployment's authorizer: the document describes the API, not the caller.
    ...(isPublic ? { security: [] } : {}),
  };
}

let built: ReturnType<typeof buildDocument> | undefined;

/** The document, as served and as committed; built once per cold start, on first use. */
export function openApiDocument() {
  built ??= buildDocument();
  return built;
}

function buildDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, routeKey] of Object.entries(API_ROUTES) as Array<[string, ApiRouteKey]>) {
    const [method = '', path = ''] = routeKey.split(' ');
    paths[path] = {
      ...paths[path],
      [method.toLowerCase()]: operationObject(operationId, routeKey, OPERATIONS[routeKey]),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aperture',
      version: '1',
      summary: 'Uploads, images and search of an Aperture image pipeline.',
      description:
        'Every route but this document needs the caller’s identity: a JWT (`bearer`) where the deployment names an issuer, an AWS SigV4 signature (`sigv4`) otherwise. The caller is the owner: images are never shared between owners.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    // Relative: the document is served by the very API it describes, at its root's `/v1/openapi.json`.
    servers: [{ url: '/', description: 'The API that serves this document.' }],
    security: [{ bearer: [] }, { sigv4: [] }],
    tags: [
      { name: 'uploads', description: 'Presigned and multipart uploads, and their state.' },
      { name: 'images', description: 'The caller’s images.' },
      { name: 'search', description: 'By tag, words, colour or likeness.' },
      { name: 'webhooks', description: 'Endpoints the caller’s events are delivered to, signed.' },
      { name: 'meta', description: 'This document.' },
    ],
    paths,
    components: {
      schemas: {
        ...components(REQUEST_SCHEMAS, 'input'),
        ...components(RESPONSE_SCHEMAS, 'output'),
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT from the deployment’s issuer; its `sub` is the owner.',
        },
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 for `execute-api` (a deployment without a JWT issuer); the caller’s principal ARN is the owner.',
        },
      },
    },
  };
}
