import { listParts, type MultipartUploadDependencies } from '../../services/multipart-upload.js';
import { type HttpResult, json } from '../http.js';

export type ListPartsDependencies = MultipartUploadDependencies;

/**
 * `GET /v1/uploads/{uploadId}/parts`: the parts S3 holds for the caller's multipart upload, all of
 * them, so a client that lost its state sends only the rest.
 */
export async function listPartsRoute(
  deps: ListPartsDependencies,
  owner: string,
  uploadId: string | undefined,
): Promise<{ result: HttpResult; uploadId?: string }> {
  const parts = await listParts(deps, owner, uploadId ?? '');
  return { result: json(200, { parts }), uploadId };
}
