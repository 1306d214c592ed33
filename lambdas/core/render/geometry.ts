import type { VariantSpec } from '../variants.js';

export interface Size {
  width: number;
  height: number;
}

/** Whether an EXIF orientation turns the image a quarter, swapping width and height. */
export const swapsAxes = (orientation: number | undefined): boolean =>
  orientation !== undefined && orientation >= 5 && orientation <= 8;

export const orientedSize = (size: Size, orientation: number | undefined): Size =>
  swapsAxes(orientation) ? { width: size.height, height: size.width } : size;

type Box = Pick<VariantSpec, 'fit' | 'width' | 'height' | 'watermark'>;

/** Where one variant's box puts an original: what comes out, and what it is cut from. */
export interface Placement {
  /** The rendered size. Never larger than the original or the box on either axis. */
  output: Size;
  /**
   * The whole frame scaled, before any crop: any source at least this large on both axes can make
   * the output. Equal to `output` for `inside`, to the original for native placements.
   */
  scaled: Size;
  /** True when the original is not scaled down at all: the box cannot be filled without enlarging. */
  native: boolean;
}

const atLeastOne = (value: number) => Math.max(1, Math.round(value));

/**
 * The size a variant's box gives an (EXIF-oriented) original, never enlarging it.
 *
 * - `inside` keeps the aspect ratio within the box; an original already inside the box stays as it is.
 * - `cover` scales until the box is filled and crops the rest. An original too small to fill the box
 *   is not enlarged: it is cropped, at its own scale, to the largest region with the box's aspect
 *   ratio (a 200x1000 original in a 300x300 box gives 200x200), so a thumbnail is always a thumbnail.
 */
export function place(box: Box, original: Size): Placement {
  const { width, height } = original;
  const across = box.width / width;
  const down = box.height / height;
  if (box.fit === 'inside') {
    if (across >= 1 && down >= 1) return { output: original, scaled: original, native: true };
    const output =
      across <= down
        ? { width: box.width, height: atLeastOne(height * across) }
        : { width: atLeastOne(width * down), height: box.height };
    return { output, scaled: output, native: false };
  }
  const scale = Math.max(across, down);
  if (scale >= 1) {
    const shrink = Math.min(width / box.width, height / box.height);
    const output = {
      width: Math.min(width, atLeastOne(box.width * shrink)),
      height: Math.min(height, atLeastOne(box.height * shrink)),
    };
    return { output, scaled: original, native: true };
  }
  const scaled =
    across >= down
      ? { width: box.width, height: Math.max(box.height, atLeastOne(height * across)) }
      : { width: Math.max(box.width, atLeastOne(width * down)), height: box.height };
  return { output: { width: box.width, height: box.height }, scaled, native: false };
}

export interface PlannedVariant {
  variant: VariantSpec;
  placement: Placement;
}

export interface VariantPlan {
  planned: PlannedVariant[];
  /** Variants whose output would repeat another variant's pixels exactly (see `planVariants`). */
  skipped: VariantSpec[];
}

/**
 * Native placements of the same kind come out identical: every `inside` box holding the whole
 * original leaves it as it is, and every `cover` box it cannot fill crops it alike when the boxes
 * share an aspect ratio. A mark changes the pixels, so watermarked variants only repeat each other.
 */
function duplicateGroup(box: Box): string {
  const divisor = gcd(box.width, box.height);
  const kind = box.fit === 'inside' ? 'inside' : `cover:${box.width / divisor}:${box.height / divisor}`;
  return box.watermark ? `${kind}:${JSON.stringify(box.watermark)}` : kind;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Decides what to render of `variants` for an original of `size` (EXIF-oriented).
 *
 * A variant is skipped exactly when it would only repeat another variant of the set: it is native
 * (an `inside` box that already holds the whole original, or a `cover` box the original cannot
 * fill) and a smaller box of the same duplicate group is native too. So of all the `inside` boxes
 * larger than a small original, only the smallest is rendered (at the original's size): every image
 * has at least one `inside` variant, and a thumbnail (`cover`) is never skipped for being small.
 *
 * `variantSet` is the whole configured set, so that the decision is the same whichever subset of it
 * one call renders (the render lanes split it).
 */
export function planVariants(
  variants: readonly VariantSpec[],
  size: Size,
  variantSet: readonly VariantSpec[] = variants,
): VariantPlan {
  const missing = variants.filter((v) => !variantSet.some((s) => s.name === v.name));
  if (missing.length > 0) {
    throw new RangeError(`variants not in the variant set: ${missing.map((v) => v.name).join(', ')}`);
  }
  const keepers = new Map<string, VariantSpec>();
  for (const candidate of variantSet) {
    if (!place(candidate, size).native) continue;
    const group = duplicateGroup(candidate);
    const kept = keepers.get(group);
    if (!kept || candidate.width * candidate.height < kept.width * kept.height) keepers.set(group, candidate);
  }
  const plan: VariantPlan = { planned: [], skipped: [] };
  for (const variant of variants) {
    const placement = place(variant, size);
    if (placement.native && keepers.get(duplicateGroup(variant))?.name !== variant.name) {
      plan.skipped.push(variant);
    } else {
      plan.planned.push({ variant, placement });
    }
  }
  return plan;
}

export const area = (size: Size): number => size.width * size.height;
