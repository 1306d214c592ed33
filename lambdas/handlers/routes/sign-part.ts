import { ValidationError } from '../../core/errors.js';
import { type MultipartUploadDependencies, signPart } from '../../services/multipart-upload.js';
import { type HttpResult, json } from '../http.js';

export type SignPartDependencies = MultipartUploadDependencies;

/**
 * `POST /v1/uploads/{uploadId}/parts/{partNumber}`: a short-lived URL for one part of the caller's
 * multipart upload, bound to its number and planned size. 404 as `GET /v1/uploads/{uploadId}` for
 * anyone else's upload; 409 once the upload is no longer taking parts.
 */
export async function signPartRoute(
  deps: SignPartDependencies,
  owner: string,
  uploadId: string | undefined,
  partNumber: string | undefined,
): Promise<{ result: HttpResult; uploadId?: string }> {
  if (!partNumber || !/^[0-9]{1,5}$/.test(partNumber)) {
    throw new ValidationError('the part number must be a whole number', 'partNumber');
  }
  const view = await signPart(deps, owner, uploadId ?? '', Number(partNumber));
  return { result: json(200, view), uploadId };
}
