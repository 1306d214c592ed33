import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PART_BYTES,
  expectedPartSize,
  MAX_PARTS,
  MIN_PART_BYTES,
  partsProblem,
  planParts,
} from '../../lambdas/core/multipart.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

describe('the multipart plan', () => {
  it.each([
    ['one byte', 1, DEFAULT_PART_BYTES, 1],
    ['just under a part', DEFAULT_PART_BYTES - 1, DEFAULT_PART_BYTES, 1],
    ['exactly one part', DEFAULT_PART_BYTES, DEFAULT_PART_BYTES, 1],
    ['a byte over one part', DEFAULT_PART_BYTES + 1, DEFAULT_PART_BYTES, 2],
    ['100 MB', 100_000_000, DEFAULT_PART_BYTES, 12],
    ['5 GiB', 5 * GIB, DEFAULT_PART_BYTES, 640],
    ['the most 8 MiB parts carry', MAX_PARTS * DEFAULT_PART_BYTES, DEFAULT_PART_BYTES, MAX_PARTS],
    ['a byte more: parts grow by a MiB', MAX_PARTS * DEFAULT_PART_BYTES + 1, DEFAULT_PART_BYTES + MIB, 8889],
    ['S3’s largest object, 5 TiB', 5 * 1024 * GIB, 525 * MIB, 9987],
  ])('%s (%i bytes): parts of %i bytes, %i of them', (_, size, partSize, partCount) => {
    expect(planParts(size)).toEqual({ partSize, partCount });
  });

  it.each([1, 5 * MIB + 3, 123_456_789, 50 * GIB + 17, 5 * 1024 * GIB])(
    'plans %i bytes within S3’s rules: at most 10,000 parts of at least 5 MiB, adding up to the size',
    (size) => {
      const plan = planParts(size);
      expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
      expect(plan.partSize).toBeGreaterThanOrEqual(MIN_PART_BYTES);
      expect(plan.partSize % MIB).toBe(0);
      const sizes = Array.from({ length: plan.partCount }, (_, i) => expectedPartSize(plan, size, i + 1));
      expect(sizes.reduce((sum, bytes) => sum + bytes, 0)).toBe(size);
      expect(sizes.slice(0, -1).every((bytes) => bytes === plan.partSize)).toBe(true);
      expect(sizes.at(-1)).toBeGreaterThan(0);
      expect(sizes.at(-1)).toBeLessThanOrEqual(plan.partSize);
    },
  );

  it.each([0, -1, 1.5, Number.NaN])('refuses %s as a size', (size) => {
    expect(() => planParts(size)).toThrow(RangeError);
  });

  it('knows no part outside the plan', () => {
    const plan = planParts(20 * MIB);
    for (const partNumber of [0, 4, 1.5])
      expect(() => expectedPartSize(plan, 20 * MIB, partNumber)).toThrow(RangeError);
  });
});

describe('the check of the parts S3 holds against the plan', () => {
  const size = 2 * DEFAULT_PART_BYTES + 1000;
  const plan = planParts(size);
  const part = (partNumber: number, bytes = expectedPartSize(plan, size, partNumber)) => ({
    partNumber,
    size: bytes,
  });

  it('passes exactly the planned parts, in any order', () => {
    expect(partsProblem(plan, size, [part(1), part(2), part(3)])).toBeUndefined();
    expect(partsProblem(plan, size, [part(3), part(1), part(2)])).toBeUndefined();
  });

  it.each([
    ['a missing part', [part(1), part(3)], '1 of 3 parts have not arrived (2)'],
    ['no parts', [], '3 of 3 parts have not arrived (1, 2, 3)'],
    [
      'a short part',
      [part(1), part(2, DEFAULT_PART_BYTES - 1), part(3)],
      `part 2 has ${DEFAULT_PART_BYTES - 1} bytes`,
    ],
    [
      'a long last part',
      [part(1), part(2), part(3, 1001)],
      'part 3 has 1001 bytes where the plan needs 1000',
    ],
    ['a part beyond the plan', [part(1), part(2), part(3), { partNumber: 4, size: 1 }], 'part 4 is outside'],
    ['a part listed twice', [part(1), part(1), part(2), part(3)], 'part 1 is listed twice'],
  ])('names %s', (_, parts, problem) => {
    expect(partsProblem(plan, size, parts)).toContain(problem);
  });

  it('names only the first few missing parts of a large upload', () => {
    const large = planParts(1000 * DEFAULT_PART_BYTES);
    expect(partsProblem(large, 1000 * DEFAULT_PART_BYTES, [])).toBe(
      '1000 of 1000 parts have not arrived (1, 2, 3, 4, 5, …)',
    );
  });
});
