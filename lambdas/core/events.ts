/**
 * The pipeline's domain events: what an app hears when an upload or an image changes state, on
 * EventBridge, by webhook and (locally) as server-sent events. Pure: which change of a catalog record
 * means which event, and the ids consumers dedupe on.
 *
 * Events are derived from the catalog's own changes (its DynamoDB stream), after they are committed:
 * a change nobody wrote is never announced, and one that was written is announced even when the
 * writer died right after. Redelivered S3 events and SQS jobs change nothing (every write is
 * conditional), so they announce nothing either.
 */

import type { ImageView } from './image-views.js';
import type { Rejection, RejectionReason } from './rejections.js';

/** `source` of every event on the bus. */
export const EVENT_SOURCE = 'aperture';

/** `detail.version`: bumped only for a change a consumer could trip on; fields are only ever added. */
export const EVENT_SCHEMA_VERSION = 1 as const;

export const EVENT_TYPES = [
  'image.ingested',
  'image.ready',
  'image.failed',
  'image.deleted',
  'upload.rejected',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

interface EventBase {
  version: typeof EVENT_SCHEMA_VERSION;
  /** The same for every delivery of one change: consumers dedupe on it (see `eventId`). */
  id: string;
  /** When the change was committed. */
  occurredAt: string;
  /** Whose event it is; an event is only ever delivered to this owner's endpoints and streams. */
  owner: string;
  uploadId: string;
  collection: string | undefined;
}

/** An upload was accepted: a new image (`duplicate: false`) or one already stored. */
export interface ImageIngestedEvent extends EventBase {
  type: 'image.ingested';
  imageId: string;
  duplicate: boolean;
  /** The image as `GET /v1/images/{imageId}` shows it to the owner at that moment. */
  image: ImageView;
}

/** Every variant of the current variant set is rendered; the image's URLs are in `image.variants`. */
export interface ImageReadyEvent extends EventBase {
  type: 'image.ready';
  imageId: string;
  image: ImageView;
}

export interface ImageFailedEvent extends EventBase {
  type: 'image.failed';
  imageId: string;
  reason: RejectionReason;
  message: string;
  image: ImageView;
}

/** The owner's link to the image is gone (the bytes go too once nobody else holds them). */
export interface ImageDeletedEvent extends EventBase {
  type: 'image.deleted';
  imageId: string;
}

export interface UploadRejectedEvent extends EventBase {
  type: 'upload.rejected';
  reason: RejectionReason;
  message: string;
}

export type PipelineEvent =
  | ImageIngestedEvent
  | ImageReadyEvent
  | ImageFailedEvent
  | ImageDeletedEvent
  | UploadRejectedEvent;

/**
 * Each event's id, the same however often the change is seen. Per-owner events of an image are keyed
 * by the upload that made that owner's link, so an owner who deletes an image and uploads it again
 * hears about the new link afresh; `ready` and `failed` also by the variant set, so a reprocess that
 * moves the image to a new set announces it again.
 */
export const eventId = {
  ingested: (uploadId: string) => `${uploadId}:ingested`,
  rejected: (uploadId: string) => `${uploadId}:rejected`,
  ready: (imageId: string, variantSetVersion: string, linkUploadId: string) =>
    `${imageId}:ready:${variantSetVersion}:${linkUploadId}`,
  failed: (imageId: string, variantSetVersion: string, linkUploadId: string) =>
    `${imageId}:failed:${variantSetVersion}:${linkUploadId}`,
  deleted: (imageId: string, linkUploadId: string) => `${imageId}:deleted:${linkUploadId}`,
};

/** One catalog record before and after a committed write; absent when created or removed. */
export interface Change<T> {
  before: T | undefined;
  after: T | undefined;
}

/** The fields of the catalog's records (ports/catalog.ts) these decisions read, stated structurally. */
interface UploadLike {
  state: 'pending' | 'accepted' | 'rejected';
  rejection?: Rejection | undefined;
}

interface ImageLike {
  status: 'processing' | 'ready' | 'failed';
  variantSetVersion: string;
  deletingSince?: Date | undefined;
}

/** What an upload's change announces: its acceptance (then its image's state) or its rejection. */
export function uploadOutcome(change: Change<UploadLike>): 'accepted' | 'rejected' | undefined {
  const { before, after } = change;
  if (!after || after.state === 'pending' || before?.state === after.state) return undefined;
  return after.state;
}

/**
 * What an image's change announces to its holders: that it became ready, or failed, on its current
 * variant set. Any other change (a variant recorded, enrichment, the count of links, the mark of
 * deletion) announces nothing.
 */
export function imageOutcome(change: Change<ImageLike>): 'ready' | 'failed' | undefined {
  const { before, after } = change;
  if (!after || after.deletingSince || after.status === 'processing') return undefined;
  const unchanged = before?.status === after.status && before.variantSetVersion === after.variantSetVersion;
  return unchanged ? undefined : after.status;
}

/** The link a change removed: its owner's image is deleted. */
export function removedLink<Link>(change: Change<Link>): Link | undefined {
  return change.before && !change.after ? change.before : undefined;
}
