import { sha256Hex } from '../core/hashing.js';
import { derivativeKey } from '../core/keys.js';
import { UnrenderableImageError } from '../core/render/errors.js';
import type { RenderedObject } from '../core/render/render-variants.js';
import type { VariantSpec } from '../core/variants.js';
import type { RequestPathCatalog } from '../ports/catalog.js';
import type { DerivativeStore } from '../ports/derivative-store.js';

/**
 * What every renderer (the lanes and the on-demand function) reads and writes around the render
 * itself: the original in, only as ingest judged it; the derivatives out, only while the image is
 * still wanted.
 */

export interface RenderIo {
  catalog: RequestPathCatalog;
  store: DerivativeStore;
}

export interface Derivative {
  key: string;
  bytes: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

/** A rendered object of `variant`, ready to store at its content-addressed key. */
export function toDerivative(imageId: string, variant: VariantSpec, object: RenderedObject): Derivative {
  return {
    key: derivativeKey(imageId, variant, object.format, object.page),
    bytes: object.bytes,
    contentType: object.contentType,
    metadata: { variant: object.variant, 'source-sha256': imageId },
  };
}

/** Derivatives written at once: enough to overlap S3 latency, few enough to bound memory. */
const PARALLEL_PUTS = 6;

/**
 * The original's bytes, or undefined when it is gone (the image was deleted meanwhile). Ingest judged
 * the bytes whose SHA-256 is the image id; anything else under the key (a bucket written to by hand,
 * a bug) is `UnrenderableImageError('original_mismatch')` and never rendered. Hashing costs
 * milliseconds per megabyte, next to seconds of decoding.
 */
export async function readTrustedOriginal(
  store: DerivativeStore,
  imageId: string,
  key: string,
): Promise<Buffer | undefined> {
  const bytes = await store.readOriginal(key);
  if (bytes && sha256Hex(bytes) !== imageId) {
    throw new UnrenderableImageError('original_mismatch', 'the stored original does not hash to the image', {
      imageId,
      key,
    });
  }
  return bytes;
}

/**
 * Writes a render's derivatives, then asks whether the image still wants them. A delete that began
 * while the render ran purged the image's prefix before these writes (or lists it after this read,
 * and removes them itself), so what this render wrote is removed here when the image is gone or being
 * deleted: a deleted image's derivatives never stay behind at their public keys. Returns whether they
 * were kept.
 */
export async function storeDerivatives(
  io: RenderIo,
  imageId: string,
  derivatives: readonly Derivative[],
): Promise<boolean> {
  for (let i = 0; i < derivatives.length; i += PARALLEL_PUTS) {
    await Promise.all(derivatives.slice(i, i + PARALLEL_PUTS).map((d) => io.store.putDerivative(d)));
  }
  const image = await io.catalog.getImage(imageId);
  if (image && !image.deletingSince) return true;
  await io.store.deleteDerivatives(derivatives.map((derivative) => derivative.key));
  return false;
}
