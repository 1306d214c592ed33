import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { emptyTally, type ImportDecision, type ImportTally } from '../../core/imports.js';
import { REJECTION_REASONS } from '../../core/rejections.js';
import type { ImportTallies } from '../../ports/import-tallies.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/** The tally item's counter for a decision: `new`, `duplicate`, `rejected_too_large`, … */
const counterOf = (decision: ImportDecision): string =>
  decision.kind === 'rejected' ? `rejected_${decision.reason}` : decision.kind;

/**
 * One item per import in the catalog (`IMPORT#{id}`), its counters added to atomically (`ADD`), so
 * batches running at once never lose each other's counts. Each count is one transaction with a mark
 * on the upload it counts (`tallied`, only on an upload of this import, only once): a decision is
 * counted exactly once, whatever is retried or resumed.
 */
export class DynamoImportTallies implements ImportTallies {
  private readonly table: DynamoTable;

  constructor(dynamo: DynamoDBDocumentClient, tableName: string) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async count(importId: string, uploadId: string, decision: ImportDecision): Promise<void> {
    // Refused when counted already: nothing more to do.
    await this.table.transact('count import decision', { importId, uploadId }, [
      {
        conflict: 'counted',
        item: {
          Update: {
            Key: catalogKeys.upload(uploadId),
            UpdateExpression: 'SET tallied = :true',
            ConditionExpression: 'importId = :importId AND attribute_not_exists(tallied)',
            ExpressionAttributeValues: { ':true': true, ':importId': importId },
          },
        },
      },
      {
        conflict: 'counted',
        item: {
          Update: {
            Key: catalogKeys.importTally(importId),
            UpdateExpression: 'SET #type = :type ADD #counter :one',
            ExpressionAttributeNames: { '#type': 'type', '#counter': counterOf(decision) },
            ExpressionAttributeValues: { ':type': 'import', ':one': 1 },
          },
        },
      },
    ]);
  }

  async get(importId: string): Promise<ImportTally> {
    const item = await this.table.get('read import tally', { importId }, catalogKeys.importTally(importId));
    const tally = emptyTally();
    if (!item) return tally;
    tally.new = Number(item.new ?? 0);
    tally.duplicate = Number(item.duplicate ?? 0);
    for (const reason of REJECTION_REASONS) {
      const count = Number(item[counterOf({ kind: 'rejected', reason })] ?? 0);
      if (count > 0) tally.rejected[reason] = count;
    }
    return tally;
  }
}
