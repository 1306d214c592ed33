import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CATALOG_TABLE } from '../../contract.js';
import type { RenderLeases } from '../../ports/render-leases.js';
import { epochSeconds } from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { toDomainError } from './dependency-errors.js';

/**
 * Leases as items of the catalog table, taken with a conditional put: free, or held past its
 * expiry (a holder that crashed). DynamoDB's TTL sweeps them up later; the condition, not the TTL,
 * decides.
 */
export class DynamoRenderLeases implements RenderLeases {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async acquire(name: string, seconds: number): Promise<boolean> {
    const now = epochSeconds(this.now());
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...catalogKeys.lease(name),
            type: 'lease',
            [CATALOG_TABLE.timeToLiveAttribute]: now + seconds,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #expires < :now',
          ExpressionAttributeNames: { '#expires': CATALOG_TABLE.timeToLiveAttribute },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw toDomainError(error, 'acquire render lease', { lease: name });
    }
  }

  async release(name: string): Promise<void> {
    try {
      await this.dynamo.send(new DeleteCommand({ TableName: this.table, Key: catalogKeys.lease(name) }));
    } catch (error) {
      throw toDomainError(error, 'release render lease', { lease: name });
    }
  }
}
