/**
 * The events' names, apart from their schemas (events.ts), so that the demo page can name them
 * without bundling zod and the views.
 */

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
