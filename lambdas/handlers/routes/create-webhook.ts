import { type WebhookView, webhookRegistrationSchema, webhookView } from '../../core/webhooks.js';
import { type RegisterWebhookDependencies, registerWebhook } from '../../services/webhooks.js';
import { type HttpResult, json, parseInput } from '../http.js';

export type CreateWebhookDependencies = RegisterWebhookDependencies;

/**
 * `POST /v1/webhooks`: registers an endpoint of the caller's, answering 201 with its secret, which is
 * shown this once. A URL the policy refuses (not https, a private, loopback, link-local or metadata
 * address, by literal or by what its name resolves to) is a 400 naming `url`.
 */
export async function createWebhookRoute(
  deps: CreateWebhookDependencies,
  owner: string,
  body: unknown,
): Promise<{ result: HttpResult; event: { message: string; metric: string } }> {
  const request = parseInput(webhookRegistrationSchema, body, 'body');
  const endpoint = await registerWebhook(deps, owner, request);
  const view: WebhookView & { secret: string } = { ...webhookView(endpoint), secret: endpoint.secret };
  return {
    result: json(201, view),
    event: { message: 'webhook endpoint registered', metric: 'WebhooksRegistered' },
  };
}
