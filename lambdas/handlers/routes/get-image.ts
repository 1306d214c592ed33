import { NotFoundError } from '../../core/errors.js';
import { imageView } from '../../core/image-views.js';
import { isSha256Hex } from '../../core/keys.js';
import type { Settings } from '../../core/settings.js';
import type { Catalog } from '../../ports/catalog.js';
import { type HttpResult, json } from '../http.js';

export interface GetImageDependencies {
  settings: Settings;
  catalog: Catalog;
  /** Where the CDN serves `derived/`, without a trailing slash. */
  cdnBaseUrl: string;
}

/**
 * `GET /v1/images/{imageId}`. Images are shared by hash, so access goes through the caller's own link:
 * without one the answer is exactly the one for a hash nobody has, and the image record is not read.
 */
export async function getImage(
  deps: GetImageDependencies,
  owner: string,
  imageId: string | undefined,
): Promise<{ result: HttpResult; imageId?: string }> {
  if (!imageId || !isSha256Hex(imageId)) throw notFound();
  const link = await deps.catalog.findLink(owner, imageId);
  if (!link) throw notFound();
  const image = await deps.catalog.getImage(imageId);
  if (!image) throw notFound();
  return {
    result: json(200, imageView(image, link, deps.settings.variants, deps.cdnBaseUrl)),
    imageId,
  };
}

function notFound(): NotFoundError {
  return new NotFoundError('image not found');
}
