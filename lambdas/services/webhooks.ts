import { NotFoundError, RetryableError, ValidationError } from '../core/errors.js';
import { EVENT_TYPES, type PipelineEvent } from '../core/events.js';
import type { Settings } from '../core/settings.js';
import {
  type DeploymentEndpoint,
  deliveriesFor,
  isWebhookId,
  newWebhookId,
  newWebhookSecret,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookRegistration,
  webhookHeaders,
} from '../core/webhooks.js';
import type {
  DeliveryAttempt,
  WebhookDeliveryQueue,
  WebhookEndpoints,
  WebhookTransport,
} from '../ports/webhooks.js';

export interface RegisterWebhookDependencies {
  settings: Settings;
  webhooks: WebhookEndpoints;
  /** The URL policy's check of a URL (its form, then every address its host resolves to). */
  checkWebhookUrl: (url: string) => Promise<unknown>;
  now: () => Date;
}

/** A new endpoint of the owner's, with its secret: the only time the secret leaves the catalog. */
export async function registerWebhook(
  deps: RegisterWebhookDependencies,
  owner: string,
  request: WebhookRegistration,
): Promise<WebhookEndpoint> {
  await deps.checkWebhookUrl(request.url);
  const endpoint: WebhookEndpoint = {
    webhookId: newWebhookId(),
    owner,
    url: request.url,
    events: request.events ?? [...EVENT_TYPES],
    description: request.description,
    secret: newWebhookSecret(),
    createdAt: deps.now(),
  };
  const max = deps.settings.webhooks.maxEndpointsPerOwner;
  if ((await deps.webhooks.create(endpoint, max)) === 'limit_reached') {
    throw new ValidationError(`an owner may register ${max} webhook endpoints at most`, 'url');
  }
  return endpoint;
}

/** Removes one of the owner's endpoints; another owner's id is as unknown as a made-up one. */
export async function deleteWebhook(
  deps: { webhooks: WebhookEndpoints },
  owner: string,
  webhookId: string,
): Promise<void> {
  const deleted = isWebhookId(webhookId) && (await deps.webhooks.delete(owner, webhookId));
  if (!deleted) throw new NotFoundError('webhook not found');
}

export interface FanOutDependencies {
  webhooks: WebhookEndpoints;
  deliveries: WebhookDeliveryQueue;
  /** The deployment's own endpoints, which hear every owner's events. */
  deploymentEndpoints: readonly DeploymentEndpoint[];
}

/**
 * One delivery per endpoint of the event's owner subscribed to its type, and per deployment endpoint
 * subscribed to it; how many were queued.
 */
export async function fanOutEvent(deps: FanOutDependencies, event: PipelineEvent): Promise<number> {
  const owned = await deps.webhooks.list(event.owner);
  const deliveries = deliveriesFor(event, owned, deps.deploymentEndpoints);
  await deps.deliveries.enqueue(deliveries);
  return deliveries.length;
}

export interface DeliverWebhookDependencies {
  webhooks: WebhookEndpoints;
  deploymentEndpoints: readonly DeploymentEndpoint[];
  /** A deployment endpoint's secret, by its ARN (Secrets Manager). */
  readSecret: (secretArn: string) => Promise<string>;
  transport: WebhookTransport;
  now: () => Date;
}

export type DeliveryOutcome =
  | { outcome: 'delivered'; status: number }
  /** The endpoint was deleted after the event was fanned out: its deliveries are dropped. */
  | { outcome: 'endpoint_gone' };

/** Thrown for a failed attempt: it is retried on the schedule, then parked. */
export class DeliveryFailedError extends RetryableError {
  constructor(
    readonly attempt: Extract<DeliveryAttempt, { outcome: 'failed' }>,
    context: Record<string, unknown>,
  ) {
    super('endpoint_failed', `webhook delivery failed: ${attempt.detail}`, {
      ...context,
      reason: attempt.reason,
      status: attempt.status,
    });
  }
}

/**
 * One attempt of one delivery, signed afresh (the timestamp is the attempt's), to the endpoint as it
 * now stands: its URL is judged again here, and a deleted endpoint gets nothing.
 */
export async function deliverWebhook(
  deps: DeliverWebhookDependencies,
  delivery: WebhookDelivery,
): Promise<DeliveryOutcome> {
  const endpoint = await endpointOf(deps, delivery);
  if (!endpoint) return { outcome: 'endpoint_gone' };
  const headers = webhookHeaders(endpoint.secret, delivery, deps.now());
  const attempt = await deps.transport.post(endpoint.url, headers, delivery.body);
  if (attempt.outcome === 'failed') {
    throw new DeliveryFailedError(attempt, { webhookId: delivery.webhookId, messageId: delivery.messageId });
  }
  return attempt;
}

/** Where a delivery goes now: an owner's endpoint from the catalog, or the deployment's from its configuration. */
async function endpointOf(
  deps: DeliverWebhookDependencies,
  delivery: WebhookDelivery,
): Promise<{ url: string; secret: string } | undefined> {
  if (delivery.scope === 'owner') return deps.webhooks.get(delivery.owner, delivery.webhookId);
  const configured = deps.deploymentEndpoints.find((endpoint) => endpoint.webhookId === delivery.webhookId);
  return configured && { url: configured.url, secret: await deps.readSecret(configured.secretArn) };
}
