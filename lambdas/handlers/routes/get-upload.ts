import { NotFoundError } from '../../core/errors.js';
import { uploadView } from '../../core/image-views.js';
import { isUploadId } from '../../core/keys.js';
import type { RequestPathCatalog } from '../../ports/catalog.js';
import { type HttpResult, json } from '../http.js';

export interface GetUploadDependencies {
  catalog: RequestPathCatalog;
}

/**
 * `GET /v1/uploads/{uploadId}`. An id that is malformed, unknown, or another owner's all get the very
 * same answer, so the route cannot be used to learn which upload ids exist.
 */
export async function getUpload(
  deps: GetUploadDependencies,
  owner: string,
  uploadId: string | undefined,
): Promise<{ result: HttpResult; uploadId?: string; imageId?: string }> {
  // Junk never reaches the catalog.
  if (!uploadId || !isUploadId(uploadId)) throw notFound();
  const upload = await deps.catalog.getUpload(uploadId);
  if (!upload || upload.owner !== owner) throw notFound();

  const stored =
    upload.state === 'accepted' && upload.imageId ? await deps.catalog.getImage(upload.imageId) : undefined;
  const image = stored?.deletingSince ? undefined : stored;
  // Accepted, but its image has since gone (or is going): there is no status left to report.
  if (upload.state === 'accepted' && !image) throw notFound();
  return { result: json(200, uploadView(upload, image)), uploadId, imageId: upload.imageId };
}

function notFound(): NotFoundError {
  return new NotFoundError('upload not found');
}
