import type { Settings } from '../../core/settings.js';
import { grantUpload, parseUploadRequest } from '../../core/uploads.js';
import type { MultipartFacts, RequestPathCatalog } from '../../ports/catalog.js';
import type { MultipartGrantView, MultipartUploads } from '../../ports/multipart-uploads.js';
import type { UploadGrantView, UploadSigner } from '../../ports/upload-signer.js';
import { type HttpResult, json } from '../http.js';

export interface CreateUploadDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  signer: UploadSigner;
  multipart: MultipartUploads;
  now: () => Date;
}

/**
 * `POST /v1/uploads`: a presigned upload bound to a fresh key (or, with `method: "MULTIPART"`, an S3
 * multipart upload whose parts are signed one by one), or, when the owner already has these bytes,
 * the existing image. Only the caller's own links are consulted, so the answer never reveals what
 * other owners stored.
 */
export async function createUpload(
  deps: CreateUploadDependencies,
  owner: string,
  body: unknown,
): Promise<{ result: HttpResult; uploadId?: string; imageId?: string }> {
  const request = parseUploadRequest(body, deps.settings);

  if (request.sha256) {
    const link = await deps.catalog.findLink(owner, request.sha256);
    if (link) {
      return { result: json(200, { duplicate: true, imageId: link.imageId }), imageId: link.imageId };
    }
  }

  const now = deps.now();
  const grant = grantUpload(request, owner, deps.settings, now);
  // The multipart upload exists before its record, which must hold S3's id for it; should the record
  // fail, the lifecycle rule aborts the upload nobody can reach.
  const multipart: MultipartFacts | undefined =
    grant.method === 'MULTIPART'
      ? { s3UploadId: await deps.multipart.create(grant), ...grant.plan }
      : undefined;
  await deps.catalog.recordUpload({
    uploadId: grant.uploadId,
    owner,
    state: 'pending',
    contentType: grant.contentType,
    size: grant.size,
    sha256: grant.sha256,
    filename: request.filename,
    collection: request.collection,
    createdAt: now,
    uploadExpiresAt: grant.expiresAt,
    multipart,
  });
  if (grant.method === 'MULTIPART') {
    const view: MultipartGrantView = {
      uploadId: grant.uploadId,
      method: 'MULTIPART',
      key: grant.key,
      partSize: grant.plan.partSize,
      partCount: grant.plan.partCount,
      expiresAt: grant.expiresAt.toISOString(),
    };
    return { result: json(201, view), uploadId: grant.uploadId };
  }
  const presigned = await deps.signer.presign(grant);
  const view: UploadGrantView = {
    uploadId: grant.uploadId,
    ...presigned,
    expiresAt: grant.expiresAt.toISOString(),
  };
  return {
    result: json(201, view),
    uploadId: grant.uploadId,
  };
}
