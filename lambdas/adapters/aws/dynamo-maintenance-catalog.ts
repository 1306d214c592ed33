import type { Page } from '../../ports/catalog.js';
import type {
  CatalogEntry,
  MaintenanceCatalog,
  ScanSegment,
  VariantPlan,
} from '../../ports/maintenance-catalog.js';
import { decodeTrustedCursor, encodeCursor } from './catalog-cursor.js';
import { entryFromItem } from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoCatalog } from './dynamo-catalog.js';

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
        UpdateExpression:
          'SET variantSetVersion = :nextVersion, #status = :nextStatus, #variants = :nextVariants, jobsQueuedAt = :nextQueued',
        // A map compares equal only with every entry the same: no render has landed meanwhile.
        ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletingSince) AND variantSetVersion = :version AND #status = :status AND #variants = :variants AND ${queued}`,
        ExpressionAttributeNames: { '#status': 'status', '#variants': 'variants' },
        ExpressionAttributeValues: {
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
