import { z } from 'zod';
import { ENV } from '../contract.js';
import { mapLanes, WORK_LANES, type WorkLane } from './render-jobs.js';
import { parseSettings, type Settings } from './settings.js';
import { describeIssues } from './validation.js';
import { type DeploymentEndpoint, deploymentEndpointSchema } from './webhooks.js';

/**
 * Reads and writes the environment the deployment contract names (`ENV`): what CDK sets and the
 * handlers read. Pure: callers pass the environment in (process.env in Lambda, a literal in tests).
 */

const settingsJson = z.string().transform((text, ctx): Settings => {
  try {
    return parseSettings(JSON.parse(text));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** What every function reads, the on-demand renderer included. */
const rendererEnvironmentSchema = z.object({
  [ENV.settings]: settingsJson,
  [ENV.imageBucket]: z.string().min(1),
  [ENV.table]: z.string().min(1),
});

const functionEnvironmentSchema = rendererEnvironmentSchema
  .extend({
    [ENV.uploadBucket]: z.string().min(1),
    [ENV.cdnBaseUrl]: z.url(),
    [ENV.distributionId]: z.string().min(1).optional(),
    [ENV.signedUrls]: z
      .string()
      .transform((text) => JSON.parse(text) as unknown)
      .pipe(
        z.strictObject({
          keyPairId: z.string().min(1),
          privateKeySecret: z.string().min(1),
          ttlSeconds: z.number().int().min(60),
        }),
      )
      .optional(),
    ...Object.fromEntries(WORK_LANES.map((lane) => [ENV.queueUrl(lane), z.url()])),
    [ENV.enrichmentQueueUrl]: z.url().optional(),
    [ENV.vectorIndex]: z
      .string()
      .transform((text) => JSON.parse(text) as unknown)
      .pipe(z.strictObject({ indexArn: z.string().min(1) }))
      .optional(),
    [ENV.eventBus]: z.string().min(1).optional(),
    [ENV.webhookDeliveryQueueUrl]: z.url().optional(),
    [ENV.webhookDeadLetterQueueUrl]: z.url().optional(),
  })
  .superRefine((values, ctx) => {
    // Enrichment switched on without its queue (or embeddings without their index) would silently
    // never happen: a deployment like that is refused at the first invocation instead.
    const { enrichment } = values[ENV.settings];
    if (enrichment.enabled && !values[ENV.enrichmentQueueUrl])
      ctx.addIssue({
        code: 'custom',
        path: [ENV.enrichmentQueueUrl],
        message: 'required when enrichment is enabled',
      });
    if (enrichment.enabled && enrichment.embeddings.enabled && !values[ENV.vectorIndex])
      ctx.addIssue({
        code: 'custom',
        path: [ENV.vectorIndex],
        message: 'required when embeddings are enabled',
      });
  });

export interface FunctionEnvironment {
  settings: Settings;
  uploadBucket: string;
  imageBucket: string;
  table: string;
  cdnBaseUrl: string;
  /** The CloudFront distribution whose caches a delete clears; none where nothing caches (locally). */
  distributionId?: string | undefined;
  /**
   * Private delivery: the CDN only serves signed URLs, which the API signs with the key pair's
   * private key (held in a Secrets Manager secret), each valid for `ttlSeconds`.
   */
  signedUrls?: SignedUrlConfig | undefined;
  /** Each render lane's queue. */
  queueUrls: Record<WorkLane, string>;
  /** The enrichment lane's queue: there when `settings.enrichment.enabled`. */
  enrichmentQueueUrl?: string | undefined;
  /** The S3 Vectors index embeddings are filed in: there when embeddings are enabled. */
  vectorIndex?: VectorIndexLocation | undefined;
  /** The EventBridge bus events are published to: set on the announce function only. */
  eventBus?: string | undefined;
  /**
   * The webhook deliveries queue and its dead-letter queue: not set on any function of the pipeline's
   * (the webhook functions read `readWebhookEnvironment`); the CLI is told them to replay parked deliveries.
   */
  webhookQueues?: WebhookQueues | undefined;
}

export interface WebhookQueues {
  deliveryQueueUrl: string;
  deadLetterQueueUrl: string;
}

/** An S3 Vectors index (one per embedding model and size), by its ARN, which every vector request takes. */
export interface VectorIndexLocation {
  indexArn: string;
}

export interface SignedUrlConfig {
  keyPairId: string;
  /** The ARN or name of the secret holding the PEM private key. */
  privateKeySecret: string;
  ttlSeconds: number;
}

/** Reads and validates the function environment; throws naming each missing or bad variable. */
export function readFunctionEnvironment(env: Record<string, string | undefined>): FunctionEnvironment {
  const parsed = functionEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Aperture function environment is invalid: ${describeIssues(parsed.error)}`);
  }
  const values = parsed.data;
  return {
    settings: values[ENV.settings],
    uploadBucket: values[ENV.uploadBucket],
    imageBucket: values[ENV.imageBucket],
    table: values[ENV.table],
    cdnBaseUrl: values[ENV.cdnBaseUrl].replace(/\/+$/, ''),
    distributionId: values[ENV.distributionId],
    signedUrls: values[ENV.signedUrls],
    queueUrls: mapLanes((lane) => (values as Record<string, unknown>)[ENV.queueUrl(lane)] as string),
    enrichmentQueueUrl: values[ENV.enrichmentQueueUrl],
    vectorIndex: values[ENV.vectorIndex],
    eventBus: values[ENV.eventBus],
    webhookQueues: webhookQueuesOf(
      values[ENV.webhookDeliveryQueueUrl],
      values[ENV.webhookDeadLetterQueueUrl],
    ),
  };
}

function webhookQueuesOf(
  deliveryQueueUrl: string | undefined,
  deadLetterQueueUrl: string | undefined,
): WebhookQueues | undefined {
  return deliveryQueueUrl && deadLetterQueueUrl ? { deliveryQueueUrl, deadLetterQueueUrl } : undefined;
}

/** What the on-demand renderer reads. It sits behind the CDN, so it cannot be told the CDN's address. */
export type RendererEnvironment = Pick<FunctionEnvironment, 'settings' | 'imageBucket' | 'table'>;

export function readRendererEnvironment(env: Record<string, string | undefined>): RendererEnvironment {
  const parsed = rendererEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Aperture renderer environment is invalid: ${describeIssues(parsed.error)}`);
  }
  const values = parsed.data;
  return { settings: values[ENV.settings], imageBucket: values[ENV.imageBucket], table: values[ENV.table] };
}

/** The inverse of readRendererEnvironment: what the construct sets on the on-demand renderer. */
export function rendererEnvironmentVariables(config: RendererEnvironment): Record<string, string> {
  return {
    [ENV.settings]: JSON.stringify(config.settings),
    [ENV.imageBucket]: config.imageBucket,
    [ENV.table]: config.table,
  };
}

/** The inverse of readFunctionEnvironment: what the construct (and the local runtime) sets. */
export function functionEnvironmentVariables(config: FunctionEnvironment): Record<string, string> {
  return {
    ...rendererEnvironmentVariables(config),
    [ENV.uploadBucket]: config.uploadBucket,
    [ENV.cdnBaseUrl]: config.cdnBaseUrl,
    ...(config.distributionId ? { [ENV.distributionId]: config.distributionId } : {}),
    ...(config.signedUrls ? { [ENV.signedUrls]: JSON.stringify(config.signedUrls) } : {}),
    ...Object.fromEntries(WORK_LANES.map((lane) => [ENV.queueUrl(lane), config.queueUrls[lane]])),
    ...(config.enrichmentQueueUrl ? { [ENV.enrichmentQueueUrl]: config.enrichmentQueueUrl } : {}),
    ...(config.vectorIndex ? { [ENV.vectorIndex]: JSON.stringify(config.vectorIndex) } : {}),
    ...(config.eventBus ? { [ENV.eventBus]: config.eventBus } : {}),
    ...(config.webhookQueues
      ? {
          [ENV.webhookDeliveryQueueUrl]: config.webhookQueues.deliveryQueueUrl,
          [ENV.webhookDeadLetterQueueUrl]: config.webhookQueues.deadLetterQueueUrl,
        }
      : {}),
  };
}

/** What the webhook functions read: the settings (the retry schedule), the table and the deliveries queue. */
export interface WebhookEnvironment {
  settings: Settings;
  table: string;
  deliveryQueueUrl: string;
  /** The deployment's own endpoints, besides the owners'. */
  deploymentEndpoints?: DeploymentEndpoint[] | undefined;
}

const webhookEnvironmentSchema = z.object({
  [ENV.settings]: settingsJson,
  [ENV.table]: z.string().min(1),
  [ENV.webhookDeliveryQueueUrl]: z.url(),
  [ENV.webhookDeploymentEndpoints]: z
    .string()
    .transform((text) => JSON.parse(text) as unknown)
    .pipe(z.array(deploymentEndpointSchema))
    .optional(),
});

export function readWebhookEnvironment(env: Record<string, string | undefined>): WebhookEnvironment {
  const parsed = webhookEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Aperture webhook environment is invalid: ${describeIssues(parsed.error)}`);
  }
  const values = parsed.data;
  return {
    settings: values[ENV.settings],
    table: values[ENV.table],
    deliveryQueueUrl: values[ENV.webhookDeliveryQueueUrl],
    deploymentEndpoints: values[ENV.webhookDeploymentEndpoints],
  };
}

/** The inverse of readWebhookEnvironment: what the construct (and the local runtime) sets. */
export function webhookEnvironmentVariables(config: WebhookEnvironment): Record<string, string> {
  return {
    [ENV.settings]: JSON.stringify(config.settings),
    [ENV.table]: config.table,
    [ENV.webhookDeliveryQueueUrl]: config.deliveryQueueUrl,
    ...(config.deploymentEndpoints?.length
      ? { [ENV.webhookDeploymentEndpoints]: JSON.stringify(config.deploymentEndpoints) }
      : {}),
  };
}

/** What the import function reads: the pipeline's environment, and the bulk queue its render jobs go to. */
export interface ImportEnvironment extends FunctionEnvironment {
  bulkQueueUrl: string;
}

export function readImportEnvironment(env: Record<string, string | undefined>): ImportEnvironment {
  const bulkQueueUrl = z.url().safeParse(env[ENV.bulkQueueUrl]);
  if (!bulkQueueUrl.success) {
    throw new Error(
      `Aperture import environment is invalid: ${ENV.bulkQueueUrl}: ${describeIssues(bulkQueueUrl.error)}`,
    );
  }
  return { ...readFunctionEnvironment(env), bulkQueueUrl: bulkQueueUrl.data };
}

/** The inverse of readImportEnvironment: what the construct (and the local runtime) sets. */
export function importEnvironmentVariables(config: ImportEnvironment): Record<string, string> {
  return { ...functionEnvironmentVariables(config), [ENV.bulkQueueUrl]: config.bulkQueueUrl };
}
