import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CATALOG_TABLE, EVENT_CLAIM_SECONDS, EVENT_LEDGER_DAYS } from '../../contract.js';
import type { EventClaim, EventLedger } from '../../ports/event-ledger.js';
import { epochSeconds } from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/**
 * The ledger as items of the catalog table, claimed with a conditional put (absent, or claimed by a
 * publisher whose claim lapsed) as the render leases are. Kept `EVENT_LEDGER_DAYS`, far longer than
 * the stream keeps a change (24 hours), then swept by TTL.
 */
export class DynamoEventLedger implements EventLedger {
  private readonly table: DynamoTable;

  constructor(dynamo: DynamoDBDocumentClient, tableName: string) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async claim(eventId: string, now: Date): Promise<EventClaim> {
    const seconds = epochSeconds(now);
    const { written } = await this.table.put(
      'claim event',
      { eventId },
      {
        Item: {
          ...catalogKeys.event(eventId),
          type: 'event',
          state: 'claimed',
          claimedUntil: seconds + EVENT_CLAIM_SECONDS,
          [CATALOG_TABLE.timeToLiveAttribute]: seconds + EVENT_LEDGER_DAYS * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR (#state = :claimed AND claimedUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':claimed': 'claimed', ':now': seconds },
      },
    );
    if (written) return 'claimed';
    const item = await this.table.get('read event claim', { eventId }, catalogKeys.event(eventId));
    return item?.state === 'published' ? 'published' : 'held_elsewhere';
  }

  async markPublished(eventId: string, now: Date): Promise<void> {
    await this.table.update(
      'mark event published',
      { eventId },
      {
        Key: catalogKeys.event(eventId),
        UpdateExpression: 'SET #state = :published, publishedAt = :at REMOVE claimedUntil',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':published': 'published', ':at': now.toISOString() },
      },
    );
  }

  async release(eventId: string): Promise<void> {
    await this.table.delete(
      'release event claim',
      { eventId },
      {
        Key: catalogKeys.event(eventId),
        ConditionExpression: '#state = :claimed',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':claimed': 'claimed' },
      },
    );
  }
}
