import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { isUploadId, uploadKey } from '../core/keys.js';
import { expectedPartSize, isPartNumberOf, partsProblem } from '../core/multipart.js';
import type { Settings } from '../core/settings.js';
import type { MultipartFacts, RequestPathCatalog, UploadRecord } from '../ports/catalog.js';
import type {
  CompletedUploadView,
  ListedPartView,
  MultipartTarget,
  MultipartUploads,
  PartUrlView,
  StoredPart,
} from '../ports/multipart-uploads.js';

export interface MultipartUploadDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  multipart: MultipartUploads;
  now: () => Date;
}

/** A multipart upload of the caller's, as the catalog has it. */
interface OwnedMultipart {
  upload: UploadRecord;
  multipart: MultipartFacts;
  target: MultipartTarget;
}

/** What the client says it sent, as `completeMultipartUpload` hands it over. */
export interface ClaimedPart {
  PartNumber: number;
  ETag: string;
}

/**
 * The caller's own upload. An id that is malformed, unknown, or another owner's is the very same
 * NotFoundError as `GET /v1/uploads/{uploadId}` answers, so no route tells which upload ids exist.
 */
async function ownedUpload(deps: MultipartUploadDependencies, owner: string, uploadId: string) {
  // Junk never reaches the catalog.
  const upload = isUploadId(uploadId) ? await deps.catalog.getUpload(uploadId) : undefined;
  if (!upload || upload.owner !== owner) throw new NotFoundError('upload not found');
  return upload;
}

function notInProgress(uploadId: string, why: string): ConflictError {
  return new ConflictError(
    'upload_not_in_progress',
    `the upload is not a multipart upload in progress: ${why}`,
    {
      uploadId,
    },
  );
}

/** A multipart upload still taking parts (never completed, aborted or decided); 409 otherwise. */
function inProgress(upload: UploadRecord): OwnedMultipart {
  const { uploadId, multipart } = upload;
  if (!multipart) throw notInProgress(uploadId, 'it was granted as a single upload');
  if (upload.state === 'rejected' && upload.rejection?.reason === 'aborted') {
    throw notInProgress(uploadId, 'it was aborted');
  }
  if (upload.state !== 'pending' || multipart.completedAt) throw notInProgress(uploadId, 'it was completed');
  return { upload, multipart, target: { key: uploadKey(uploadId), s3UploadId: multipart.s3UploadId } };
}

/**
 * A URL for one part, bound to this upload, this part number and this part's planned size, living
 * `presignTtlSeconds` but never past the upload's own expiry.
 */
export async function signPart(
  deps: MultipartUploadDependencies,
  owner: string,
  uploadId: string,
  partNumber: number,
): Promise<PartUrlView> {
  const { upload, multipart, target } = inProgress(await ownedUpload(deps, owner, uploadId));
  const now = deps.now();
  if (upload.uploadExpiresAt.getTime() <= now.getTime()) throw notInProgress(uploadId, 'it has expired');
  if (!isPartNumberOf(multipart, partNumber)) {
    throw new ValidationError(
      `part numbers of this upload run from 1 to ${multipart.partCount}`,
      'partNumber',
    );
  }
  const expiresAt = new Date(
    Math.min(now.getTime() + deps.settings.presignTtlSeconds * 1000, upload.uploadExpiresAt.getTime()),
  );
  const size = expectedPartSize(multipart, upload.size, partNumber);
  const { url, headers } = await deps.multipart.presignPart(target, { partNumber, size }, expiresAt);
  return { url, headers, expiresAt: expiresAt.toISOString() };
}

/** The parts S3 holds, so a client that lost its state (a reload, a dropped connection) sends only the rest. */
export async function listParts(
  deps: MultipartUploadDependencies,
  owner: string,
  uploadId: string,
): Promise<ListedPartView[]> {
  const { target } = inProgress(await ownedUpload(deps, owner, uploadId));
  const parts = await deps.multipart.listParts(target);
  return parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }));
}

/** S3 quotes ETags; clients may or may not keep the quotes. */
const bareEtag = (etag: string) => etag.replace(/"/g, '');

/**
 * Assembles the object, once the parts S3 actually holds (not the client's word for them) are exactly
 * the plan: every number from 1 to `partCount`, each of its planned size, so the object is exactly the
 * declared size; and they are the parts the client means (its ETags). Otherwise a ValidationError and
 * nothing is completed. Completing a completed upload answers the same again.
 */
export async function completeUpload(
  deps: MultipartUploadDependencies,
  owner: string,
  uploadId: string,
  claimed: readonly ClaimedPart[],
): Promise<CompletedUploadView> {
  const owned = await ownedUpload(deps, owner, uploadId);
  if (wasCompleted(owned)) return { uploadId };
  const { upload, multipart, target } = inProgress(owned);

  let held: StoredPart[];
  try {
    held = await deps.multipart.listParts(target);
  } catch (error) {
    // A completion whose answer was lost: S3 no longer has the upload because it has the object.
    if (error instanceof ConflictError && wasCompleted(await ownedUpload(deps, owner, uploadId))) {
      return { uploadId };
    }
    throw error;
  }
  const problem = partsProblem(
    multipart,
    upload.size,
    held.map((part) => ({ partNumber: part.partNumber, size: part.size })),
  );
  if (problem) throw new ValidationError(`the upload cannot be completed: ${problem}`, 'parts');
  const claims = new Map(claimed.map((part) => [part.PartNumber, bareEtag(part.ETag)]));
  for (const part of held) {
    const claim = claims.get(part.partNumber);
    if (claim === undefined) throw new ValidationError(`part ${part.partNumber} is not listed`, 'parts');
    if (claim !== bareEtag(part.etag)) {
      throw new ValidationError(`part ${part.partNumber}'s ETag is not the one S3 holds`, 'parts');
    }
  }
  if (claims.size !== held.length) {
    throw new ValidationError('the list names parts that are not part of the upload', 'parts');
  }

  const { location } = await deps.multipart.complete(
    target,
    [...held].sort((a, b) => a.partNumber - b.partNumber),
  );
  await deps.catalog.markMultipartCompleted(uploadId, deps.now());
  return { uploadId, ...(location ? { location } : {}) };
}

/** S3 assembled the object: the catalog noted it, or ingest has decided on it since (not as aborted). */
function wasCompleted(upload: UploadRecord): boolean {
  if (!upload.multipart) return false;
  if (upload.multipart.completedAt || upload.state === 'accepted') return true;
  return upload.state === 'rejected' && upload.rejection?.reason !== 'aborted';
}

/**
 * Stops a multipart upload still in progress: S3 drops its parts, and the upload is rejected as
 * `aborted`, so its status says what became of it.
 */
export async function abortUpload(
  deps: MultipartUploadDependencies,
  owner: string,
  uploadId: string,
): Promise<void> {
  const { target } = inProgress(await ownedUpload(deps, owner, uploadId));
  await deps.multipart.abort(target);
  await deps.catalog.rejectUpload(uploadId, {
    reason: 'aborted',
    message: 'the multipart upload was aborted before it was completed',
  });
}
