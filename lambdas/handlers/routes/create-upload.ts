import type { Settings } from '../../core/settings.js';
import { grantUpload, parseUploadRequest } from '../../core/uploads.js';
import type { RequestPathCatalog } from '../../ports/catalog.js';
import type { UploadGrantView, UploadSigner } from '../../ports/upload-signer.js';
import { type HttpResult, json } from '../http.js';

export interface CreateUploadDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  signer: UploadSigner;
  now: () => Date;
}

/**
 * `POST /v1/uploads`: a presigned upload bound to a fresh key, or, when the owner already has these
 * bytes, the existing image. Only the caller's own links are consulted, so the answer never reveals
 * what other owners stored.
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
  });
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
