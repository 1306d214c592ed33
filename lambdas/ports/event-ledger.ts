/**
 * A record of which events were published, so that a change seen twice (a stream batch retried, two
 * changes that both announce one owner's `image.ready`) is published once. The claim is a lease, as
 * Powertools' idempotency records are: a publisher that dies holding one is taken over once it lapses.
 */
export type EventClaim =
  /** Yours to publish: then `markPublished`, or `release` if publishing failed. */
  | 'claimed'
  /** Published already: nothing to do. */
  | 'published'
  /** Another publisher holds an unlapsed claim: try again later. */
  | 'held_elsewhere';

export interface EventLedger {
  claim(eventId: string, now: Date): Promise<EventClaim>;
  markPublished(eventId: string, now: Date): Promise<void>;
  release(eventId: string): Promise<void>;
}
