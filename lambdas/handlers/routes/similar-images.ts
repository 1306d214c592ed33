import { z } from 'zod';
import type { SimilarImageView } from '../../core/image-views.js';
import type { OwnerIndex } from '../../ports/owner-index.js';
import { findNearDuplicates } from '../../services/near-duplicates.js';
import { type HttpResult, json, pageLimitSchema, parseQueryString } from '../http.js';
import { type GetImageDependencies, ownerImageView, ownImage } from './get-image.js';

export interface SimilarImagesDependencies extends GetImageDependencies {
  ownerIndex: OwnerIndex;
}

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;

/** The query string. Unknown parameters are refused, as on every route. */
export const similarQuerySchema = z.strictObject({ limit: pageLimitSchema(MAX_LIMIT, DEFAULT_LIMIT) });

/**
 * `GET /v1/images/{imageId}/similar?limit=`: the caller's own images that look like this one
 * (re-encoded, resized, slightly cropped), nearest first. 404 exactly as `GET /v1/images/{id}` when
 * the caller does not link the image; none while it has no fingerprint (not yet rendered, or
 * fingerprints off).
 */
export async function similarImages(
  deps: SimilarImagesDependencies,
  owner: string,
  imageId: string | undefined,
  query: Record<string, string | undefined> | undefined,
): Promise<{ result: HttpResult; imageId?: string }> {
  const { limit } = parseQueryString(similarQuerySchema, query);
  const { image } = await ownImage(deps.catalog, owner, imageId);
  const found = image.fingerprint
    ? await findNearDuplicates(deps, owner, image.fingerprint, { limit, excluding: image.imageId })
    : [];
  const items = await Promise.all(
    found.map(
      async (near): Promise<SimilarImageView> => ({
        ...(await ownerImageView(deps, near.image, near.link)),
        distance: near.distance,
      }),
    ),
  );
  return { result: json(200, { items }), imageId: image.imageId };
}
