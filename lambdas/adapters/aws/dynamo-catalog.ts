import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CATALOG_TABLE } from '../../contract.js';
import type { Enrichment } from '../../core/enrichment.js';
import { ConflictError, type ConflictReason, type ErrorContext } from '../../core/errors.js';
import type { Rejection } from '../../core/rejections.js';
import type {
  ImageLink,
  ImageRecord,
  Page,
  RenderExtras,
  RequestPathCatalog,
  UnlinkOutcome,
  UploadRecord,
  VariantStatus,
} from '../../ports/catalog.js';
import { decodeLinkCursor, encodeCursor } from './catalog-cursor.js';
import {
  enrichmentToItem,
  epochSeconds,
  holderToItem,
  imageFromItem,
  imageToItem,
  linkFromItem,
  linkToItem,
  upkeepKeyOf,
  uploadFromItem,
  uploadToItem,
} from './catalog-items.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable, type TableTransactItem } from './dynamo-table.js';

/** Decided uploads stay queryable by id this long, then expire; images and links never do. */
const DECIDED_UPLOAD_RETENTION_SECONDS = 30 * 24 * 3600;
/** Rounds of read-then-write an unlink tries before giving up on a very busy image. */
const MAX_UNLINK_ATTEMPTS = 5;

/** The catalog as the request path reads and writes it, in the table the construct creates. */
export class DynamoCatalog implements RequestPathCatalog {
  protected readonly table: DynamoTable;

  constructor(
    dynamo: DynamoDBDocumentClient,
    tableName: string,
    protected readonly now: () => Date = () => new Date(),
  ) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async recordUpload(upload: UploadRecord): Promise<void> {
    const { uploadId } = upload;
    const { written } = await this.table.put(
      'record upload',
      { uploadId },
      {
        Item: uploadToItem(upload),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    );
    // The API answers with this message (409): it stays as it has always read.
    if (!written) throw new ConflictError('upload_exists', 'record upload: condition not met', { uploadId });
  }

  async getUpload(uploadId: string): Promise<UploadRecord | undefined> {
    const item = await this.table.get('get item', { uploadId }, catalogKeys.upload(uploadId));
    return item && uploadFromItem(item);
  }

  async getImage(imageId: string): Promise<ImageRecord | undefined> {
    const item = await this.table.get('get item', { imageId }, catalogKeys.image(imageId));
    return item && imageFromItem(item);
  }

  async findLink(owner: string, imageId: string): Promise<ImageLink | undefined> {
    const item = await this.table.get('get item', { imageId }, catalogKeys.link(owner, imageId));
    return item && linkFromItem(item);
  }

  async listHolders(imageId: string): Promise<ImageLink[]> {
    const holders: ImageLink[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.table.query(
        'list holders',
        { imageId },
        {
          KeyConditionExpression: 'pk = :image AND begins_with(sk, :owners)',
          ExpressionAttributeValues: {
            ':image': catalogKeys.holder(imageId, '').pk,
            ':owners': catalogKeys.holder(imageId, '').sk,
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        },
      );
      holders.push(...Items.map(linkFromItem));
      startKey = LastEvaluatedKey;
    } while (startKey);
    return holders;
  }

  async recordNearDuplicate(owner: string, imageId: string, nearDuplicateOf: string): Promise<void> {
    await this.table.update(
      'record near-duplicate',
      { imageId },
      {
        Key: catalogKeys.link(owner, imageId),
        UpdateExpression: 'SET nearDuplicateOf = :of',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':of': nearDuplicateOf },
      },
    );
  }

  async listLinks(
    owner: string,
    options: { collection?: string; cursor?: string; limit: number },
  ): Promise<Page<ImageLink>> {
    const index = CATALOG_TABLE.collectionIndex;
    const partition = options.collection
      ? { name: index.partitionKey, value: catalogKeys.collection(owner, options.collection) }
      : { name: CATALOG_TABLE.partitionKey, value: catalogKeys.link(owner, '').pk };
    const startKey = options.cursor ? decodeLinkCursor(options.cursor, owner, partition) : undefined;
    const { Items = [], LastEvaluatedKey } = await this.table.query(
      'list links',
      { collection: options.collection },
      {
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
      },
    );
    return { items: Items.map(linkFromItem), cursor: LastEvaluatedKey && encodeCursor(LastEvaluatedKey) };
  }

  async rejectUpload(uploadId: string, rejection: Rejection): Promise<void> {
    await this.decideIngest('reject upload', { uploadId }, [
      { conflict: 'upload_not_pending', item: this.decideUpload(uploadId, { state: 'rejected', rejection }) },
    ]);
  }

  async markMultipartCompleted(uploadId: string, at: Date): Promise<void> {
    await this.table.update(
      'mark multipart completed',
      { uploadId },
      {
        Key: catalogKeys.upload(uploadId),
        UpdateExpression: 'SET multipart.completedAt = if_not_exists(multipart.completedAt, :at)',
        ConditionExpression: 'attribute_exists(multipart)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      },
    );
  }

  async createImage(image: ImageRecord, link: ImageLink): Promise<void> {
    await this.decideIngest('create image', { imageId: image.imageId, uploadId: link.uploadId }, [
      {
        conflict: 'image_exists',
        item: { Put: { Item: imageToItem(image), ConditionExpression: 'attribute_not_exists(pk)' } },
      },
      { conflict: 'link_exists', item: putLink(link) },
      { conflict: 'link_exists', item: putHolder(link) },
      {
        conflict: 'upload_not_pending',
        item: this.decideUpload(link.uploadId, { state: 'accepted', imageId: image.imageId }),
      },
    ]);
  }

  async addLink(link: ImageLink): Promise<void> {
    await this.decideIngest('add link', { imageId: link.imageId, uploadId: link.uploadId }, [
      {
        conflict: 'image_missing',
        item: {
          Update: {
            Key: catalogKeys.image(link.imageId),
            UpdateExpression: 'ADD refCount :one',
            // An image being deleted takes no new links: the upload waits for the record to go.
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletingSince)',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      },
      { conflict: 'link_exists', item: putLink(link) },
      { conflict: 'link_exists', item: putHolder(link) },
      {
        conflict: 'upload_not_pending',
        item: this.decideUpload(link.uploadId, { state: 'accepted', imageId: link.imageId }),
      },
    ]);
  }

  async acceptUpload(uploadId: string, imageId: string): Promise<void> {
    await this.decideIngest('accept upload', { uploadId, imageId }, [
      { conflict: 'upload_not_pending', item: this.decideUpload(uploadId, { state: 'accepted', imageId }) },
    ]);
  }

  async markJobsQueued(imageId: string, at: Date): Promise<void> {
    const { written } = await this.table.update(
      'mark jobs queued',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        UpdateExpression: 'SET jobsQueuedAt = if_not_exists(jobsQueuedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      },
    );
    if (!written)
      throw new ConflictError('image_deleted', 'mark jobs queued: the image is gone', { imageId });
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
    const outcome = await this.table.update(
      'record variants',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        UpdateExpression: `SET ${assignments.join(', ')}`,
        ConditionExpression:
          'attribute_exists(pk) AND variantSetVersion = :version AND #status <> :failed AND attribute_not_exists(deletingSince)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      },
    );
    if (!outcome.written) return undefined;
    const updated = outcome.attributes && imageFromItem(outcome.attributes);
    const complete = updated?.status === 'processing' && !Object.values(updated.variants).includes('pending');
    return complete && updated ? this.markReady(updated) : updated;
  }

  /** `processing` → `ready`, once; a concurrent job that got there first makes this a no-op. */
  private async markReady(image: ImageRecord): Promise<ImageRecord> {
    await this.table.update(
      'mark image ready',
      { imageId: image.imageId },
      {
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
      },
    );
    return { ...image, status: 'ready' };
  }

  async failImage(
    imageId: string,
    failure: Rejection,
    options: { evenIfReady?: boolean } = {},
  ): Promise<void> {
    const notReady = options.evenIfReady ? '' : ' AND #status <> :ready';
    await this.table.update(
      'fail image',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        // A failed image leaves the upkeep index: nothing is left that the upkeep could do for it.
        UpdateExpression: 'SET #status = :failed, failure = :failure REMOVE #upkeep',
        ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletingSince)${notReady}`,
        ExpressionAttributeNames: { '#status': 'status', '#upkeep': CATALOG_TABLE.upkeepIndex.partitionKey },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':failure': failure,
          ...(options.evenIfReady ? {} : { ':ready': 'ready' }),
        },
      },
    );
  }

  async settleImage(image: ImageRecord, upkeepVersion: string): Promise<boolean> {
    const names: Record<string, string> = {
      '#upkeep': CATALOG_TABLE.upkeepIndex.partitionKey,
      '#status': 'status',
      '#variants': 'variants',
    };
    const values: Record<string, unknown> = {
      ':key': upkeepKeyOf(image.imageId, upkeepVersion),
      ':status': image.status,
      ':variantSet': image.variantSetVersion,
      // A map compares equal only with every entry the same: no requeue or render landed meanwhile.
      ':variants': image.variants,
    };
    const unchanged = [
      'attribute_exists(pk)',
      'attribute_not_exists(deletingSince)',
      '#status = :status',
      'variantSetVersion = :variantSet',
      '#variants = :variants',
    ];
    if (image.fingerprint) {
      values[':fingerprint'] = image.fingerprint.version;
      unchanged.push('fingerprint.version = :fingerprint');
    } else unchanged.push('attribute_not_exists(fingerprint)');
    if (image.enrichment) {
      values[':enrichment'] = image.enrichment.version;
      values[':enrichmentStatus'] = image.enrichment.status;
      unchanged.push('enrichment.version = :enrichment', 'enrichment.#status = :enrichmentStatus');
    } else unchanged.push('attribute_not_exists(enrichment)');
    const { written } = await this.table.update(
      'settle image',
      { imageId: image.imageId },
      {
        Key: catalogKeys.image(image.imageId),
        UpdateExpression: 'SET #upkeep = :key',
        ConditionExpression: unchanged.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    );
    return written;
  }

  async queueEnrichment(imageId: string, version: string): Promise<boolean> {
    const { written } = await this.table.update(
      'queue enrichment',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        UpdateExpression: 'SET enrichment = :pending',
        // Pending on this version already: queued again, in case the first queueing never got sent.
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(deletingSince) AND (attribute_not_exists(enrichment) OR enrichment.version <> :version OR enrichment.#status = :pendingStatus)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': { status: 'pending', version, queuedAt: this.now().toISOString() },
          ':version': version,
          ':pendingStatus': 'pending',
        },
      },
    );
    return written;
  }

  async recordEnrichment(imageId: string, enrichment: Enrichment): Promise<ImageRecord | undefined> {
    const outcome = await this.table.update(
      'record enrichment',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        UpdateExpression: 'SET enrichment = :enrichment',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(deletingSince) AND enrichment.version = :version',
        ExpressionAttributeValues: {
          ':enrichment': enrichmentToItem(enrichment),
          ':version': enrichment.version,
        },
        ReturnValues: 'ALL_NEW',
      },
    );
    return outcome.written && outcome.attributes ? imageFromItem(outcome.attributes) : undefined;
  }

  async failEnrichment(
    imageId: string,
    version: string,
    failure: NonNullable<Enrichment['failure']>,
  ): Promise<void> {
    await this.table.update(
      'fail enrichment',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        UpdateExpression: 'SET enrichment.#status = :failed, enrichment.failure = :failure',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(deletingSince) AND enrichment.version = :version AND enrichment.#status <> :done',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':failure': failure,
          ':version': version,
          ':done': 'done',
        },
      },
    );
  }

  async unlinkImage(owner: string, imageId: string, at: Date): Promise<UnlinkOutcome> {
    for (let attempt = 1; attempt <= MAX_UNLINK_ATTEMPTS; attempt++) {
      const [link, image] = await Promise.all([this.findLink(owner, imageId), this.getImage(imageId)]);
      if (!link) return 'not_linked';
      const last = !image || image.refCount <= 1;
      const removeLink: TableTransactItem = {
        Delete: { Key: catalogKeys.link(owner, imageId), ConditionExpression: 'attribute_exists(pk)' },
      };
      // The count read above must still hold: a link added or removed meanwhile means read again.
      const updateImage: TableTransactItem | undefined = image && {
        Update: {
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
      const removeHolder: TableTransactItem = { Delete: { Key: catalogKeys.holder(imageId, owner) } };
      const { written } = await this.table.transact('unlink image', { imageId }, [
        { conflict: 'link_missing', item: removeLink },
        { conflict: 'link_missing', item: removeHolder },
        ...(updateImage ? [{ conflict: 'image_changed' as const, item: updateImage }] : []),
      ]);
      if (written) return last ? 'last_link' : 'unlinked';
    }
    // The API answers with this message (409): it stays as it has always read.
    throw new ConflictError('image_kept_changing', 'unlink image: the image kept changing', { imageId });
  }

  async deleteImageRecord(imageId: string): Promise<void> {
    // The embedding first: the record is what holds back a new upload of the same bytes, so it goes last.
    await this.table.delete('delete embedding', { imageId }, { Key: catalogKeys.embedding(imageId) });
    await this.table.delete(
      'delete image record',
      { imageId },
      {
        Key: catalogKeys.image(imageId),
        ConditionExpression: 'attribute_exists(deletingSince) AND refCount = :zero',
        ExpressionAttributeValues: { ':zero': 0 },
      },
    );
  }

  /** Runs an ingest decision as one transaction; a failed condition is the ConflictError naming it. */
  private async decideIngest(
    operation: string,
    context: ErrorContext,
    steps: Array<{ conflict: ConflictReason; item: TableTransactItem }>,
  ): Promise<void> {
    const outcome = await this.table.transact(operation, context, steps);
    if (!outcome.written) {
      throw new ConflictError(outcome.conflict, `${operation}: ${outcome.conflict}`, context);
    }
  }

  /** Moves a `pending` upload to its final state, once; the condition is what makes ingest idempotent. */
  private decideUpload(
    uploadId: string,
    decision: { state: 'accepted'; imageId: string } | { state: 'rejected'; rejection: Rejection },
  ): TableTransactItem {
    const outcome =
      decision.state === 'accepted' ? { imageId: decision.imageId } : { rejection: decision.rejection };
    const [field, value] = Object.entries(outcome)[0] as [string, unknown];
    return {
      Update: {
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
}

function putLink(link: ImageLink): TableTransactItem {
  return { Put: { Item: linkToItem(link), ConditionExpression: 'attribute_not_exists(pk)' } };
}

/** The link's mirror under its image; the link's own condition already guards the pair. */
function putHolder(link: ImageLink): TableTransactItem {
  return { Put: { Item: holderToItem(link) } };
}
