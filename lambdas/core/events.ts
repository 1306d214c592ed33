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

import { z } from 'zod';
import { EVENT_SCHEMA_VERSION, type EventType } from './event-types.js';
import { imageViewSchema } from './image-views.js';
import { REJECTION_REASONS, type Rejection } from './rejections.js';

export { EVENT_SCHEMA_VERSION, EVENT_SOURCE, EVENT_TYPES, type EventType } from './event-types.js';

const base = {
  version: z
    .literal(EVENT_SCHEMA_VERSION)
    .describe('The schema version; fields are only ever added within one.'),
  id: z.string().describe('The same for every delivery of one change: dedupe on it.'),
  occurredAt: z.iso.datetime().describe('When the catalog committed the change.'),
  owner: z.string().describe("Whose event it is: it only ever reaches this owner's endpoints and streams."),
  uploadId: z
    .string()
    .describe("The upload that made the owner's link (or, for upload.rejected, the upload)."),
  collection: z.string().optional(),
};
const imageId = z.string().describe('The SHA-256 of the bytes.');
const image = imageViewSchema.describe('The image as `GET /v1/images/{imageId}` shows it to the owner then.');
const reason = z.enum(REJECTION_REASONS);

/**
 * The events as zod schemas, their types inferred: what the announce function builds, the JSON
 * Schema published in docs/ and registered with EventBridge, and what tests check real events by.
 */
export const EVENT_SCHEMAS = {
  'image.ingested': z
    .strictObject({
      ...base,
      type: z.literal('image.ingested'),
      imageId,
      duplicate: z.boolean().describe('The bytes were stored already (by this owner or another).'),
      image,
    })
    .describe('An upload was accepted: a new image, or bytes already stored.'),
  'image.ready': z
    .strictObject({ ...base, type: z.literal('image.ready'), imageId, image })
    .describe('Every variant of the current variant set is rendered; the URLs are in `image.variants`.'),
  'image.failed': z
    .strictObject({ ...base, type: z.literal('image.failed'), imageId, reason, message: z.string(), image })
    .describe('The image cannot be rendered.'),
  'image.deleted': z
    .strictObject({ ...base, type: z.literal('image.deleted'), imageId })
    .describe("The owner's link to the image is gone (the bytes too, once nobody else holds them)."),
  'upload.rejected': z
    .strictObject({ ...base, type: z.literal('upload.rejected'), reason, message: z.string() })
    .describe("The upload's bytes were refused."),
} as const satisfies Record<EventType, z.ZodType>;

export const pipelineEventSchema = z.discriminatedUnion('type', [
  EVENT_SCHEMAS['image.ingested'],
  EVENT_SCHEMAS['image.ready'],
  EVENT_SCHEMAS['image.failed'],
  EVENT_SCHEMAS['image.deleted'],
  EVENT_SCHEMAS['upload.rejected'],
]);

export type PipelineEvent = z.output<typeof pipelineEventSchema>;

/** Every event's JSON Schema (2020-12), one of the types: what docs/events.schema.json holds. */
export function eventsJsonSchema() {
  return z.toJSONSchema(pipelineEventSchema, { target: 'draft-2020-12', io: 'output' });
}

/** One type's JSON Schema in draft 4, the only draft the EventBridge schema registry takes. */
export function registryJsonSchema(type: EventType) {
  return z.toJSONSchema(EVENT_SCHEMAS[type], { target: 'draft-4', io: 'output' });
}

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
