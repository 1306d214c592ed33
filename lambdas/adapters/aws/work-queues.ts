/**
 * The render work queues, shared by the construct and the local twin. Two lanes so that cheap
 * thumbnails never wait behind large AVIF encodes.
 */
export const WORK_LANES = ['thumbnails', 'variants'] as const;
export type WorkLane = (typeof WORK_LANES)[number];

/** Receives before a message is parked in its lane's dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;
