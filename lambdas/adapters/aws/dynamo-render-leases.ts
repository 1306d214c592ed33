import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CATALOG_TABLE } from '../../contract.js';
import type { RenderLeases } from '../../ports/render-leases.js';
import { epochSeconds } from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/**
 * Leases as items of the catalog table, taken with a conditional put: free, or held past its
 * expiry (a holder that crashed). DynamoDB's TTL sweeps them up later; the condition, not the TTL,
 * decides.
 */
export class DynamoRenderLeases implements RenderLeases {
  private readonly table: DynamoTable;

  constructor(
    dynamo: DynamoDBDocumentClient,
    tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async acquire(name: string, seconds: number): Promise<boolean> {
    const now = epochSeconds(this.now());
    const { written } = await this.table.put(
      'acquire render lease',
      { lease: name },
      {
        Item: {
          ...catalogKeys.lease(name),
          type: 'lease',
          [CATALOG_TABLE.timeToLiveAttribute]: now + seconds,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #expires < :now',
        ExpressionAttributeNames: { '#expires': CATALOG_TABLE.timeToLiveAttribute },
        ExpressionAttributeValues: { ':now': now },
      },
    );
    return written;
  }

  async release(name: string): Promise<void> {
    await this.table.delete('release render lease', { lease: name }, { Key: catalogKeys.lease(name) });
  }
}
