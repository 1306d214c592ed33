import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { CATALOG_TABLE } from '../../contract.js';
import { ConflictError, ValidationError } from '../../core/errors.js';
import type { Rejection } from '../../core/rejections.js';
import type {
  Catalog,
  CatalogEntry,
  ImageLink,
  ImageRecord,
  IngestConflict,
  Page,
  RenderExtras,
  UnlinkOutcome,
  UploadRecord,
  VariantPlan,
  VariantStatus,
} from '../../ports/catalog.js';
import {
  entryFromItem,
  epochSeconds,
  imageFromItem,
  imageToItem,
  linkFromItem,
  linkToItem,
  uploadFromItem,
  uploadToItem,
} from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { toDomainError } from './dependency-errors.js';

/** Decided uploads stay queryable by id this long, then expire; images and links never do. */
const DECIDED_UPLOAD_RETENTION_SECONDS = 30 * 24 * 3600;
/** Rounds of read-then-write an unlink tries before giving up on a very busy image. */
const MAX_UNLINK_ATTEMPTS = 5;

/** Why a catalog transaction was refused. */
type CatalogConflict = IngestConflict | 'link_missing' | 'image_changed';

type Item = Record<string, unknown>;
type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

export class DynamoCatalog implements Catalog {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async recordUpload(upload: UploadRecord): Promise<void> {
    await this.send('record upload', { uploadId: upload.uploadId }, () =>
      this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: uploadToItem(upload),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getUpload(uploadId: string): Promise<UploadRecord | undefined> {
    const item = await this.get(catalogKeys.upload(uploadId), { uploadId });
    return item && uploadFromItem(item);
  }

  async getImage(imageId: string): Promise<ImageRecord | undefined> {
    const item = await this.get(catalogKeys.image(imageId), { imageId });
    return item && imageFromItem(item);
  }

  async findLink(owner: string, imageId: string): Promise<ImageLink | undefined> {
    const item = await this.get(catalogKeys.link(owner, imageId), { imageId });
    return item && linkFromItem(item);
  }

  async listLinks(
    owner: string,
    options: { collection?: string; cursor?: string; limit: number },
  ): Promise<Page<ImageLink>> {
    const index = CATALOG_TABLE.collectionIndex;
    const partition = options.collection
      ? { name: index.partitionKey, value: catalogKeys.collection(owner, options.collection) }
      : { name: CATALOG_TABLE.partitionKey, value: catalogKeys.link(owner, '').pk };
    const startKey = options.cursor ? decodeCursor(options.cursor, owner, partition) : undefined;
    const { Items = [], LastEvaluatedKey } = await this.send(
      'list links',
      { collection: options.collection },
      () =>
        this.dynamo.send(
          new QueryCommand({
            TableName: this.table,
            ...(options.collection
              ? { IndexName: index.name, KeyConditionExpression: '#p = :p', ScanIndexForward: false }
              : { KeyConditionExpression: '#p = :p AND begins_with(sk, :links)' }),
            ExpressionAttributeNames: { '#p': partition.name },
            ExpressionAttributeValues: {
              ':p': partition.value,
              ...(options.collection ? {} : { ':links': catalogKeys.link(owner, '').sk }),
            },
            ExclusiveStartKey: startKey,
            Limit: options.limit,
          }),
        ),
    );
    return { items: Items.map(linkFromItem), cursor: LastEvaluatedKey && encodeCursor(LastEvaluatedKey) };
  }

  async rejectUpload(uploadId: string, rejection: Rejection): Promise<void> {
    await this.transact('reject upload', { uploadId }, [
      { conflict: 'upload_not_pending', item: this.decideUpload(uploadId, { state: 'rejected', rejection }) },
    ]);
  }

  async createImage(image: ImageRecord, link: ImageLink): Promise<void> {
    await this.transact('create image', { imageId: image.imageId, uploadId: link.uploadId }, [
      {
        conflict: 'image_exists',
        item: {
          Put: {
            TableName: this.table,
            Item: imageToItem(image),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      },
      { conflict: 'link_exists', item: this.putLink(link) },
      {
        conflict: 'upload_not_pending',
        item: this.decideUpload(link.uploadId, { state: 'accepted', imageId: image.imageId }),
      },
    ]);
  }

  async addLink(link: ImageLink): Promise<void> {
    await this.transact('add link', { imageId: link.imageId, uploadId: link.uploadId }, [
      {
        conflict: 'image_missing',
        item: {
          Update: {
            TableName: this.table,
            Key: catalogKeys.image(link.imageId),
            UpdateExpression: 'ADD refCount :one',
            // An image being deleted takes no new links: the upload waits for the record to go.
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletingSince)',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      },
      { conflict: 'link_exists', item: this.putLink(link) },
      {
        conflict: 'upload_not_pending',
        item: this.decideUpload(link.uploadId, { state: 'accepted', imageId: link.imageId }),
      },
    ]);
  }

  async acceptUpload(uploadId: string, imageId: string): Promise<void> {
    await this.transact('accept upload', { uploadId, imageId }, [
      { conflict: 'upload_not_pending', item: this.decideUpload(uploadId, { state: 'accepted', imageId }) },
    ]);
  }

  async markJobsQueued(imageId: string, at: Date): Promise<void> {
    await this.send('mark jobs queued', { imageId }, () =>
      this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          UpdateExpression: 'SET jobsQueuedAt = if_not_exists(jobsQueuedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      ),
    );
  }

  async recordVariants(
    imageId: string,
    variantSetVersion: string,
    variants: Readonly<Record<string, Exclude<VariantStatus, 'pending'>>>,
    extras: RenderExtras,
  ): Promise<ImageRecord | undefined> {
    const names: Record<string, string> = { '#variants': 'variants', '#status': 'status' };
    const values: Record<string, unknown> = { ':version': variantSetVersion, ':failed': 'failed' };
    const assignments = Object.entries(variants).map(([variant, status], i) => {
      names[`#v${i}`] = variant;
      values[`:v${i}`] = status;
      return `#variants.#v${i} = :v${i}`;
    });
    for (const [field, value] of Object.entries(extras)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      assignments.push(`#${field} = :${field}`);
    }
    let updated: ImageRecord | undefined;
    try {
      const { Attributes } = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression:
            'attribute_exists(pk) AND variantSetVersion = :version AND #status <> :failed AND attribute_not_exists(deletingSince)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      updated = Attributes && imageFromItem(Attributes);
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw toDomainError(error, 'record variants', { imageId });
    }
    const complete = updated?.status === 'processing' && !Object.values(updated.variants).includes('pending');
    return complete && updated ? this.markReady(updated) : updated;
  }

  /** `processing` → `ready`, once; a concurrent job that got there first makes this a no-op. */
  private async markReady(image: ImageRecord): Promise<ImageRecord> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: catalogKeys.image(image.imageId),
          UpdateExpression: 'SET #status = :ready, readyAt = :now',
          ConditionExpression: '#status = :processing AND variantSetVersion = :version',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':ready': 'ready',
            ':processing': 'processing',
            ':version': image.variantSetVersion,
            ':now': this.now().toISOString(),
          },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') {
        throw toDomainError(error, 'mark image ready', { imageId: image.imageId });
      }
    }
    return { ...image, status: 'ready' };
  }

  async failImage(
    imageId: string,
    failure: Rejection,
    options: { evenIfReady?: boolean } = {},
  ): Promise<void> {
    const notReady = options.evenIfReady ? '' : ' AND #status <> :ready';
    await this.conditional('fail image', { imageId }, () =>
      this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          UpdateExpression: 'SET #status = :failed, failure = :failure',
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletingSince)${notReady}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':failure': failure,
            ...(options.evenIfReady ? {} : { ':ready': 'ready' }),
          },
        }),
      ),
    );
  }

  async unlinkImage(owner: string, imageId: string, at: Date): Promise<UnlinkOutcome> {
    for (let attempt = 1; attempt <= MAX_UNLINK_ATTEMPTS; attempt++) {
      const [link, image] = await Promise.all([this.findLink(owner, imageId), this.getImage(imageId)]);
      if (!link) return 'not_linked';
      const last = !image || image.refCount <= 1;
      const removeLink: TransactItem = {
        Delete: {
          TableName: this.table,
          Key: catalogKeys.link(owner, imageId),
          ConditionExpression: 'attribute_exists(pk)',
        },
      };
      // The count read above must still hold: a link added or removed meanwhile means read again.
      const updateImage: TransactItem | undefined = image && {
        Update: {
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          UpdateExpression: last
            ? 'SET refCount = :zero, deletingSince = :at'
            : 'SET refCount = :seen - :one',
          ConditionExpression: 'refCount = :seen AND attribute_not_exists(deletingSince)',
          ExpressionAttributeValues: {
            ':seen': image.refCount,
            ...(last ? { ':zero': 0, ':at': at.toISOString() } : { ':one': 1 }),
          },
        },
      };
      try {
        await this.transact('unlink image', { imageId }, [
          { conflict: 'link_missing', item: removeLink },
          ...(updateImage ? [{ conflict: 'image_changed' as const, item: updateImage }] : []),
        ]);
        return last ? 'last_link' : 'unlinked';
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    throw new ConflictError('unlink image: the image kept changing', { imageId });
  }

  async deleteImageRecord(imageId: string): Promise<void> {
    try {
      await this.dynamo.send(
        new DeleteCommand({
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          ConditionExpression: 'attribute_exists(deletingSince) AND refCount = :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return;
      throw toDomainError(error, 'delete image record', { imageId });
    }
  }

  async scanCatalog(cursor?: string): Promise<Page<CatalogEntry>> {
    const { Items = [], LastEvaluatedKey } = await this.send('scan catalog', {}, () =>
      this.dynamo.send(
        new ScanCommand({
          TableName: this.table,
          ConsistentRead: true,
          // The cursor is the previous page's, handed straight back by the same process.
          ExclusiveStartKey: cursor
            ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
            : undefined,
        }),
      ),
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
    return this.conditional('replace variant plan', { imageId }, () =>
      this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
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
        }),
      ),
    );
  }

  async correctRefCount(imageId: string, expected: number, count: number): Promise<boolean> {
    return this.conditional('correct reference count', { imageId }, () =>
      this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          UpdateExpression: 'SET refCount = :count',
          ConditionExpression: 'attribute_not_exists(deletingSince) AND refCount = :expected',
          ExpressionAttributeValues: { ':expected': expected, ':count': count },
        }),
      ),
    );
  }

  async markUnlinkedImageForDeletion(imageId: string, expected: number, at: Date): Promise<boolean> {
    return this.conditional('mark unlinked image for deletion', { imageId }, () =>
      this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: catalogKeys.image(imageId),
          UpdateExpression: 'SET refCount = :zero, deletingSince = :at',
          ConditionExpression: 'attribute_not_exists(deletingSince) AND refCount = :expected',
          ExpressionAttributeValues: { ':expected': expected, ':zero': 0, ':at': at.toISOString() },
        }),
      ),
    );
  }

  async deleteDanglingLink(owner: string, imageId: string): Promise<boolean> {
    try {
      await this.transact('delete dangling link', { imageId }, [
        {
          conflict: 'image_exists',
          item: {
            ConditionCheck: {
              TableName: this.table,
              Key: catalogKeys.image(imageId),
              ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(deletingSince)',
            },
          },
        },
        {
          conflict: 'link_missing',
          item: { Delete: { TableName: this.table, Key: catalogKeys.link(owner, imageId) } },
        },
      ]);
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  /** Runs one conditional write: false when its condition failed, as the caller expected it might. */
  private async conditional(
    operation: string,
    context: Record<string, unknown>,
    call: () => Promise<unknown>,
  ): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw toDomainError(error, operation, context);
    }
  }

  private putLink(link: ImageLink): TransactItem {
    return {
      Put: { TableName: this.table, Item: linkToItem(link), ConditionExpression: 'attribute_not_exists(pk)' },
    };
  }

  /** Moves a `pending` upload to its final state, once; the condition is what makes ingest idempotent. */
  private decideUpload(
    uploadId: string,
    decision: { state: 'accepted'; imageId: string } | { state: 'rejected'; rejection: Rejection },
  ): TransactItem {
    const outcome =
      decision.state === 'accepted' ? { imageId: decision.imageId } : { rejection: decision.rejection };
    const [field, value] = Object.entries(outcome)[0] as [string, unknown];
    return {
      Update: {
        TableName: this.table,
        Key: catalogKeys.upload(uploadId),
        UpdateExpression: `SET #state = :decided, #outcome = :outcome, decidedAt = :now, ${CATALOG_TABLE.timeToLiveAttribute} = :expires`,
        ConditionExpression: '#state = :pending',
        ExpressionAttributeNames: { '#state': 'state', '#outcome': field },
        ExpressionAttributeValues: {
          ':decided': decision.state,
          ':outcome': value,
          ':pending': 'pending',
          ':now': this.now().toISOString(),
          ':expires': epochSeconds(this.now()) + DECIDED_UPLOAD_RETENTION_SECONDS,
        },
      },
    };
  }

  private async get(key: Item, context: Record<string, unknown>): Promise<Item | undefined> {
    const { Item } = await this.send('get item', context, () =>
      this.dynamo.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
    );
    return Item;
  }

  /** Runs one transaction; a failed condition becomes ConflictError naming which one. */
  private async transact(
    operation: string,
    context: Record<string, unknown>,
    steps: Array<{ conflict: CatalogConflict; item: TransactItem }>,
  ): Promise<void> {
    try {
      await this.dynamo.send(new TransactWriteCommand({ TransactItems: steps.map((s) => s.item) }));
    } catch (error) {
      const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
      const failed = reasons?.findIndex((r) => r.Code === 'ConditionalCheckFailed') ?? -1;
      const step = steps[failed];
      if (step) {
        throw new ConflictError(
          `${operation}: ${step.conflict}`,
          { ...context, conflict: step.conflict },
          { cause: error },
        );
      }
      throw toDomainError(error, operation, context);
    }
  }

  private async send<T>(
    operation: string,
    context: Record<string, unknown>,
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toDomainError(error, operation, context);
    }
  }
}

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * A cursor is client-held, so it must be exactly the shape this API issues and stay inside the
 * caller's own links: a forged one must neither page into another owner's partition nor reach
 * DynamoDB malformed (which would answer 500 and trip the alarms).
 */
function decodeCursor(cursor: string, owner: string, partition: { name: string; value: string }): Item {
  const refuse = () => new ValidationError('the cursor is not one this API issued', 'cursor');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw refuse();
  const fields = key as Item;
  const index = CATALOG_TABLE.collectionIndex;
  const expected =
    partition.name === index.partitionKey
      ? [CATALOG_TABLE.partitionKey, CATALOG_TABLE.sortKey, index.partitionKey, index.sortKey]
      : [CATALOG_TABLE.partitionKey, CATALOG_TABLE.sortKey];
  const ownLink = catalogKeys.link(owner, '');
  const valid =
    Object.keys(fields).length === expected.length &&
    expected.every((name) => typeof fields[name] === 'string') &&
    fields[partition.name] === partition.value &&
    fields[CATALOG_TABLE.partitionKey] === ownLink.pk &&
    String(fields[CATALOG_TABLE.sortKey]).startsWith(ownLink.sk);
  if (!valid) throw refuse();
  return fields;
}
