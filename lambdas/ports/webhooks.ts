import type { WebhookDelivery, WebhookEndpoint } from '../core/webhooks.js';

/** Owners' webhook endpoints, in the catalog table; every read and write names the owner. */
export interface WebhookEndpoints {
  /** Records the endpoint unless its owner has `max` already. */
  create(endpoint: WebhookEndpoint, max: number): Promise<'created' | 'limit_reached'>;
  list(owner: string): Promise<WebhookEndpoint[]>;
  get(owner: string, webhookId: string): Promise<WebhookEndpoint | undefined>;
  /** False when the owner had no such endpoint. */
  delete(owner: string, webhookId: string): Promise<boolean>;
}

/** Where fan-out puts one message per delivery. */
export interface WebhookDeliveryQueue {
  enqueue(deliveries: readonly WebhookDelivery[]): Promise<void>;
}

/** Holds a received delivery back for a while: its next attempt (SQS `ChangeMessageVisibility`). */
export interface WebhookRetries {
  retryAfter(receiptHandle: string, seconds: number): Promise<void>;
}

/** What one attempt came to. Only a 2xx answer is a delivery; redirects are never followed. */
export type DeliveryAttempt =
  | { outcome: 'delivered'; status: number }
  | {
      outcome: 'failed';
      reason: 'status' | 'redirect' | 'timeout' | 'network' | 'address_refused';
      status?: number | undefined;
      detail: string;
    };

/** POSTs a delivery to an endpoint, connecting only to an address the URL policy allows. */
export interface WebhookTransport {
  post(url: string, headers: Record<string, string>, body: string): Promise<DeliveryAttempt>;
}

/** Resolves a host name to every address it has (the transport's DNS, injectable for tests). */
export type HostResolver = (hostname: string) => Promise<string[]>;
