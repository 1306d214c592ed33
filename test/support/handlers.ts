import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings, type Settings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import { createRenderHandler, renderDependenciesFromEnvironment } from '../../lambdas/handlers/render.js';
import type { WorkQueue } from '../../lambdas/ports/work-queue.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { sqsEvent } from '../../local/events/sqs-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { apiEvent } from './api-events.js';
import { twinEnv, twinInfo } from './twin.js';
import { seedUpload } from './uploads.js';

/** The real ingest, render and API handlers on the run's twin, called as Lambda calls them. */
export interface TwinHandlers {
  /** The function environment they were made from. */
  env: Record<string, string>;
  /**
   * Uploads the bytes for the owner and runs the ingest handler on the S3 event, again after a
   * transient failure as Lambda's asynchronous retries would; returns the render jobs it queued.
   */
  ingest(owner: string, bytes: Buffer): Promise<RenderJob[]>;
  /** Runs the jobs through the render handler as one SQS batch; throws if any message failed. */
  render(jobs: readonly RenderJob[]): Promise<void>;
  /** One request through the API handler. */
  api(
    routeKey: string,
    owner: string,
    request?: { pathParameters?: Record<string, string>; queryStringParameters?: Record<string, string> },
  ): Promise<{ status: number; body: string }>;
}

export function twinHandlers(settings: Settings = parseSettings()): TwinHandlers {
  const info = twinInfo();
  const clients = createAwsClients(twinEnv());
  const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
  const env = twinFunctionEnvironment(info, settings, 'https://cdn.example');
  const api = createApiHandler(apiDependenciesFromEnvironment(env));
  const render = createRenderHandler(renderDependenciesFromEnvironment(env));
  return {
    env,
    async ingest(owner, bytes) {
      const jobs: RenderJob[] = [];
      const queue: WorkQueue = { enqueue: async (queued) => void jobs.push(...queued) };
      const handler = createIngestHandler({ ...ingestDependenciesFromEnvironment(env), queue });
      const uploadBucket = info.resources.uploadBucket;
      const sent = await seedUpload({ catalog, s3: clients.s3, uploadBucket }, bytes, { owner });
      const event = objectCreatedEvent({ bucket: uploadBucket, ...sent });
      for (let attempt = 1; ; attempt++) {
        try {
          await handler(event, lambdaContext('aperture-ingest'));
          return jobs;
        } catch (error) {
          if (!(error instanceof RetryableError) || attempt === 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    async render(jobs) {
      const messages = jobs.map((job, i) => ({
        MessageId: `m-${i}`,
        ReceiptHandle: `r-${i}`,
        Body: JSON.stringify(job),
      }));
      const { batchItemFailures } = await render(
        sqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:render'),
        lambdaContext('aperture-render'),
      );
      if (batchItemFailures.length > 0)
        throw new Error(`render jobs failed: ${JSON.stringify(batchItemFailures)}`);
    },
    async api(routeKey, owner, request = {}) {
      const response = await api(apiEvent(routeKey, { owner, ...request }), lambdaContext('aperture-api'));
      return { status: response.statusCode, body: response.body };
    },
  };
}
