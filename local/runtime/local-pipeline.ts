import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { checkWebhookUrl } from '../../lambdas/adapters/net/webhook-transport.js';
import {
  ANNOUNCE_BATCH_SIZE,
  ANNOUNCE_RETRY_ATTEMPTS,
  ANNOUNCE_TIMEOUT_SECONDS,
  API_ROUTES,
  ENRICHMENT_BATCH_SIZE,
  ENRICHMENT_TIMEOUT_SECONDS,
  INGEST_TIMEOUT_SECONDS,
  ON_DEMAND_TIMEOUT_SECONDS,
  PUBLIC_API_ROUTES,
  UPLOADS_PREFIX,
} from '../../lambdas/contract.js';
import { parseSettings, type SettingsInput } from '../../lambdas/core/settings.js';
import { LOCAL_URL_POLICY } from '../../lambdas/core/webhook-urls.js';
import {
  announceDependenciesFromEnvironment,
  createAnnounceHandler,
} from '../../lambdas/handlers/announce.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { createEnrichHandler, enrichDependenciesFromEnvironment } from '../../lambdas/handlers/enrich.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import {
  createOnDemandHandler,
  onDemandDependenciesFromEnvironment,
} from '../../lambdas/handlers/on-demand.js';
import { createRenderHandler, renderDependenciesFromEnvironment } from '../../lambdas/handlers/render.js';
import { LocalJwt } from '../api/local-jwt.js';
import { startLocalApi } from '../api/server.js';
import { startLocalCdn } from '../cdn/server.js';
import { localEnrichment } from '../enrichment/local-enrichment.js';
import { functionUrlEvent } from '../events/function-url-event.js';
import { lambdaContext } from '../events/lambda-context.js';
import { twinFunctionEnvironment, twinImportEnvironment } from '../twin/environment.js';
import { startTwin, TWIN_CREDENTIALS, type TwinInfo, twinEnvironment } from '../twin/index.js';
import { buildWebAssets } from '../web/assets.js';
import { LocalEventBus } from './local-event-bus.js';
import { startQueuePoller } from './queue-poller.js';
import { type RenderLanesOptions, startBulkLane, startRenderLanes } from './render-lanes.js';
import { publishRuntimeFile } from './runtime-file.js';
import { type S3TriggerOptions, startS3Trigger } from './s3-trigger.js';
import { startStreamPoller } from './stream-poller.js';
import { startLocalWebhooks, webhookEventTarget } from './webhooks.js';

export interface LocalPipelineOptions {
  /** Where S3 objects, the DynamoDB database and the token signing key are kept between runs. */
  dataDir: string;
  /** Wipe `dataDir` first. */
  fresh?: boolean;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 lets the OS pick. @default 3000 */
  apiPort?: number;
  /** 0 lets the OS pick. @default 3001 */
  cdnPort?: number;
  settings?: SettingsInput;
  /** Render invocations at once per lane. @default the machine's cores */
  workers?: number;
  /**
   * Render invocations at once on the bulk queue (imports' jobs): the local equal of
   * `BULK_RENDER_MAX_CONCURRENCY`. One of a laptop's few cores, as ten are of an account's thousand:
   * an import renders steadily, and app uploads' lanes keep the other cores. @default 1
   */
  bulkWorkers?: number;
  /**
   * Whether this process renders. The fault suite renders in worker processes of its own (see
   * `startRenderLanes`), so that it can kill one mid-batch. @default true
   */
  renderInProcess?: boolean;
  /** Waits before the retries of a failed ingest invocation. @default [1000, 2000] */
  ingestRetryDelaysMs?: readonly number[];
  /** Fault injection (the fault suite): S3 events to deliver once more, after a delay. */
  redeliverS3EventAfterMs?: S3TriggerOptions['redeliverAfterMs'];
  /** Fault injection: render jobs also handed to a second invocation at once (see `startQueuePoller`). */
  redeliverRenderJob?: RenderLanesOptions['redeliver'];
}

export interface LocalPipeline {
  apiUrl: string;
  cdnUrl: string;
  twin: TwinInfo;
  /** What the import function runs with here: its render jobs go to the bulk queue this pipeline renders. */
  importEnvironment: Record<string, string>;
  /** The bus the pipeline's events go to: the demo page's event stream, webhooks and tests listen here. */
  events: Pick<LocalEventBus, 'listen' | 'addTarget'>;
  /** An outage drill (the fault suite): DynamoDB Local stops and starts again, its data kept. */
  restartDynamoDb(): Promise<void>;
  /** Stops accepting work, lets what is under way finish, and closes every server. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * What the demo page may load: itself, the CDN's images, ThumbHash data URLs, and calls to S3 for
 * uploads. `data:` among the calls is how Uppy reads the answers of the multipart steps the API takes
 * instead of S3 (`web/multipart.ts`); a data URL reaches nothing beyond the page.
 */
function contentSecurityPolicy(cdnUrl: string, s3Url: string): string {
  return [
    "default-src 'self'",
    `img-src 'self' data: blob: ${cdnUrl}`,
    `connect-src 'self' data: ${s3Url} ${cdnUrl}`,
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The whole pipeline on one machine: the twin's emulators (S3, DynamoDB, SQS), the very handlers
 * Lambda runs, wired as AWS wires them (S3 notifications → ingest, SQS → the render lanes, API
 * Gateway → the API), the CDN, and the demo page at the API's root.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const host = options.host ?? '127.0.0.1';
  // In Lambda, metrics are log lines CloudWatch turns into metrics; here they would only be noise.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  if (options.fresh) await rm(options.dataDir, { recursive: true, force: true });
  const settings = parseSettings(options.settings);
  const logger = new Logger({ serviceName: 'aperture-local' });
  const [twin, jwt, staticFiles] = await Promise.all([
    startTwin({ dataDir: options.dataDir, host }),
    LocalJwt.inDataDir(options.dataDir),
    buildWebAssets(),
  ]);
  const stops: Array<() => Promise<void>> = [() => twin.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => logger.error('stop failed', { error: error as Error }));
  };
  try {
    const clients = createAwsClients(twinEnvironment(twin));
    stops.push(async () => {
      clients.s3.destroy();
      clients.sqs.destroy();
      clients.dynamo.destroy();
    });
    // The functions are told the CDN's address, and the CDN falls back to one of them: it calls the
    // on-demand renderer through `onDemand`, built once the address is known.
    let onDemand: ReturnType<typeof createOnDemandHandler> | undefined;
    const cdn = await startLocalCdn({
      host,
      port: options.cdnPort ?? 3001,
      s3: clients.s3,
      bucket: twin.resources.imageBucket,
      settings,
      fallbackOrigin: async (method, path) => {
        if (!onDemand) throw new Error('the on-demand renderer is not ready yet');
        const result = await onDemand(
          functionUrlEvent(method, path),
          lambdaContext('aperture-on-demand', { timeoutSeconds: ON_DEMAND_TIMEOUT_SECONDS }),
        );
        return {
          statusCode: result.statusCode ?? 200,
          headers: (result.headers ?? {}) as Record<string, string>,
          body: Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8'),
        };
      },
    });
    stops.push(() => cdn.stop());

    const env = twinFunctionEnvironment(twin, settings, cdn.url);
    // With enrichment on, the offline models and index replace the AWS adapters the factories build.
    const offline = settings.enrichment.enabled
      ? localEnrichment(options.dataDir, clients.dynamo, twin.resources.table)
      : undefined;
    if (offline) stops.push(async () => offline.close());
    const ingest = createIngestHandler({
      ...ingestDependenciesFromEnvironment(env),
      ...(offline ? { vectors: offline.vectors } : {}),
    });
    const api = createApiHandler({
      ...apiDependenciesFromEnvironment(env),
      ...(offline ? { vectors: offline.vectors, search: offline.search } : {}),
      // Receivers on this machine, over http; no other private address (docs/webhooks.md).
      checkWebhookUrl: (url) => checkWebhookUrl(url, LOCAL_URL_POLICY),
    });
    onDemand = createOnDemandHandler(onDemandDependenciesFromEnvironment(env));

    // Started before anything can change the catalog: the stream is read from here on.
    const events = new LocalEventBus(twin.region, logger);
    const streams = new DynamoDBStreamsClient({
      region: twin.region,
      credentials: TWIN_CREDENTIALS,
      endpoint: twin.endpoints.dynamodb,
    });
    const announcer = startStreamPoller({
      streams,
      streamArn: twin.resources.tableStreamArn,
      batchSize: ANNOUNCE_BATCH_SIZE,
      attempts: ANNOUNCE_RETRY_ATTEMPTS + 1,
      functionName: 'aperture-announce',
      timeoutSeconds: ANNOUNCE_TIMEOUT_SECONDS,
      handler: createAnnounceHandler({ ...announceDependenciesFromEnvironment(env), bus: events }),
      logger,
    });
    stops.push(async () => {
      await announcer.stop();
      streams.destroy();
    });

    const trigger = startS3Trigger({
      twin,
      bucket: twin.resources.uploadBucket,
      prefix: UPLOADS_PREFIX,
      functionName: 'aperture-ingest',
      timeoutSeconds: INGEST_TIMEOUT_SECONDS,
      handler: ingest,
      logger,
      ...(options.ingestRetryDelaysMs ? { retryDelaysMs: options.ingestRetryDelaysMs } : {}),
      ...(options.redeliverS3EventAfterMs ? { redeliverAfterMs: options.redeliverS3EventAfterMs } : {}),
    });
    stops.push(() => trigger.stop());
    if (options.renderInProcess ?? true) {
      const render = createRenderHandler(renderDependenciesFromEnvironment(env));
      const lanes = startRenderLanes({
        sqs: clients.sqs,
        twin,
        handler: render,
        workers: options.workers ?? availableParallelism(),
        logger,
        ...(options.redeliverRenderJob ? { redeliver: options.redeliverRenderJob } : {}),
      });
      stops.push(() => lanes.stop());
      const bulk = startBulkLane({
        sqs: clients.sqs,
        twin,
        handler: render,
        workers: options.bulkWorkers ?? 1,
        logger,
      });
      stops.push(() => bulk.stop());
      if (offline) {
        const enrichment = startQueuePoller({
          sqs: clients.sqs,
          queue: twin.resources.enrichmentQueue,
          region: twin.region,
          batchSize: ENRICHMENT_BATCH_SIZE,
          // One image at a time: the offline tagger takes turns anyway (it keeps state between calls).
          concurrency: 1,
          functionName: 'aperture-enrich',
          timeoutSeconds: ENRICHMENT_TIMEOUT_SECONDS,
          handler: createEnrichHandler({
            ...enrichDependenciesFromEnvironment(env),
            models: offline.models,
            vectors: offline.vectors,
          }),
          logger,
        });
        stops.push(() => enrichment.stop());
      }
    }

    // Delivery never waits on the render lanes, nor they on it: it runs whatever renders.
    const webhooks = await startLocalWebhooks({ sqs: clients.sqs, twin, settings, logger });
    stops.push(() => webhooks.stop());
    // The rule on the bus that, in AWS, sends every pipeline event to the webhooks' fan-out queue.
    events.addTarget(webhookEventTarget(clients.sqs, twin.resources.webhookEvents.url));

    const server = await startLocalApi({
      host,
      port: options.apiPort ?? 3000,
      handler: api,
      routeKeys: Object.values(API_ROUTES),
      publicRouteKeys: PUBLIC_API_ROUTES,
      jwt,
      staticFiles,
      contentSecurityPolicy: contentSecurityPolicy(cdn.url, twin.endpoints.s3),
      events,
    });
    stops.push(() => server.stop());
    // From here browsers reach S3 from the page's origins only (while starting, from any: no page
    // was served yet, and S3's port is a fresh pick).
    await twin.admitBrowserOrigins(server.origins);
    // Lets `aperture --local` find this running runtime instead of starting emulators of its own.
    stops.push(
      await publishRuntimeFile(options.dataDir, twin, settings, { cdnBaseUrl: cdn.url, apiUrl: server.url }),
    );

    let stopping: Promise<void> | undefined;
    return {
      apiUrl: server.url,
      cdnUrl: cdn.url,
      twin: { region: twin.region, endpoints: twin.endpoints, resources: twin.resources },
      importEnvironment: twinImportEnvironment(twin, settings, cdn.url),
      events,
      restartDynamoDb: () => twin.restartDynamoDb(),
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
