import { completeUploadRequestSchema } from '../../core/upload-views.js';
import { completeUpload, type MultipartUploadDependencies } from '../../services/multipart-upload.js';
import { type HttpResult, json, parseInput } from '../http.js';

export type CompleteUploadDependencies = MultipartUploadDependencies;

/**
 * `POST /v1/uploads/{uploadId}/complete`: S3 assembles the caller's multipart upload once the parts it
 * holds are exactly the plan (400 otherwise, and nothing is completed); ingest then takes the object
 * as any other upload. Completing a completed upload answers 200 again.
 */
export async function completeUploadRoute(
  deps: CompleteUploadDependencies,
  owner: string,
  uploadId: string | undefined,
  body: unknown,
): Promise<{ result: HttpResult; uploadId?: string; event?: { message: string; metric: string } }> {
  const { parts } = parseInput(completeUploadRequestSchema, body, 'body');
  const view = await completeUpload(deps, owner, uploadId ?? '', parts);
  return {
    result: json(200, view),
    uploadId,
    event: { message: 'multipart upload completed', metric: 'MultipartUploadsCompleted' },
  };
}
