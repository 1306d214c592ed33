import { abortUpload, type MultipartUploadDependencies } from '../../services/multipart-upload.js';
import type { HttpResult } from '../http.js';

export type AbortUploadDependencies = MultipartUploadDependencies;

/**
 * `DELETE /v1/uploads/{uploadId}`: 204 once the caller's multipart upload in progress is aborted (S3
 * drops its parts; the upload reads `rejected`, reason `aborted`); 409 for any upload that is not a
 * multipart upload in progress, 404 as `GET /v1/uploads/{uploadId}` for anyone else's.
 */
export async function abortUploadRoute(
  deps: AbortUploadDependencies,
  owner: string,
  uploadId: string | undefined,
): Promise<{ result: HttpResult; uploadId?: string; event?: { message: string; metric: string } }> {
  await abortUpload(deps, owner, uploadId ?? '');
  return {
    result: { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' },
    uploadId,
    event: { message: 'multipart upload aborted', metric: 'MultipartUploadsAborted' },
  };
}
