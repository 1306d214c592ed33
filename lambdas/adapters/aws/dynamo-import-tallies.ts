import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { emptyTally, type ImportTally } from '../../core/imports.js';
import { REJECTION_REASONS } from '../../core/rejections.js';
import type { ImportTallies } from '../../ports/import-tallies.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/** Per rejection reason, its counter's attribute: `rejected_too_large`, … */
const rejectedAttribute = (reason: string) => `rejected_${reason}`;

/**
 * One item per import in the catalog (`IMPORT#{id}`), its counters added to atomically (`ADD`), so
 * batches running at once never lose each other's counts.
 */
export class DynamoImportTallies implements ImportTallies {
  private readonly table: DynamoTable;

  constructor(dynamo: DynamoDBDocumentClient, tableName: string) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async add(importId: string, tally: ImportTally): Promise<void> {
    const counters: Record<string, number> = { new: tally.new, duplicate: tally.duplicate };
    for (const [reason, count] of Object.entries(tally.rejected)) counters[rejectedAttribute(reason)] = count;
    const nonZero = Object.entries(counters).filter(([, count]) => count > 0);
    if (nonZero.length === 0) return;
    await this.table.update(
      'add to import tally',
      { importId },
      {
        Key: catalogKeys.importTally(importId),
        UpdateExpression: `SET #type = :type ADD ${nonZero.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
        ExpressionAttributeNames: {
          '#type': 'type',
          ...Object.fromEntries(nonZero.map(([name], i) => [`#c${i}`, name])),
        },
        ExpressionAttributeValues: {
          ':type': 'import',
          ...Object.fromEntries(nonZero.map(([, count], i) => [`:c${i}`, count])),
        },
      },
    );
  }

  async get(importId: string): Promise<ImportTally> {
    const item = await this.table.get('read import tally', { importId }, catalogKeys.importTally(importId));
    const tally = emptyTally();
    if (!item) return tally;
    tally.new = Number(item.new ?? 0);
    tally.duplicate = Number(item.duplicate ?? 0);
    for (const reason of REJECTION_REASONS) {
      const count = Number(item[rejectedAttribute(reason)] ?? 0);
      if (count > 0) tally.rejected[reason] = count;
    }
    return tally;
  }
}
