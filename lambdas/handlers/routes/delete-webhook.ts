import type { WebhookEndpoints } from '../../ports/webhooks.js';
import { deleteWebhook } from '../../services/webhooks.js';
import type { HttpResult } from '../http.js';

export interface DeleteWebhookDependencies {
  webhooks: WebhookEndpoints;
}

/**
 * `DELETE /v1/webhooks/{webhookId}`: 204 once the endpoint is gone (deliveries already queued for it
 * are dropped); 404 for an id that is malformed, unknown, another owner's or already deleted alike.
 */
export async function deleteWebhookRoute(
  deps: DeleteWebhookDependencies,
  owner: string,
  webhookId: string | undefined,
): Promise<{ result: HttpResult; event: { message: string; metric: string } }> {
  await deleteWebhook(deps, owner, webhookId ?? '');
  return {
    result: { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' },
    event: { message: 'webhook endpoint deleted', metric: 'WebhooksDeleted' },
  };
}
