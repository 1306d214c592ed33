import { webhookView } from '../../core/webhooks.js';
import type { WebhookEndpoints } from '../../ports/webhooks.js';
import { type HttpResult, json } from '../http.js';

export interface ListWebhooksDependencies {
  webhooks: WebhookEndpoints;
}

/** `GET /v1/webhooks`: the caller's endpoints, oldest first, without their secrets. */
export async function listWebhooksRoute(
  deps: ListWebhooksDependencies,
  owner: string,
): Promise<{ result: HttpResult }> {
  const endpoints = await deps.webhooks.list(owner);
  endpoints.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return { result: json(200, { items: endpoints.map(webhookView) }) };
}
