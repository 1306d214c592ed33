import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import sharp from 'sharp';
import { DynamoCatalog } from '../adapters/aws/dynamo-catalog.js';
import { DynamoRenderLeases } from '../adapters/aws/dynamo-render-leases.js';
import { IMMUTABLE_CACHE_CONTROL, S3DerivativeStore } from '../adapters/aws/s3-derivative-store.js';
import { DERIVATIVES_PREFIX } from '../contract.js';
import { readRendererEnvironment } from '../core/environment.js';
import { RetryableError } from '../core/errors.js';
import { type OnDemandDependencies, renderOnDemand } from '../services/render-on-demand.js';
import { functionRuntime, onColdStart, publishMetrics } from './function-runtime.js';

// Each original is decoded once per request: libvips' operation cache would only hold memory.
sharp.cache(false);

export interface OnDemandHandlerDependencies extends OnDemandDependencies {
  logger: Logger;
  metrics: Metrics;
}

/** How long CloudFront keeps a "nothing here": short, as the variant may be rendered soon after. */
const NOT_FOUND_CACHE_CONTROL = 'public, max-age=10';
/**
 * How long CloudFront keeps a "no such page": the answer cannot change (the image is its bytes, the
 * variant's fit is in the key's revision), so each edge asks again only every few minutes, however
 * many page numbers are tried.
 */
const NO_SUCH_PAGE_CACHE_CONTROL = 'public, max-age=300';
/** About one render: by then the lease holder has usually stored the variant, or DynamoDB is back. */
const RETRY_AFTER_SECONDS = 5;

const answer = (
  statusCode: number,
  cacheControl: string,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': cacheControl, ...headers },
  body: JSON.stringify({ message }),
});

/**
 * The CDN's fallback origin (a Lambda function URL behind Origin Access Control): CloudFront asks it
 * for a derivative S3 did not have, by the same path it asked S3 for under `/derived`. It answers
 * with the bytes, cached like any derivative; a 404, cached briefly, or for minutes when the image
 * has no such page; or a 503 to retry, cached nowhere.
 */
export function createOnDemandHandler(deps: OnDemandHandlerDependencies) {
  const { logger, metrics } = deps;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .handler(async (event) => {
      const method = event.requestContext.http.method;
      if (method !== 'GET' && method !== 'HEAD') return answer(405, 'no-store', 'GET or HEAD only');
      const key = `${DERIVATIVES_PREFIX}${event.rawPath.replace(/^\/+/, '')}`;
      try {
        const outcome = await renderOnDemand(deps, key);
        logger.info('on-demand request', {
          key,
          outcome: outcome.outcome,
          ...('why' in outcome ? { why: outcome.why } : {}),
        });
        metrics.addMetric(`OnDemand_${outcome.outcome}`, MetricUnit.Count, 1);
        if (outcome.outcome === 'not_found') return answer(404, NOT_FOUND_CACHE_CONTROL, 'not found');
        if (outcome.outcome === 'no_such_page') return answer(404, NO_SUCH_PAGE_CACHE_CONTROL, 'not found');
        return {
          statusCode: 200,
          headers: {
            'content-type': outcome.contentType,
            'content-length': String(outcome.bytes.length),
            'cache-control': IMMUTABLE_CACHE_CONTROL,
          },
          body: method === 'HEAD' ? '' : outcome.bytes.toString('base64'),
          isBase64Encoded: method !== 'HEAD',
        };
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        logger.warn('on-demand render unavailable', { key, error });
        // no-store keeps browsers and proxies from holding it; CloudFront caches a 503 whatever it
        // says, for as long as the distribution's error caching allows (none: lib/image-cdn.ts).
        return answer(503, 'no-store', 'try again shortly', { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
    });
}

export function onDemandDependenciesFromEnvironment(
  env: Record<string, string | undefined>,
): OnDemandHandlerDependencies {
  const { config, clients, logger, metrics } = functionRuntime(
    env,
    'aperture-on-demand',
    readRendererEnvironment,
  );
  return {
    settings: config.settings,
    catalog: new DynamoCatalog(clients.dynamo, config.table),
    store: new S3DerivativeStore(clients.s3, config.imageBucket),
    leases: new DynamoRenderLeases(clients.dynamo, config.table),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    logger,
    metrics,
  };
}

export const handler = onColdStart(() =>
  createOnDemandHandler(onDemandDependenciesFromEnvironment(process.env)),
);
