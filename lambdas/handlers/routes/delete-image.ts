import { NotFoundError } from '../../core/errors.js';
import { isSha256Hex } from '../../core/keys.js';
import { type DeleteImageDependencies, deleteImage } from '../../services/delete-image.js';
import type { HttpResult } from '../http.js';

export type DeleteImageRouteDependencies = DeleteImageDependencies;

/**
 * `DELETE /v1/images/{imageId}`: 204 once the caller's image is gone from their library, whether or
 * not others keep it; 404, exactly as for a hash nobody has, when the caller has no such image
 * (including a second delete).
 */
export async function deleteImageRoute(
  deps: DeleteImageRouteDependencies,
  owner: string,
  imageId: string | undefined,
): Promise<{ result: HttpResult; imageId?: string; event?: { message: string; metric: string } }> {
  if (!imageId || !isSha256Hex(imageId)) throw notFound();
  const outcome = await deleteImage(deps, owner, imageId);
  if (outcome.outcome === 'not_linked') throw notFound();
  return {
    result: { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' },
    imageId,
    event:
      outcome.outcome === 'purged'
        ? { message: 'image deleted with its last link', metric: 'ImagesPurged' }
        : { message: 'image unlinked', metric: 'ImagesUnlinked' },
  };
}

function notFound(): NotFoundError {
  return new NotFoundError('image not found');
}
