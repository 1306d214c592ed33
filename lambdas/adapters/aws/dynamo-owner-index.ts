import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../core/errors.js';
import { isSha256Hex } from '../../core/keys.js';
import type { Page } from '../../ports/catalog.js';
import type { OwnerIndex } from '../../ports/owner-index.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/**
 * The owner index as items of the catalog table (`catalogKeys.indexEntry`): one partition per owner
 * and term, one key-only item per image in it, sorted by the image's hash. Works the same on
 * DynamoDB Local, so `npm start` searches through this very code.
 */
export class DynamoOwnerIndex implements OwnerIndex {
  private readonly table: DynamoTable;

  constructor(dynamo: DynamoDBDocumentClient, tableName: string) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async put(owner: string, imageId: string, terms: readonly string[]): Promise<void> {
    await this.table.batchWrite(
      'put index entries',
      { imageId },
      terms.map((term) => ({ put: catalogKeys.indexEntry(owner, term, imageId) })),
    );
  }

  async remove(owner: string, imageId: string, terms: readonly string[]): Promise<void> {
    await this.table.batchWrite(
      'remove index entries',
      { imageId },
      terms.map((term) => ({ delete: catalogKeys.indexEntry(owner, term, imageId) })),
    );
  }

  /**
   * The cursor is the last image's hash: it is checked to be one, and the partition comes from the
   * owner and term alone, so a forged cursor can only skip ahead within the caller's own entries.
   */
  async query(
    owner: string,
    term: string,
    options: { cursor?: string; limit: number },
  ): Promise<Page<string>> {
    const { pk } = catalogKeys.indexEntry(owner, term, '');
    if (options.cursor !== undefined && !isSha256Hex(options.cursor))
      throw new ValidationError('the cursor is not one this API issued', 'cursor');
    const { Items = [], LastEvaluatedKey } = await this.table.query(
      'query index',
      { term },
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: options.cursor === undefined ? undefined : { pk, sk: options.cursor },
        Limit: options.limit,
      },
    );
    return {
      items: Items.map((item) => String(item.sk)),
      cursor: LastEvaluatedKey === undefined ? undefined : String(LastEvaluatedKey.sk),
    };
  }

  async seek(owner: string, term: string, from: string): Promise<string | undefined> {
    const { pk } = catalogKeys.indexEntry(owner, term, '');
    const { Items = [] } = await this.table.query(
      'seek index',
      { term },
      {
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': pk, ':from': from },
        Limit: 1,
      },
    );
    return Items[0] === undefined ? undefined : String(Items[0].sk);
  }
}
