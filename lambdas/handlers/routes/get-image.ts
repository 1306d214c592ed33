import { NotFoundError } from '../../core/errors.js';
import { type ImageView, imageView } from '../../core/image-views.js';
import { isSha256Hex } from '../../core/keys.js';
import type { Settings } from '../../core/settings.js';
import type { ImageLink, ImageRecord, RequestPathCatalog } from '../../ports/catalog.js';
import type { UrlSigner } from '../../ports/url-signer.js';
import { type HttpResult, json } from '../http.js';

export interface GetImageDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  /** Where the CDN serves `derived/`, without a trailing slash. */
  cdnBaseUrl: string;
  /** With private delivery, every CDN URL handed out is signed. */
  urlSigner: UrlSigner | undefined;
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
  const { image, link } = await ownImage(deps.catalog, owner, imageId);
  return { result: json(200, await ownerImageView(deps, image, link)), imageId };
}

/**
 * The image `imageId` names and the caller's link to it; `NotFoundError` for a malformed id, an image
 * the caller does not link (whether or not anyone else does) and one gone meanwhile, all alike.
 */
export async function ownImage(
  catalog: Pick<RequestPathCatalog, 'findLink' | 'getImage'>,
  owner: string,
  imageId: string | undefined,
): Promise<{ image: ImageRecord; link: ImageLink }> {
  if (!imageId || !isSha256Hex(imageId)) throw notFound();
  const link = await catalog.findLink(owner, imageId);
  if (!link) throw notFound();
  const image = await catalog.getImage(imageId);
  if (!image) throw notFound();
  return { image, link };
}

/**
 * An image as its owner sees it wherever it is shown (one image, search results, similar images):
 * the current variant set, URLs held back for a flagged image when the deployment says so, and
 * signed under private delivery.
 */
export async function ownerImageView(
  deps: GetImageDependencies,
  image: ImageRecord,
  link: ImageLink,
): Promise<ImageView> {
  const { settings, cdnBaseUrl, urlSigner } = deps;
  const view = imageView(image, link, settings.variants, cdnBaseUrl, settings.enrichment.moderation);
  return urlSigner ? signedView(view, urlSigner) : view;
}

/** The view with each variant's URLs signed. */
async function signedView(view: ImageView, signer: UrlSigner): Promise<ImageView> {
  const variants = await Promise.all(
    view.variants.map(async (variant) => {
      if (!variant.url || !variant.urls) return variant;
      const urls = await Promise.all(
        Object.entries(variant.urls).map(async ([format, url]) => [format, await signer.sign(url)] as const),
      );
      return { ...variant, url: await signer.sign(variant.url), urls: Object.fromEntries(urls) };
    }),
  );
  return { ...view, variants };
}

function notFound(): NotFoundError {
  return new NotFoundError('image not found');
}
