import { describe, expect, it } from 'vitest';
import { RECONCILE_SCAN_SEGMENTS } from '../../lambdas/contract.js';
import { originalKey } from '../../lambdas/core/keys.js';
import { describeSlice, reconcileSlices } from '../../lambdas/core/reconcile-slices.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { FINDING_KINDS, type FindingKind } from '../../lambdas/services/reconcile/findings.js';
import { combineReports, type ReconcileReport } from '../../lambdas/services/reconcile/reconcile.js';

const perKind = (counts: Partial<Record<FindingKind, number>> = {}) =>
  Object.fromEntries(FINDING_KINDS.map((kind) => [kind, counts[kind] ?? 0])) as Record<FindingKind, number>;

describe('reconcile slices', () => {
  it('cover every key shard once, then every scan segment once', () => {
    const slices = reconcileSlices();
    const shards = slices.flatMap((slice) => ('shard' in slice ? [slice.shard] : []));
    const segments = slices.flatMap((slice) => ('segment' in slice ? [slice] : []));
    expect(slices).toHaveLength(256 + RECONCILE_SCAN_SEGMENTS);
    expect(new Set(shards).size).toBe(256);
    expect(segments.map((s) => s.segment)).toEqual([...Array(RECONCILE_SCAN_SEGMENTS).keys()]);
    expect(segments.every((s) => s.totalSegments === RECONCILE_SCAN_SEGMENTS)).toBe(true);
    // Any original and any upload falls in exactly one shard.
    for (const key of [originalKey('f0'.repeat(32)), `uploads/${newUploadId()}`]) {
      const prefix = key.startsWith('uploads/') ? key.slice('uploads/'.length, 10) : key.slice(10, 12);
      expect(shards.filter((shard) => shard === prefix)).toHaveLength(1);
    }
  });

  it('are named for logs and reports', () => {
    expect(describeSlice({ shard: '3f' })).toBe('shard 3f');
    expect(describeSlice({ segment: 7, totalSegments: 256 })).toBe('segment 7/256');
  });
});

describe('combineReports', () => {
  const report = (fields: Partial<ReconcileReport>): ReconcileReport => ({
    fix: true,
    findings: [],
    unlisted: 0,
    found: perKind(),
    repaired: perKind(),
    cleared: perKind(),
    jobs: { thumbnails: 0, variants: 0 },
    outdatedImages: 0,
    ...fields,
  });

  it('adds up counts, keeps every listed finding in repair order, and counts the unlisted', () => {
    const combined = combineReports(true, [
      report({
        findings: [{ kind: 'orphan_original', imageId: 'a', key: 'k' }],
        unlisted: 3,
        found: perKind({ orphan_original: 4 }),
        repaired: perKind({ orphan_original: 4 }),
        jobs: { thumbnails: 0, variants: 2 },
        outdatedImages: 1,
      }),
      report({
        findings: [{ kind: 'dangling_link', owner: 'o', imageId: 'b' }],
        found: perKind({ dangling_link: 1 }),
        cleared: perKind({ dangling_link: 1 }),
        jobs: { thumbnails: 1, variants: 0 },
        outdatedImages: 2,
      }),
    ]);
    expect(combined.findings.map((f) => f.kind)).toEqual(['dangling_link', 'orphan_original']);
    expect(combined).toMatchObject({
      fix: true,
      unlisted: 3,
      found: perKind({ orphan_original: 4, dangling_link: 1 }),
      repaired: perKind({ orphan_original: 4 }),
      cleared: perKind({ dangling_link: 1 }),
      jobs: { thumbnails: 1, variants: 2 },
      outdatedImages: 3,
    });
  });
});
