import { RetryableError } from '../core/errors.js';
import { OUTPUT_FORMATS } from '../core/formats.js';
import { originalKey, parseDerivativeKey } from '../core/keys.js';
import { UnrenderableImageError } from '../core/render/errors.js';
import { hasVariantPage } from '../core/render/pages.js';
import { renderVariants } from '../core/render/render-variants.js';
import type { Settings } from '../core/settings.js';
import { variantSetVersion } from '../core/variants.js';
import type { RequestPathCatalog } from '../ports/catalog.js';
import type { DerivativeStore } from '../ports/derivative-store.js';
import type { RenderLeases } from '../ports/render-leases.js';
import { readTrustedOriginal, storeDerivatives, toDerivative } from './render-io.js';

export interface OnDemandDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  store: DerivativeStore;
  leases: RenderLeases;
  sleep: (ms: number) => Promise<void>;
}

export type OnDemandOutcome =
  /** Nothing to render: not a current spec's key, no such image, or nothing the image makes there. */
  | { outcome: 'not_found'; why: string }
  /** The key names a page the image does not have for the variant, and never will: see `hasVariantPage`. */
  | { outcome: 'no_such_page'; why: string }
  /** Rendered by this request (every format of the variant, or of its page, was stored). */
  | { outcome: 'rendered'; key: string; contentType: string; bytes: Buffer }
  /** Another request held the lease; this one served what it stored. */
  | { outcome: 'waited'; key: string; contentType: string; bytes: Buffer };

/** Longer than a variant's render; a holder that dies frees it after this. */
const LEASE_SECONDS = 60;
const POLL_MS = 200;
/** Within CloudFront's 30 s origin read timeout, with room for the reply. */
const MAX_WAIT_MS = 25_000;

/**
 * A derivative the CDN did not find (a variant added to the spec since the image was rendered, or
 * a job still queued), rendered once however many viewers ask at the same moment: the first takes
 * a lease on the image's variant, renders it in every format and stores it at its keys; the others
 * wait for the object to appear. Only keys of the configured spec are honoured (`parseDerivativeKey`),
 * so no URL can make up a size, and a page only of an image that has it, so no URL can make up a
 * page; a page is rendered alone, never the whole document for it.
 */
export async function renderOnDemand(deps: OnDemandDependencies, key: string): Promise<OnDemandOutcome> {
  const address = parseDerivativeKey(key, deps.settings.variants);
  if (!address) return { outcome: 'not_found', why: 'not a derivative of the current spec' };
  const { imageId, variant, format, page } = address;
  const contentType = OUTPUT_FORMATS[format].mime;
  const image = await deps.catalog.getImage(imageId);
  if (!image || image.deletingSince || image.status === 'failed') {
    return { outcome: 'not_found', why: 'no renderable image' };
  }
  // Decided from the record before anything is read or leased: a made-up page costs one GetItem.
  if (!hasVariantPage(image, variant, page)) {
    const of = `${variant.name} of this ${image.pages}-page ${image.format}`;
    const why = page === undefined ? `${of} is rendered per page` : `${of} has no page ${page}`;
    return { outcome: 'no_such_page', why };
  }
  const stored = await deps.store.readDerivative(key);
  if (stored) return { outcome: 'waited', key, contentType, bytes: stored };

  // Per page: each page is its own render, and waiting on another page's would wait for nothing.
  const lease = page === undefined ? `${imageId}/${variant.name}` : `${imageId}/${variant.name}/${page}`;
  if (!(await deps.leases.acquire(lease, LEASE_SECONDS))) {
    for (let waited = 0; waited < MAX_WAIT_MS; waited += POLL_MS) {
      await deps.sleep(POLL_MS);
      const bytes = await deps.store.readDerivative(key);
      if (bytes) return { outcome: 'waited', key, contentType, bytes };
    }
    throw new RetryableError('render_in_progress', 'another request is still rendering this variant', {
      key,
    });
  }
  try {
    let rendered: Awaited<ReturnType<typeof renderVariants>>;
    try {
      const original = await readTrustedOriginal(deps.store, imageId, originalKey(imageId));
      if (!original) return { outcome: 'not_found', why: 'the original is gone' };
      rendered = await renderVariants(original, [variant], {
        maxInputPixels: deps.settings.maxInputPixels,
        variantSet: deps.settings.variants,
        page,
      });
    } catch (error) {
      if (error instanceof UnrenderableImageError) return { outcome: 'not_found', why: error.reason };
      throw error;
    }
    const derivatives = rendered.objects.map((object) => toDerivative(imageId, variant, object));
    if (!(await storeDerivatives(deps, imageId, derivatives))) {
      return { outcome: 'not_found', why: 'the image was deleted while it rendered' };
    }
    // The variant set the image was rendered with may not have this variant yet (reprocess records
    // that); when it does, the catalog learns of it as it would from a render job. One page is not
    // the variant: its render job stores every page and records it.
    if (page === undefined && image.variantSetVersion === variantSetVersion(deps.settings.variants)) {
      const status = rendered.objects.length > 0 ? 'ready' : 'skipped';
      await deps.catalog.recordVariants(imageId, image.variantSetVersion, { [variant.name]: status }, {});
    }
    const served = rendered.objects.find((object) => object.format === format && object.page === page);
    if (!served) return { outcome: 'not_found', why: 'the image has no such variant or page' };
    return { outcome: 'rendered', key, contentType, bytes: served.bytes };
  } finally {
    await deps.leases.release(lease);
  }
}
