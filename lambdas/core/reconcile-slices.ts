import { RECONCILE_SCAN_SEGMENTS } from '../contract.js';

/**
 * How reconcile is cut into units of bounded work, each audited on its own (by one invocation of the
 * slice function on AWS, one task locally):
 *
 * - a `shard` is a first-level key prefix `ab` (256 of them, the two hex digits every original's and
 *   derivative's key starts with, `originals/ab/cd/abcd…`): its originals and derivatives are listed
 *   in key order and joined by image, so it holds one chunk of images at a time however full it is;
 *   the uploads whose id starts with `ab` come with it.
 * - a `segment` is one of `RECONCILE_SCAN_SEGMENTS` of a parallel Scan of the catalog, for what starts
 *   from records: an image's record and its holders share a partition, so one segment sees both.
 *
 * Every finding comes from exactly one slice, so the slices' findings add up to the whole audit's.
 */
export type ReconcileSlice = { shard: string } | { segment: number; totalSegments: number };

const SHARD = /^[0-9a-f]{2}$/;

/** Every slice of a whole reconcile: the 256 shards, then the scan's segments. */
export function reconcileSlices(totalSegments: number = RECONCILE_SCAN_SEGMENTS): ReconcileSlice[] {
  const shards = Array.from({ length: 256 }, (_, i) => ({ shard: i.toString(16).padStart(2, '0') }));
  const segments = Array.from({ length: totalSegments }, (_, segment) => ({ segment, totalSegments }));
  return [...shards, ...segments];
}

export function isShard(value: string): boolean {
  return SHARD.test(value);
}

/** `shard 3f`, `segment 7/256`: for logs and reports. */
export function describeSlice(slice: ReconcileSlice): string {
  return 'shard' in slice ? `shard ${slice.shard}` : `segment ${slice.segment}/${slice.totalSegments}`;
}
