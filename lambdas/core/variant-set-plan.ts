import type { OutputFormat } from './formats.js';
import type { ImageFacts } from './image-facts.js';
import { parseDerivativeKey } from './keys.js';
import { orientedSize, planVariants } from './render/geometry.js';
import { hasVariantPage } from './render/pages.js';
import type { VariantSpec } from './variants.js';

/**
 * What an image needs to be complete on a variant set, decided from what is stored under its
 * derivative prefix. Derivative keys carry their spec's revision, so an object at the current
 * revision is exactly what a render under the current spec would write: finding it is as good as
 * rendering it again, and nothing else is.
 */

/** Stated structurally, as core does not import ports: the catalog's variant statuses. */
type VariantStatus = 'pending' | 'ready' | 'skipped' | 'failed';

type PlannedImage = Pick<ImageFacts, 'format' | 'width' | 'height' | 'orientation' | 'pages'> & {
  imageId: string;
};

/**
 * The variants of the set whose objects are all stored at the current revision: one for every
 * format (of at least one page, as a multi-page TIFF's pages may each skip a variant).
 */
export function storedVariants(
  imageId: string,
  variantSet: readonly VariantSpec[],
  keys: Iterable<string>,
): Set<string> {
  const formats = new Map<string, Set<OutputFormat>>();
  for (const key of keys) {
    const address = parseDerivativeKey(key, variantSet);
    if (address?.imageId !== imageId) continue;
    const stored = formats.get(address.variant.name) ?? new Set();
    formats.set(address.variant.name, stored.add(address.format));
  }
  return new Set(
    variantSet
      .filter((variant) => variant.formats.every(({ format }) => formats.get(variant.name)?.has(format)))
      .map((variant) => variant.name),
  );
}

export interface VariantSetPlan {
  /** Every variant of the set: `ready` when stored, `skipped` when the worker would skip it, else `pending`. */
  variants: Record<string, VariantStatus>;
  /** The pending ones, in the set's order: what is left to render. */
  render: string[];
}

/**
 * How an image moves to a variant set: what is stored stays (`ready`), a variant the worker would
 * only skip again is `skipped` without a render, and the rest (new variants, changed specs, a
 * variant the new set no longer skips) is rendered.
 */
export function planVariantSet(
  image: PlannedImage,
  variantSet: readonly VariantSpec[],
  keys: Iterable<string>,
): VariantSetPlan {
  const stored = storedVariants(image.imageId, variantSet, keys);
  const skips = foreseeableSkips(image, variantSet);
  const variants: Record<string, VariantStatus> = {};
  const render: string[] = [];
  for (const { name } of variantSet) {
    if (stored.has(name)) variants[name] = 'ready';
    else if (skips.has(name)) variants[name] = 'skipped';
    else {
      variants[name] = 'pending';
      render.push(name);
    }
  }
  return { variants, render };
}

/**
 * The variants the worker would skip as repeats of others (`planVariants`), where the record can
 * tell: the first page's size decides everything but a multi-page TIFF's `inside` variants, which
 * are rendered page by page (and pages differ in size), so those are left to the worker.
 */
function foreseeableSkips(image: PlannedImage, variantSet: readonly VariantSpec[]): Set<string> {
  const size = orientedSize({ width: image.width, height: image.height }, image.orientation);
  return new Set(
    planVariants(variantSet, size, variantSet)
      .skipped.filter((variant) => !hasVariantPage(image, variant, 1))
      .map((variant) => variant.name),
  );
}

/**
 * Keys among an image's derivatives that no variant of the set names: older revisions and removed
 * variants. Nothing serves them any more; they can go once the current ones are stored.
 */
export function staleDerivativeKeys(keys: readonly string[], variantSet: readonly VariantSpec[]): string[] {
  return keys.filter((key) => !parseDerivativeKey(key, variantSet));
}
