import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WebhookEndpoint } from '../../core/webhooks.js';
import type { WebhookEndpoints } from '../../ports/webhooks.js';
import { webhookFromItem, webhookToItem } from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/** Owners' webhook endpoints, one partition per owner in the catalog table (`catalogKeys.webhook`). */
export class DynamoWebhookEndpoints implements WebhookEndpoints {
  private readonly table: DynamoTable;

  constructor(dynamo: DynamoDBDocumentClient, tableName: string) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  /**
   * Counts, then puts. Two registrations racing at the cap can both pass the count: the cap is a
   * guard on fan-out per event, not an exact quota, and one over it does no harm.
   */
  async create(endpoint: WebhookEndpoint, max: number): Promise<'created' | 'limit_reached'> {
    const { owner, webhookId } = endpoint;
    const { Count = 0 } = await this.table.query(
      'count webhook endpoints',
      { webhookId },
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': catalogKeys.webhooks(owner) },
        Select: 'COUNT',
        ConsistentRead: true,
      },
    );
    if (Count >= max) return 'limit_reached';
    const { written } = await this.table.put(
      'record webhook endpoint',
      { webhookId },
      { Item: webhookToItem(endpoint), ConditionExpression: 'attribute_not_exists(pk)' },
    );
    // Ids are 96 random bits: a clash is a bug, not a race.
    if (!written) throw new Error(`webhook id ${webhookId} is taken`);
    return 'created';
  }

  async list(owner: string): Promise<WebhookEndpoint[]> {
    // One page holds them all: an owner has at most `maxEndpointsPerOwner` (100 at most), a few hundred bytes each.
    const { Items = [] } = await this.table.query(
      'list webhook endpoints',
      {},
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': catalogKeys.webhooks(owner) },
        ConsistentRead: true,
      },
    );
    return Items.map(webhookFromItem);
  }

  async get(owner: string, webhookId: string): Promise<WebhookEndpoint | undefined> {
    const item = await this.table.get(
      'get webhook endpoint',
      { webhookId },
      catalogKeys.webhook(owner, webhookId),
    );
    return item && webhookFromItem(item);
  }

  async delete(owner: string, webhookId: string): Promise<boolean> {
    const { written } = await this.table.delete(
      'delete webhook endpoint',
      { webhookId },
      { Key: catalogKeys.webhook(owner, webhookId), ConditionExpression: 'attribute_exists(pk)' },
    );
    return written;
  }
}
