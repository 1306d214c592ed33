import { CATALOG_TABLE } from '../../contract.js';
import type { Page } from '../../ports/catalog.js';
import type {
  CatalogEntry,
  MaintenanceCatalog,
  ScanSegment,
  UpkeepVersion,
  VariantPlan,
} from '../../ports/maintenance-catalog.js';
import { decodeTrustedCursor, encodeCursor } from './catalog-cursor.js';
import { entryFromItem, upkeepKeyOf } from './catalog-items.js';
import { catalogKeys, upkeepKeys } from './catalog-table.js';
import { DynamoCatalog } from './dynamo-catalog.js';
import type { Item } from './dynamo-table.js';

const index = CATALOG_TABLE.upkeepIndex;
const IMAGE_PREFIX = catalogKeys.image('').pk;

/** The catalog as the operator tools read and repair it, in the same table as the request path's. */
export class DynamoMaintenanceCatalog extends DynamoCatalog implements MaintenanceCatalog {
  async scanCatalog(cursor?: string, segment?: ScanSegment): Promise<Page<CatalogEntry>> {
    const { Items = [], LastEvaluatedKey } = await this.table.scan(
      'scan catalog',
      { ...segment },
      {
        ConsistentRead: true,
        Segment: segment?.segment,
        TotalSegments: segment?.totalSegments,
        // The cursor is the previous page's, handed straight back by the same process.
        ExclusiveStartKey: cursor ? decodeTrustedCursor(cursor) : undefined,
      },
    );
    return {
      items: Items.flatMap(entryFromItem),
      cursor: LastEvaluatedKey && encodeCursor(LastEvaluatedKey),
    };
  }

  async otherUpkeepVersions(current: string): Promise<UpkeepVersion[]> {
    // Two ranges around the current version's record, so that at rest (no other) both read no item.
    const ranges = await Promise.all(
      ['<', '>'].map((operator) =>
        this.table.query(
          'list upkeep versions',
          {},
          {
            KeyConditionExpression: `pk = :versions AND sk ${operator} :current`,
            ExpressionAttributeValues: {
              ':versions': CATALOG_TABLE.upkeepVersions.partition,
              ':current': catalogKeys.upkeepVersion(current).sk,
            },
            ConsistentRead: true,
          },
        ),
      ),
    );
    // A handful of records, one a deploy that changed the version since the last was retired: one page.
    return ranges.flatMap(({ Items = [] }) => Items.map(upkeepVersionFromItem));
  }

  async getUpkeepVersion(version: string): Promise<UpkeepVersion | undefined> {
    const item = await this.table.get('get upkeep version', {}, catalogKeys.upkeepVersion(version));
    return item && upkeepVersionFromItem(item);
  }

  async recordUpkeepVersion(version: string, at: Date): Promise<void> {
    // The deploy records the version first (lib/reprocess.ts), without a date: the first run dates it.
    await this.table.update(
      'record upkeep version',
      {},
      {
        Key: catalogKeys.upkeepVersion(version),
        UpdateExpression: 'SET recordedAt = if_not_exists(recordedAt, :at)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      },
    );
  }

  async retireUpkeepVersion(version: string): Promise<void> {
    await this.table.delete('retire upkeep version', {}, { Key: catalogKeys.upkeepVersion(version) });
  }

  async imagesSettledOn(version: string, cursor?: string): Promise<Page<string>> {
    return this.upkeepPartition((shard) => upkeepKeys.settled(version, shard), cursor);
  }

  async unsettledImages(cursor?: string): Promise<Page<string>> {
    return this.upkeepPartition(upkeepKeys.unsettled, cursor);
  }

  /**
   * One page of the image ids in every shard of one upkeep partition, shard after shard; an empty
   * shard costs a query that reads no item. The cursor carries the shard and the key within it.
   */
  private async upkeepPartition(
    keyOf: (shard: number) => string,
    cursor: string | undefined,
  ): Promise<Page<string>> {
    const from = cursor ? (decodeTrustedCursor(cursor) as { shard: number; key?: Item }) : { shard: 0 };
    for (let shard = from.shard, startKey = from.key; shard < index.shards; shard++, startKey = undefined) {
      const { Items = [], LastEvaluatedKey } = await this.table.query(
        'query upkeep index',
        { shard },
        {
          IndexName: index.name,
          KeyConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': index.partitionKey },
          ExpressionAttributeValues: { ':key': keyOf(shard) },
          ExclusiveStartKey: startKey,
        },
      );
      const next = LastEvaluatedKey
        ? { shard, key: LastEvaluatedKey }
        : shard + 1 < index.shards
          ? { shard: shard + 1 }
          : undefined;
      if (Items.length > 0 || LastEvaluatedKey) {
        return {
          items: Items.map((item) => String(item[index.sortKey]).slice(IMAGE_PREFIX.length)),
          cursor: next && encodeCursor(next),
        };
      }
    }
    return { items: [] };
  }

  async replaceVariantPlan(
    imageId: string,
    expected: VariantPlan,
    next: VariantPlan & { jobsQueuedAt: Date },
  ): Promise<boolean> {
    const queued = expected.jobsQueuedAt ? 'jobsQueuedAt = :queued' : 'attribute_not_exists(jobsQueuedAt)';
    const { written } = await this.table.update(
      'replace variant plan',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        // With work queued again, the image is unsettled until its renders settle it.
        UpdateExpression:
          'SET variantSetVersion = :nextVersion, #status = :nextStatus, #variants = :nextVariants, jobsQueuedAt = :nextQueued, #upkeep = :unsettled',
        // A map compares equal only with every entry the same: no render has landed meanwhile.
        ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletingSince) AND variantSetVersion = :version AND #status = :status AND #variants = :variants AND ${queued}`,
        ExpressionAttributeNames: {
          '#status': 'status',
          '#variants': 'variants',
          '#upkeep': index.partitionKey,
        },
        ExpressionAttributeValues: {
          ':unsettled': upkeepKeyOf(imageId),
          ':version': expected.variantSetVersion,
          ':status': expected.status,
          ':variants': expected.variants,
          ...(expected.jobsQueuedAt ? { ':queued': expected.jobsQueuedAt.toISOString() } : {}),
          ':nextVersion': next.variantSetVersion,
          ':nextStatus': next.status,
          ':nextVariants': next.variants,
          ':nextQueued': next.jobsQueuedAt.toISOString(),
        },
      },
    );
    return written;
  }

  async correctRefCount(imageId: string, expected: number, count: number): Promise<boolean> {
    return this.setWhileCountIs('correct reference count', imageId, expected, 'refCount = :count', {
      ':count': count,
    });
  }

  async markUnlinkedImageForDeletion(imageId: string, expected: number, at: Date): Promise<boolean> {
    return this.setWhileCountIs(
      'mark unlinked image for deletion',
      imageId,
      expected,
      'refCount = :zero, deletingSince = :at',
      { ':zero': 0, ':at': at.toISOString() },
    );
  }

  async deleteDanglingLink(owner: string, imageId: string): Promise<boolean> {
    const { written } = await this.table.transact('delete dangling link', { imageId }, [
      {
        conflict: 'image_present',
        item: {
          ConditionCheck: {
            Key: catalogKeys.image(imageId),
            ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(deletingSince)',
          },
        },
      },
      { conflict: 'link_missing', item: { Delete: { Key: catalogKeys.link(owner, imageId) } } },
    ]);
    return written;
  }

  /** Sets fields of an image not being deleted whose reference count is still the one the scan saw. */
  private async setWhileCountIs(
    operation: string,
    imageId: string,
    expected: number,
    assignments: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const { written } = await this.table.update(
      operation,
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        UpdateExpression: `SET ${assignments}`,
        ConditionExpression: 'attribute_not_exists(deletingSince) AND refCount = :expected',
        ExpressionAttributeValues: { ...values, ':expected': expected },
      },
    );
    return written;
  }
}

function upkeepVersionFromItem(item: Item): UpkeepVersion {
  const recordedAt = typeof item.recordedAt === 'string' ? new Date(item.recordedAt) : undefined;
  return { version: upkeepKeys.versionOf(String(item.sk)), recordedAt };
}
