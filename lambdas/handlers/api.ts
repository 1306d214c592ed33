import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createAwsClients } from '../adapters/aws/clients.js';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { S3UploadSigner } from '../adapters/aws/s3-upload-signer.js';
import { readFunctionEnvironment } from '../core/environment.js';
import { API_ROUTES } from './api-routes.js';
import { type HttpResult, httpErrors, json, ownerOf, parseJsonBody } from './http.js';
import { type CreateUploadDependencies, createUpload } from './routes/create-upload.js';

export interface ApiDependencies extends CreateUploadDependencies {
  logger: Logger;
  metrics: Metrics;
}

/** Builds the API handler around explicit dependencies, so tests and the local runtime run this exact code. */
export function createApiHandler(deps: ApiDependencies) {
  const { logger, metrics } = deps;
  return middy<APIGatewayProxyEventV2, HttpResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpErrors(logger))
    .handler(async (event) => {
      if (event.routeKey !== API_ROUTES.createUpload) {
        return json(404, { error: { code: 'route_not_found', message: `no route ${event.routeKey}` } });
      }
      const owner = ownerOf(event);
      const outcome = await createUpload(deps, owner, parseJsonBody(event));
      logger.appendKeys({ uploadId: outcome.uploadId, imageId: outcome.imageId });
      logger.info(outcome.uploadId ? 'upload granted' : 'duplicate upload answered from catalog');
      metrics.addMetric(outcome.uploadId ? 'UploadsGranted' : 'DuplicateUploadsSkipped', MetricUnit.Count, 1);
      return outcome.result;
    });
}

/** Production wiring: clients and config built once per cold start from the validated environment. */
export function apiDependenciesFromEnvironment(env: Record<string, string | undefined>): ApiDependencies {
  const config = readFunctionEnvironment(env);
  const clients = createAwsClients(env);
  return {
    settings: config.settings,
    catalog: new DynamoCatalog(clients.dynamo, config.table),
    signer: new S3UploadSigner(clients.s3, config.uploadBucket),
    now: () => new Date(),
    logger: new Logger({ serviceName: 'aperture-api' }),
    metrics: new Metrics({ namespace: 'Aperture', serviceName: 'aperture-api' }),
  };
}

let coldStartHandler: ReturnType<typeof createApiHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2, context: Context) => {
  coldStartHandler ??= createApiHandler(apiDependenciesFromEnvironment(process.env));
  return coldStartHandler(event, context);
};
