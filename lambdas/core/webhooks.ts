import { createHash, createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { EVENT_TYPES, type EventType, type PipelineEvent } from './events.js';

/**
 * Webhooks: what an owner registers, and what each delivery carries, after the Standard Webhooks
 * convention (standardwebhooks.com), so that its libraries verify Aperture's deliveries as they are.
 * docs/webhooks.md describes the algorithm to receivers. Pure but for the random bytes of new ids
 * and secrets.
 */

/** Secrets are `whsec_` and the base64 of the key's bytes; the HMAC key is those bytes, not the text. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** 32 bytes: Standard Webhooks asks for 24 to 64. */
const SECRET_BYTES = 32;

const WEBHOOK_ID = /^wh_[0-9a-f]{24}$/;

export const isWebhookId = (text: string): boolean => WEBHOOK_ID.test(text);

export function newWebhookId(): string {
  return `wh_${randomBytes(12).toString('hex')}`;
}

export function newWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------------
// The API's shapes (exported for the OpenAPI document, which is generated from them)

/** `POST /v1/webhooks`'s body. The URL's form is checked here, where it may go by the URL policy. */
export const webhookRegistrationSchema = z.strictObject({
  url: z.string().min(1).max(2048),
  /** The event types delivered; all of them when left out. */
  events: z
    .array(z.enum(EVENT_TYPES))
    .min(1)
    .max(EVENT_TYPES.length)
    .refine((types) => new Set(types).size === types.length, { message: 'an event type is named twice' })
    .optional(),
  description: z.string().max(256).optional(),
});

export type WebhookRegistration = z.output<typeof webhookRegistrationSchema>;

/** An endpoint as `GET /v1/webhooks` shows it: never its secret. */
export const webhookViewSchema = z.strictObject({
  webhookId: z.string().regex(WEBHOOK_ID),
  url: z.string(),
  events: z.array(z.enum(EVENT_TYPES)),
  description: z.string().optional(),
  createdAt: z.iso.datetime(),
});

export type WebhookView = z.output<typeof webhookViewSchema>;

/** `POST /v1/webhooks`'s answer: the one time the secret is shown. */
export const createdWebhookViewSchema = webhookViewSchema.extend({
  // A pattern rather than `startsWith`, which JSON Schema would only know as an unknown `format`.
  secret: z
    .string()
    .regex(new RegExp(`^${WEBHOOK_SECRET_PREFIX}[A-Za-z0-9+/]+={0,2}$`))
    .describe('Signs every delivery (Standard Webhooks); shown this once.'),
});

export const webhookListSchema = z.strictObject({ items: z.array(webhookViewSchema) });

/** An endpoint as the catalog keeps it. */
export interface WebhookEndpoint {
  webhookId: string;
  owner: string;
  url: string;
  events: EventType[];
  description?: string | undefined;
  secret: string;
  createdAt: Date;
}

export function webhookView(endpoint: WebhookEndpoint): WebhookView {
  return {
    webhookId: endpoint.webhookId,
    url: endpoint.url,
    events: endpoint.events,
    ...(endpoint.description === undefined ? {} : { description: endpoint.description }),
    createdAt: endpoint.createdAt.toISOString(),
  };
}

/**
 * An endpoint of the deployment itself (the construct's `endpoints`), not of an owner: it hears every
 * owner's events of its types. Its secret stays in Secrets Manager; only its ARN is configured.
 */
export const deploymentEndpointSchema = z.strictObject({
  webhookId: z.string().regex(WEBHOOK_ID),
  url: z.string().min(1),
  events: z.array(z.enum(EVENT_TYPES)).min(1),
  secretArn: z.string().min(1),
});

export type DeploymentEndpoint = z.output<typeof deploymentEndpointSchema>;

/** A deployment endpoint's id: the same on every deploy while its place and URL stay. */
export function deploymentWebhookId(index: number, url: string): string {
  return `wh_${createHash('sha256').update(`${index}:${url}`).digest('hex').slice(0, 24)}`;
}

// ---------------------------------------------------------------------------------------------------
// Deliveries

/**
 * One event for one endpoint, as a message on the deliveries queue. The body is made once, at fan-out,
 * so every attempt sends (and signs) the very same bytes under the same `webhook-id`.
 */
export const webhookDeliverySchema = z.strictObject({
  owner: z.string().min(1),
  webhookId: z.string().regex(WEBHOOK_ID),
  /** The event's id: `webhook-id`, what receivers dedupe on. */
  messageId: z.string().min(1),
  eventType: z.enum(EVENT_TYPES),
  body: z.string().min(1),
  /** Whose endpoint: the owner's (in the catalog) or the deployment's (in the configuration). */
  scope: z.enum(['owner', 'deployment']).default('owner'),
});

export type WebhookDelivery = z.output<typeof webhookDeliverySchema>;

/** The Standard Webhooks payload: `{type, timestamp, data}`, the data being the event itself. */
export function webhookBody(event: PipelineEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: event });
}

/**
 * The deliveries an event makes: one per endpoint of its owner subscribed to its type, and one per
 * deployment endpoint subscribed to it. Endpoints of another owner never get it, whoever passed them in.
 */
export function deliveriesFor(
  event: PipelineEvent,
  endpoints: readonly WebhookEndpoint[],
  deploymentEndpoints: readonly DeploymentEndpoint[] = [],
): WebhookDelivery[] {
  const body = webhookBody(event);
  const delivery = (webhookId: string, scope: WebhookDelivery['scope']): WebhookDelivery => ({
    owner: event.owner,
    webhookId,
    messageId: event.id,
    eventType: event.type,
    body,
    scope,
  });
  return [
    ...endpoints
      .filter((endpoint) => endpoint.owner === event.owner && endpoint.events.includes(event.type))
      .map((endpoint) => delivery(endpoint.webhookId, 'owner')),
    ...deploymentEndpoints
      .filter((endpoint) => endpoint.events.includes(event.type))
      .map((endpoint) => delivery(endpoint.webhookId, 'deployment')),
  ];
}

/**
 * `v1,` and the base64 HMAC-SHA256, keyed with the secret's bytes, of `{id}.{timestamp}.{body}`: the
 * Standard Webhooks signature (the header may list several, space-separated, while a secret rotates).
 */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new RangeError('not a webhook secret');
  const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The headers of one attempt; the timestamp is the attempt's, so receivers can refuse stale replays. */
export function webhookHeaders(secret: string, delivery: WebhookDelivery, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': delivery.messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(secret, delivery.messageId, timestamp, delivery.body),
  };
}

/**
 * After the `receiveCount`th attempt failed: the wait before the next one, or `undefined` when the
 * schedule is used up and the delivery is to be parked. Attempts = schedule length + 1.
 */
export function retryDelaySeconds(schedule: readonly number[], receiveCount: number): number | undefined {
  return schedule[receiveCount - 1];
}

/** The deliveries queue's `maxReceiveCount`: every attempt of the schedule, then the dead-letter queue. */
export function deliveryAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}
