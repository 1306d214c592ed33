/**
 * How a multipart upload is cut into parts, decided by the server from the declared size alone, and
 * the check that the parts S3 holds add up to exactly that plan before the upload may be completed.
 */

const MIB = 1024 * 1024;

/** S3's smallest part (all but the last). */
export const MIN_PART_BYTES = 5 * MIB;
/** What a part is unless the file is so large that it would take more than `MAX_PARTS` of them. */
export const DEFAULT_PART_BYTES = 8 * MIB;
/** S3's most parts in one upload, and the highest part number. */
export const MAX_PARTS = 10_000;

/** Every part but the last is exactly `partSize` bytes; the last is the rest. */
export interface PartPlan {
  partSize: number;
  partCount: number;
}

/** `DEFAULT_PART_BYTES`, grown in whole MiB just enough that `size` fits in `MAX_PARTS` parts. */
export function planParts(size: number): PartPlan {
  if (!(Number.isSafeInteger(size) && size > 0)) throw new RangeError(`not an upload size: ${size}`);
  const partSize = Math.max(DEFAULT_PART_BYTES, Math.ceil(size / MAX_PARTS / MIB) * MIB);
  return { partSize, partCount: Math.ceil(size / partSize) };
}

/** The exact byte count part `partNumber` (1-based) of an upload of `size` bytes must have. */
export function expectedPartSize(plan: PartPlan, size: number, partNumber: number): number {
  if (!isPartNumberOf(plan, partNumber)) {
    throw new RangeError(`part ${partNumber} is not in a plan of ${plan.partCount} parts`);
  }
  return partNumber < plan.partCount ? plan.partSize : size - plan.partSize * (plan.partCount - 1);
}

export function isPartNumberOf(plan: PartPlan, partNumber: number): boolean {
  return Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= plan.partCount;
}

/** One part as S3 lists it. */
export interface HeldPart {
  partNumber: number;
  size: number;
}

/**
 * Why the held parts do not make the planned upload of `size` bytes, or undefined when they do: every
 * part number from 1 to `partCount` once and no other, each of its planned size (so the total is the
 * declared size).
 */
export function partsProblem(plan: PartPlan, size: number, parts: readonly HeldPart[]): string | undefined {
  const held = new Map<number, number>();
  for (const part of parts) {
    if (!isPartNumberOf(plan, part.partNumber)) {
      return `part ${part.partNumber} is outside the plan of ${plan.partCount} parts`;
    }
    if (held.has(part.partNumber)) return `part ${part.partNumber} is listed twice`;
    held.set(part.partNumber, part.size);
  }
  const missing: number[] = [];
  for (let partNumber = 1; partNumber <= plan.partCount; partNumber++) {
    const bytes = held.get(partNumber);
    if (bytes === undefined) {
      missing.push(partNumber);
      continue;
    }
    const expected = expectedPartSize(plan, size, partNumber);
    if (bytes !== expected) return `part ${partNumber} has ${bytes} bytes where the plan needs ${expected}`;
  }
  if (missing.length > 0) {
    const shown = missing.length > 5 ? `${missing.slice(0, 5).join(', ')}, …` : missing.join(', ');
    return `${missing.length} of ${plan.partCount} parts have not arrived (${shown})`;
  }
  return undefined;
}
