import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { CloudFrontCache } from '../adapters/aws/cloudfront-cache.js';
import { cloudFrontUrlSignerFor } from '../adapters/aws/cloudfront-url-signer.js';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../adapters/aws/dynamo-owner-index.js';
import { DynamoWebhookEndpoints } from '../adapters/aws/dynamo-webhook-endpoints.js';
import { awsEmbedder, awsVectorFiling } from '../adapters/aws/enrichment-adapters.js';
import { S3ImageObjects } from '../adapters/aws/s3-image-objects.js';
import { S3MultipartUploads } from '../adapters/aws/s3-multipart-uploads.js';
import { S3UploadSigner } from '../adapters/aws/s3-upload-signer.js';
import { checkWebhookUrl } from '../adapters/net/webhook-transport.js';
import { API_ROUTES, type ApiRouteKey, type PublicApiRouteKey } from '../contract.js';
import { RetryableError } from '../core/errors.js';
import { isSha256Hex, isUploadId } from '../core/keys.js';
import { DEPLOYMENT_URL_POLICY } from '../core/webhook-urls.js';
import { functionRuntime, onColdStart, publishMetrics } from './function-runtime.js';
import { type HttpResult, httpErrors, json, ownerOf, parseJsonBody } from './http.js';
import { openApiDocument } from './openapi.js';
import { abortUploadRoute } from './routes/abort-upload.js';
import { completeUploadRoute } from './routes/complete-upload.js';
import { type CreateUploadDependencies, createUpload } from './routes/create-upload.js';
import { type CreateWebhookDependencies, createWebhookRoute } from './routes/create-webhook.js';
import { type DeleteImageRouteDependencies, deleteImageRoute } from './routes/delete-image.js';
import { type DeleteWebhookDependencies, deleteWebhookRoute } from './routes/delete-webhook.js';
import { type GetImageDependencies, getImage } from './routes/get-image.js';
import { type GetUploadDependencies, getUpload } from './routes/get-upload.js';
import { type ListImagesDependencies, listImages } from './routes/list-images.js';
import { type ListPartsDependencies, listPartsRoute } from './routes/list-parts.js';
import { type ListWebhooksDependencies, listWebhooksRoute } from './routes/list-webhooks.js';
import { type SearchImagesRouteDependencies, searchImagesRoute } from './routes/search-images.js';
import { type SignPartDependencies, signPartRoute } from './routes/sign-part.js';
import { type SimilarImagesDependencies, similarImages } from './routes/similar-images.js';

export interface ApiDependencies
  extends CreateUploadDependencies,
    GetUploadDependencies,
    SignPartDependencies,
    ListPartsDependencies,
    GetImageDependencies,
    ListImagesDependencies,
    DeleteImageRouteDependencies,
    SearchImagesRouteDependencies,
    SimilarImagesDependencies,
    CreateWebhookDependencies,
    ListWebhooksDependencies,
    DeleteWebhookDependencies {
  logger: Logger;
  metrics: Metrics;
}

/** What a route answers, plus the ids it learned, which go on every later log line of the request. */
interface RouteOutcome {
  result: HttpResult;
  uploadId?: string | undefined;
  imageId?: string | undefined;
  /** A business event worth one log line and one count. */
  event?: { message: string; metric: string };
}

type Route = (deps: ApiDependencies, owner: string, event: APIGatewayProxyEventV2) => Promise<RouteOutcome>;

/**
 * The routes API Gateway serves without an authorizer (`PUBLIC_API_ROUTES`): no caller to name, and
 * nothing a caller owns to answer with.
 */
const PUBLIC_ROUTES: Readonly<Record<PublicApiRouteKey, () => HttpResult>> = {
  // The same for every caller and every request until the next deployment: caches may keep it a while.
  [API_ROUTES.getOpenApi]: () => ({
    ...json(200, openApiDocument()),
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
  }),
};

/**
 * One line per route; typed by ApiRouteKey with the public ones, so every route the construct
 * creates is served.
 */
const ROUTES: Readonly<Record<Exclude<ApiRouteKey, PublicApiRouteKey>, Route>> = {
  [API_ROUTES.createUpload]: postUpload,
  [API_ROUTES.getUpload]: (deps, owner, event) => getUpload(deps, owner, event.pathParameters?.uploadId),
  [API_ROUTES.signUploadPart]: (deps, owner, event) =>
    signPartRoute(deps, owner, event.pathParameters?.uploadId, event.pathParameters?.partNumber),
  [API_ROUTES.listUploadParts]: (deps, owner, event) =>
    listPartsRoute(deps, owner, event.pathParameters?.uploadId),
  [API_ROUTES.completeUpload]: (deps, owner, event) =>
    completeUploadRoute(deps, owner, event.pathParameters?.uploadId, parseJsonBody(event)),
  [API_ROUTES.abortUpload]: (deps, owner, event) =>
    abortUploadRoute(deps, owner, event.pathParameters?.uploadId),
  [API_ROUTES.getImage]: (deps, owner, event) => getImage(deps, owner, event.pathParameters?.imageId),
  [API_ROUTES.listImages]: (deps, owner, event) => listImages(deps, owner, event.queryStringParameters),
  [API_ROUTES.deleteImage]: (deps, owner, event) =>
    deleteImageRoute(deps, owner, event.pathParameters?.imageId),
  [API_ROUTES.search]: (deps, owner, event) => searchImagesRoute(deps, owner, event.queryStringParameters),
  [API_ROUTES.similarImages]: (deps, owner, event) =>
    similarImages(deps, owner, event.pathParameters?.imageId, event.queryStringParameters),
  [API_ROUTES.createWebhook]: (deps, owner, event) => createWebhookRoute(deps, owner, parseJsonBody(event)),
  [API_ROUTES.listWebhooks]: (deps, owner) => listWebhooksRoute(deps, owner),
  [API_ROUTES.deleteWebhook]: (deps, owner, event) =>
    deleteWebhookRoute(deps, owner, event.pathParameters?.webhookId),
};

const isRouteKey = (routeKey: string): routeKey is keyof typeof ROUTES => Object.hasOwn(ROUTES, routeKey);
const isPublicRouteKey = (routeKey: string): routeKey is PublicApiRouteKey =>
  Object.hasOwn(PUBLIC_ROUTES, routeKey);

async function postUpload(
  deps: ApiDependencies,
  owner: string,
  event: APIGatewayProxyEventV2,
): Promise<RouteOutcome> {
  const outcome = await createUpload(deps, owner, parseJsonBody(event));
  return {
    ...outcome,
    event: outcome.uploadId
      ? { message: 'upload granted', metric: 'UploadsGranted' }
      : { message: 'duplicate upload answered from catalog', metric: 'DuplicateUploadsSkipped' },
  };
}

/**
 * The log keys for the ids a request named in its path or a route learned. Only well-formed ids are
 * kept: a refused request is logged with its id, but nothing else a caller typed in a path reaches
 * the log, and a missing id never blanks one appended earlier.
 */
function logKeys(ids: { uploadId?: string | undefined; imageId?: string | undefined }) {
  const { uploadId, imageId } = ids;
  return {
    ...(uploadId && isUploadId(uploadId) ? { uploadId } : {}),
    ...(imageId && isSha256Hex(imageId) ? { imageId } : {}),
  };
}

/** Builds the API handler around explicit dependencies, so tests and the local runtime run this exact code. */
export function createApiHandler(deps: ApiDependencies) {
  const { logger, metrics } = deps;
  return middy<APIGatewayProxyEventV2, HttpResult, Error, Context>({
    // Out of time means a dependency was too slow (a burst of requests, an outage): a 503 the client
    // retries, not a 500.
    timeoutEarlyResponse: () => {
      throw new RetryableError(
        'dependency_unavailable',
        'the request ran out of time waiting on a dependency; try again',
      );
    },
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .use(httpErrors(logger))
    .handler(async (event) => {
      const { routeKey } = event;
      if (isPublicRouteKey(routeKey)) return PUBLIC_ROUTES[routeKey]();
      if (!isRouteKey(routeKey)) {
        return json(404, { error: { code: 'route_not_found', message: `no route ${routeKey}` } });
      }
      logger.appendKeys(logKeys(event.pathParameters ?? {}));
      const owner = ownerOf(event);
      const outcome = await ROUTES[routeKey](deps, owner, event);
      logger.appendKeys(logKeys(outcome));
      if (outcome.event) {
        logger.info(outcome.event.message);
        metrics.addMetric(outcome.event.metric, MetricUnit.Count, 1);
      }
      return outcome.result;
    });
}

/** Production wiring: clients and config built once per cold start from the validated environment. */
export function apiDependenciesFromEnvironment(env: Record<string, string | undefined>): ApiDependencies {
  const { config, clients, logger, metrics } = functionRuntime(env, 'aperture-api');
  const vectors = awsVectorFiling(config, clients.dynamo, env);
  const embedder = awsEmbedder(config.settings.enrichment, env);
  return {
    settings: config.settings,
    catalog: new DynamoCatalog(clients.dynamo, config.table),
    signer: new S3UploadSigner(clients.s3, config.uploadBucket),
    multipart: new S3MultipartUploads(clients.s3, config.uploadBucket),
    cdnBaseUrl: config.cdnBaseUrl,
    objects: new S3ImageObjects(clients.s3, config.imageBucket),
    cdn: config.distributionId ? new CloudFrontCache(clients.cloudfront, config.distributionId) : undefined,
    ownerIndex: new DynamoOwnerIndex(clients.dynamo, config.table),
    vectors,
    search: vectors && embedder ? { embedder, vectorIndex: vectors.index } : undefined,
    urlSigner: cloudFrontUrlSignerFor(config.signedUrls, clients.secrets),
    webhooks: new DynamoWebhookEndpoints(clients.dynamo, config.table),
    // The deployment's policy, always: nothing in settings or the environment loosens it.
    checkWebhookUrl: (url) => checkWebhookUrl(url, DEPLOYMENT_URL_POLICY),
    now: () => new Date(),
    logger,
    metrics,
  };
}

export const handler = onColdStart(() => createApiHandler(apiDependenciesFromEnvironment(process.env)));
