import { RetryableError } from '../core/errors.js';
import {
  type Change,
  EVENT_SCHEMA_VERSION,
  eventId,
  imageOutcome,
  type PipelineEvent,
  removedLink,
  uploadOutcome,
} from '../core/events.js';
import type { ImageView } from '../core/image-views.js';
import type { Rejection } from '../core/rejections.js';
import type { ImageLink, ImageRecord, RequestPathCatalog, UploadRecord } from '../ports/catalog.js';
import type { EventBus } from '../ports/event-bus.js';
import type { EventLedger } from '../ports/event-ledger.js';

/** One committed change of a catalog record, as the table's stream reports it. */
export type CatalogChange =
  | { record: 'upload'; change: Change<UploadRecord>; at: Date }
  | { record: 'image'; change: Change<ImageRecord>; at: Date }
  | { record: 'link'; change: Change<ImageLink>; at: Date };

export interface AnnounceDependencies {
  catalog: Pick<RequestPathCatalog, 'getImage' | 'findLink' | 'listHolders'>;
  /** The image as its owner sees it through the API (`GET /v1/images/{imageId}`). */
  viewOf: (image: ImageRecord, link: ImageLink) => Promise<ImageView>;
  bus: EventBus;
  ledger: EventLedger;
  now: () => Date;
}

/**
 * Announces what a committed change of the catalog means to the owners concerned, each event once:
 * an event already published (this change seen again, or the same `image.ready` reached by two
 * changes) is skipped by its id. Returns the events this call published.
 *
 * Throws a RetryableError when the bus refused an event or another publisher holds one: the stream
 * delivers the change again, and the events already published are skipped then.
 */
export async function announceChange(
  deps: AnnounceDependencies,
  change: CatalogChange,
): Promise<PipelineEvent[]> {
  const events = await eventsOf(deps, change);
  return publishOnce(deps, events);
}

async function eventsOf(deps: AnnounceDependencies, change: CatalogChange): Promise<PipelineEvent[]> {
  const occurredAt = change.at.toISOString();
  switch (change.record) {
    case 'upload':
      return uploadEvents(deps, change.change, occurredAt);
    case 'image':
      return imageEvents(deps, change.change, occurredAt);
    case 'link': {
      const link = removedLink(change.change);
      return link ? [deletedEvent(link, occurredAt)] : [];
    }
  }
}

async function uploadEvents(
  deps: AnnounceDependencies,
  change: Change<UploadRecord>,
  occurredAt: string,
): Promise<PipelineEvent[]> {
  const upload = change.after;
  const outcome = uploadOutcome(change);
  if (!upload || !outcome) return [];
  const base = {
    version: EVENT_SCHEMA_VERSION,
    occurredAt,
    owner: upload.owner,
    uploadId: upload.uploadId,
    collection: upload.collection,
  };
  if (outcome === 'rejected') {
    const { reason, message } = settledWith(upload.rejection, upload.uploadId);
    return [{ ...base, type: 'upload.rejected', id: eventId.rejected(upload.uploadId), reason, message }];
  }
  // Accepted: the owner's link now holds the image, either made by this upload or an earlier one of
  // the same bytes. Gone meanwhile (deleted at once): its `image.deleted` says what there is to say.
  const imageId = upload.imageId;
  const [image, link] = imageId
    ? await Promise.all([deps.catalog.getImage(imageId), deps.catalog.findLink(upload.owner, imageId)])
    : [];
  if (!image || image.deletingSince || !link) return [];
  const view = await deps.viewOf(image, link);
  const ingested: PipelineEvent = {
    ...base,
    type: 'image.ingested',
    id: eventId.ingested(upload.uploadId),
    imageId: image.imageId,
    duplicate: image.createdByUpload !== upload.uploadId,
    image: view,
  };
  // Bytes already rendered (or failed) are settled at once for this owner too: the change that
  // settled them may have listed the image's holders before this link was made.
  const settled = image.status === 'processing' ? [] : [settledEvent(image, link, view, occurredAt)];
  return [ingested, ...settled];
}

async function imageEvents(
  deps: AnnounceDependencies,
  change: Change<ImageRecord>,
  occurredAt: string,
): Promise<PipelineEvent[]> {
  const image = change.after;
  if (!image || !imageOutcome(change)) return [];
  const holders = await deps.catalog.listHolders(image.imageId);
  return Promise.all(
    holders.map(async (link) => settledEvent(image, link, await deps.viewOf(image, link), occurredAt)),
  );
}

/** `image.ready` or `image.failed` for one owner's link, by the image's current variant set. */
function settledEvent(
  image: ImageRecord,
  link: ImageLink,
  view: ImageView,
  occurredAt: string,
): PipelineEvent {
  const base = {
    version: EVENT_SCHEMA_VERSION,
    occurredAt,
    owner: link.owner,
    uploadId: link.uploadId,
    collection: link.collection,
    imageId: image.imageId,
    image: view,
  };
  if (image.status === 'failed') {
    const { reason, message } = settledWith(image.failure, image.imageId);
    return {
      ...base,
      type: 'image.failed',
      id: eventId.failed(image.imageId, image.variantSetVersion, link.uploadId),
      reason,
      message,
    };
  }
  return {
    ...base,
    type: 'image.ready',
    id: eventId.ready(image.imageId, image.variantSetVersion, link.uploadId),
  };
}

/** The catalog records a reason with every rejection and failure; one without is a bug, not an event. */
function settledWith(rejection: Rejection | undefined, id: string): Rejection {
  if (!rejection) throw new RangeError(`${id} was rejected or failed without a reason`);
  return rejection;
}

function deletedEvent(link: ImageLink, occurredAt: string): PipelineEvent {
  return {
    version: EVENT_SCHEMA_VERSION,
    type: 'image.deleted',
    id: eventId.deleted(link.imageId, link.uploadId),
    occurredAt,
    owner: link.owner,
    uploadId: link.uploadId,
    collection: link.collection,
    imageId: link.imageId,
  };
}

/**
 * Claim first, publish, then mark: an event is published again only when its publisher died between
 * publishing and marking (its claim lapses), never because a change was seen twice.
 */
async function publishOnce(deps: AnnounceDependencies, events: PipelineEvent[]): Promise<PipelineEvent[]> {
  const claims = await Promise.all(events.map((event) => deps.ledger.claim(event.id, deps.now())));
  const claimed = events.filter((_, index) => claims[index] === 'claimed');
  const { refused } = claimed.length > 0 ? await publishReleasingOnError(deps, claimed) : { refused: [] };
  const published = claimed.filter((event) => !refused.includes(event.id));
  await Promise.all([
    ...published.map((event) => deps.ledger.markPublished(event.id, deps.now())),
    ...refused.map((id) => deps.ledger.release(id)),
  ]);
  if (refused.length > 0 || claims.includes('held_elsewhere')) {
    throw new RetryableError(
      refused.length > 0 ? 'dependency_unavailable' : 'event_in_flight',
      refused.length > 0
        ? `the event bus refused ${refused.length} of ${claimed.length} events`
        : 'another publisher is publishing one of these events',
      { eventIds: [...refused] },
    );
  }
  return published;
}

async function publishReleasingOnError(
  deps: AnnounceDependencies,
  events: PipelineEvent[],
): Promise<{ refused: string[] }> {
  try {
    return await deps.bus.publish(events);
  } catch (error) {
    await Promise.all(events.map((event) => deps.ledger.release(event.id)));
    throw error;
  }
}
