import { CATALOG_TABLE } from '../../contract.js';
import type { Enrichment } from '../../core/enrichment.js';
import type { EventType } from '../../core/events.js';
import type { Rejection } from '../../core/rejections.js';
import { upkeepShard } from '../../core/upkeep.js';
import type { WebhookEndpoint } from '../../core/webhooks.js';
import type { ImageLink, ImageRecord, MultipartFacts, UploadRecord } from '../../ports/catalog.js';
import type { CatalogEntry } from '../../ports/maintenance-catalog.js';
import { catalogKeys, upkeepKeys } from './catalog-table.js';

/**
 * Records ⇄ DynamoDB items. Dates are stored as ISO strings (sortable, readable in the console);
 * absent optionals are left out of the item (the client drops undefined values).
 */
type Item = Record<string, unknown>;

/**
 * Abandoned `pending` uploads linger this long after their URL expires, for status queries, then
 * expire. A multipart upload's expiry is its lifecycle age, which S3 rounds up to the next midnight
 * UTC: its record outlives the upload by six days at least.
 */
const PENDING_UPLOAD_RETENTION_SECONDS = 7 * 24 * 3600;

/** DynamoDB TTL attributes are epoch seconds. */
export const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

const iso = (date: Date | undefined) => date?.toISOString();
const date = (value: unknown) => (typeof value === 'string' ? new Date(value) : undefined);
const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function uploadToItem(upload: UploadRecord): Item {
  return {
    ...catalogKeys.upload(upload.uploadId),
    type: 'upload',
    uploadId: upload.uploadId,
    owner: upload.owner,
    state: upload.state,
    contentType: upload.contentType,
    size: upload.size,
    sha256: upload.sha256,
    filename: upload.filename,
    collection: upload.collection,
    createdAt: iso(upload.createdAt),
    uploadExpiresAt: iso(upload.uploadExpiresAt),
    imageId: upload.imageId,
    rejection: upload.rejection,
    importId: upload.importId,
    multipart: upload.multipart && { ...upload.multipart, completedAt: iso(upload.multipart.completedAt) },
    [CATALOG_TABLE.timeToLiveAttribute]:
      epochSeconds(upload.uploadExpiresAt) + PENDING_UPLOAD_RETENTION_SECONDS,
  };
}

export function uploadFromItem(item: Item): UploadRecord {
  return {
    uploadId: String(item.uploadId),
    owner: String(item.owner),
    state: item.state as UploadRecord['state'],
    contentType: String(item.contentType),
    size: Number(item.size),
    sha256: text(item.sha256),
    filename: text(item.filename),
    collection: text(item.collection),
    createdAt: date(item.createdAt) as Date,
    uploadExpiresAt: date(item.uploadExpiresAt) as Date,
    imageId: text(item.imageId),
    rejection: item.rejection as Rejection | undefined,
    importId: text(item.importId),
    multipart: item.multipart ? multipartFromItem(item.multipart as Item) : undefined,
  };
}

function multipartFromItem(item: Item): MultipartFacts {
  return {
    s3UploadId: String(item.s3UploadId),
    partSize: Number(item.partSize),
    partCount: Number(item.partCount),
    completedAt: date(item.completedAt),
  };
}

const UPKEEP_KEY = CATALOG_TABLE.upkeepIndex.partitionKey;

export function imageToItem(image: ImageRecord): Item {
  const { settledOn: _filedBelow, ...fields } = image;
  return {
    ...catalogKeys.image(image.imageId),
    type: 'image',
    ...fields,
    createdAt: iso(image.createdAt),
    jobsQueuedAt: iso(image.jobsQueuedAt),
    deletingSince: iso(image.deletingSince),
    enrichment: image.enrichment && enrichmentToItem(image.enrichment),
    ...(image.status === 'failed' ? {} : { [UPKEEP_KEY]: upkeepKeyOf(image.imageId, image.settledOn) }),
  };
}

/**
 * An image's partition in the upkeep index: under the upkeep version it settled on, or with the
 * unsettled ones. A failed image has none: the upkeep has nothing to do for it, ever.
 */
export function upkeepKeyOf(imageId: string, settledOn?: string): string {
  const shard = upkeepShard(imageId, CATALOG_TABLE.upkeepIndex.shards);
  return settledOn === undefined ? upkeepKeys.unsettled(shard) : upkeepKeys.settled(settledOn, shard);
}

export function enrichmentToItem(enrichment: Enrichment): Item {
  return { ...enrichment, queuedAt: iso(enrichment.queuedAt), enrichedAt: iso(enrichment.enrichedAt) };
}

export function imageFromItem(item: Item): ImageRecord {
  const { pk: _pk, sk: _sk, type: _type, [UPKEEP_KEY]: upkeepKey, ...fields } = item;
  return {
    ...(fields as unknown as ImageRecord),
    settledOn: typeof upkeepKey === 'string' ? upkeepKeys.settledOn(upkeepKey) : undefined,
    createdAt: date(item.createdAt) as Date,
    jobsQueuedAt: date(item.jobsQueuedAt),
    deletingSince: date(item.deletingSince),
    enrichment: item.enrichment ? enrichmentFromItem(item.enrichment as Item) : undefined,
  };
}

function enrichmentFromItem(item: Item): Enrichment {
  return {
    ...(item as unknown as Enrichment),
    queuedAt: date(item.queuedAt),
    enrichedAt: date(item.enrichedAt),
  };
}

export function linkToItem(link: ImageLink): Item {
  const linkedAt = link.linkedAt.toISOString();
  const index = CATALOG_TABLE.collectionIndex;
  return {
    ...catalogKeys.link(link.owner, link.imageId),
    type: 'link',
    owner: link.owner,
    imageId: link.imageId,
    uploadId: link.uploadId,
    collection: link.collection,
    filename: link.filename,
    linkedAt,
    nearDuplicateOf: link.nearDuplicateOf,
    // Only links in a collection are indexed: a sparse index costs nothing for the rest.
    ...(link.collection
      ? {
          [index.partitionKey]: catalogKeys.collection(link.owner, link.collection),
          [index.sortKey]: `${linkedAt}#${link.imageId}`,
        }
      : {}),
  };
}

/**
 * The link as seen from its image (`catalogKeys.holder`): written and removed in the same transactions
 * as the link, so the owners of an image are one query away. Not indexed by collection.
 */
export function holderToItem(link: ImageLink): Item {
  const {
    pk: _pk,
    sk: _sk,
    [CATALOG_TABLE.collectionIndex.partitionKey]: _gpk,
    [CATALOG_TABLE.collectionIndex.sortKey]: _gsk,
    ...fields
  } = linkToItem(link);
  return { ...catalogKeys.holder(link.imageId, link.owner), ...fields, type: 'holder' };
}

export function linkFromItem(item: Item): ImageLink {
  return {
    owner: String(item.owner),
    imageId: String(item.imageId),
    uploadId: String(item.uploadId),
    collection: text(item.collection),
    filename: text(item.filename),
    linkedAt: date(item.linkedAt) as Date,
    nearDuplicateOf: text(item.nearDuplicateOf),
  };
}

export function webhookToItem(endpoint: WebhookEndpoint): Item {
  return {
    ...catalogKeys.webhook(endpoint.owner, endpoint.webhookId),
    type: 'webhook',
    ...endpoint,
    createdAt: iso(endpoint.createdAt),
  };
}

export function webhookFromItem(item: Item): WebhookEndpoint {
  return {
    webhookId: String(item.webhookId),
    owner: String(item.owner),
    url: String(item.url),
    events: item.events as EventType[],
    description: text(item.description),
    secret: String(item.secret),
    createdAt: date(item.createdAt) as Date,
  };
}

/** A scanned item as a catalog entry; items of other kinds (render leases, webhook endpoints) are none. */
export function entryFromItem(item: Item): CatalogEntry[] {
  switch (item.type) {
    case 'image':
      return [{ kind: 'image', image: imageFromItem(item) }];
    case 'link':
      return [{ kind: 'link', link: linkFromItem(item) }];
    case 'holder':
      return [{ kind: 'holder', link: linkFromItem(item) }];
    case 'upload':
      return [{ kind: 'upload', upload: uploadFromItem(item) }];
    default:
      return [];
  }
}
