import { assessUpload } from '../core/assess-upload.js';
import { ConflictError, RetryableError, TooLargeError } from '../core/errors.js';
import { type HashedBytes, readHashed } from '../core/hashing.js';
import type { ImageFacts } from '../core/image-facts.js';
import { originalKey, uploadIdFromKey } from '../core/keys.js';
import type { Rejection } from '../core/rejections.js';
import { planRenderJobs } from '../core/render-jobs.js';
import type { Settings } from '../core/settings.js';
import { variantSetVersion } from '../core/variants.js';
import type {
  ImageLink,
  ImageRecord,
  IngestConflict,
  RequestPathCatalog,
  UploadRecord,
} from '../ports/catalog.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { OwnerIndex } from '../ports/owner-index.js';
import type { WorkQueue } from '../ports/work-queue.js';
import { indexNewLink, type VectorFiling } from './owner-index-sync.js';

export interface IngestDependencies {
  settings: Settings;
  catalog: RequestPathCatalog;
  store: ObjectStore;
  queue: WorkQueue;
  /** Where an owner who links an already enriched image gets its lookups (and vector) filed. */
  ownerIndex: OwnerIndex;
  vectors?: VectorFiling | undefined;
  now: () => Date;
}

/** What became of one object-created notification. */
export type IngestOutcome =
  | { outcome: 'ignored'; why: 'not_an_upload_key' | 'object_gone' }
  | { outcome: 'rejected'; uploadId: string; rejection: Rejection }
  | { outcome: 'created'; uploadId: string; imageId: string }
  | { outcome: 'linked'; uploadId: string; imageId: string }
  | { outcome: 'already_decided'; uploadId: string; imageId?: string; rejection?: Rejection };

/** Lost races retried before giving up to the event's own retry. */
const MAX_COMMIT_ATTEMPTS = 4;

/**
 * Turns an object under `uploads/` into a new image (original stored, jobs queued), a link to an image
 * that exists, or a rejection. Every step is safe to repeat: the upload leaves `pending` exactly once
 * (a condition in the same transaction as the link); the transaction that creates the image elects
 * one upload, and only that upload stores the original and queues the jobs, until the image records
 * that it did; the upload object is removed last. A crash at any point is repaired by the redelivery
 * of the same event.
 *
 * The original is written from the very bytes that were hashed and judged, never copied from the
 * upload key: a grant stays valid for its TTL, so the key may hold other bytes by the time ingest
 * stores the original. Once the upload is decided, whatever else arrives under its key is removed
 * and changes nothing.
 */
export async function ingestUpload(
  deps: IngestDependencies,
  object: { key: string; size: number },
): Promise<IngestOutcome> {
  const uploadId = uploadIdFromKey(object.key);
  if (!uploadId) return { outcome: 'ignored', why: 'not_an_upload_key' };
  const source = uploadObject(deps, object.key);

  const upload = await deps.catalog.getUpload(uploadId);
  if (!upload) {
    // Bytes nobody was granted a URL for (or whose grant expired long ago) are not kept.
    await source.discard();
    return {
      outcome: 'rejected',
      uploadId,
      rejection: { reason: 'no_upload_record', message: 'unknown upload' },
    };
  }
  if (upload.state !== 'pending') return finishDecided(deps, upload, source);

  const read = object.size > deps.settings.maxUploadBytes ? 'too_large' : await readSource(deps, source);
  if (read === 'object_gone') return { outcome: 'ignored', why: 'object_gone' };
  return decideUpload(deps, upload, read, source);
}

/**
 * Where a pending upload's bytes are: the upload key for an app's upload, a library's own object for
 * an import. `discard` removes them once they are decided (a no-op for a source nobody may write).
 */
export interface UploadSource {
  read(): Promise<AsyncIterable<Uint8Array> | undefined>;
  discard(): Promise<void>;
}

/** What reading a source gave: its bytes, hashed as they streamed, or why there are none. */
export type SourceRead = HashedBytes | 'too_large' | 'object_gone';

function uploadObject(deps: IngestDependencies, key: string): UploadSource {
  return { read: () => deps.store.readUpload(key), discard: () => deps.store.deleteUpload(key) };
}

/** Reads a source once, hashing as it streams, and stops past the upload size limit. */
export async function readSource(
  deps: Pick<IngestDependencies, 'settings'>,
  source: UploadSource,
): Promise<SourceRead> {
  const body = await source.read();
  if (!body) return 'object_gone';
  try {
    return await readHashed(body, deps.settings.maxUploadBytes);
  } catch (error) {
    if (error instanceof TooLargeError) return 'too_large';
    throw error;
  }
}

/**
 * Decides a pending upload from the bytes read from its source: judged, then a new image, a link to
 * an image that exists, or a rejection. What an app's upload and a library's import have in common,
 * so the two can never disagree.
 */
export async function decideUpload(
  deps: IngestDependencies,
  upload: UploadRecord,
  read: HashedBytes | 'too_large',
  source: UploadSource,
): Promise<IngestOutcome> {
  const { uploadId } = upload;
  const assessment = await assess(deps, upload, read);
  if (!assessment.accepted) {
    const rejection = assessment.rejection;
    const decided = await whenStillPending(() => deps.catalog.rejectUpload(uploadId, rejection));
    if (!decided) return finishDecided(deps, await mustGetUpload(deps, uploadId), source);
    await source.discard();
    return { outcome: 'rejected', uploadId, rejection };
  }

  const { facts, sha256, bytes } = assessment;
  const link: ImageLink = {
    owner: upload.owner,
    imageId: sha256,
    uploadId,
    collection: upload.collection,
    filename: upload.filename,
    linkedAt: deps.now(),
  };
  for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
    const existing = await deps.catalog.getImage(sha256);
    if (existing?.deletingSince) {
      // Its bytes are being removed; once the record is gone, a retry stores them afresh.
      throw new RetryableError(
        'image_being_deleted',
        'the same image is being deleted; the upload is retried after',
        { uploadId, imageId: sha256 },
      );
    }
    try {
      if (!existing) {
        const image = newImageRecord(deps, sha256, uploadId, facts);
        await deps.catalog.createImage(image, link);
        await completeNewImage(deps, uploadId, image, async () => bytes);
        await source.discard();
        return { outcome: 'created', uploadId, imageId: sha256 };
      }
      if (await deps.catalog.findLink(upload.owner, sha256))
        await deps.catalog.acceptUpload(uploadId, sha256);
      else await deps.catalog.addLink(link);
      await indexNewLink(deps, link);
      await source.discard();
      return { outcome: 'linked', uploadId, imageId: sha256 };
    } catch (error) {
      const conflict = conflictOf(error);
      if (!conflict) throw error;
      if (conflict === 'upload_not_pending') {
        return finishDecided(deps, await mustGetUpload(deps, uploadId), source);
      }
      // image_exists, image_missing, link_exists: someone else moved first; look again.
    }
  }
  throw new ConflictError('ingest_kept_losing', 'ingest kept losing races; the event will be retried', {
    uploadId,
    imageId: sha256,
  });
}

type AssessedUpload =
  | { accepted: true; facts: ImageFacts; sha256: string; bytes: Buffer }
  | { accepted: false; rejection: Rejection };

/**
 * Judges the bytes read from an upload's source. They must be exactly the declared size: S3 holds
 * single uploads to it, and a multipart one is checked part by part at completion, so another size
 * means those bindings were got around (or, for an import, that the object changed since the listing).
 */
async function assess(
  deps: IngestDependencies,
  upload: UploadRecord,
  read: HashedBytes | 'too_large',
): Promise<AssessedUpload> {
  if (read === 'too_large') {
    const limit = deps.settings.maxUploadBytes;
    return {
      accepted: false,
      rejection: { reason: 'too_large', message: `the upload is over ${limit} bytes` },
    };
  }
  const { bytes, sha256 } = read;
  if (bytes.length !== upload.size) {
    return {
      accepted: false,
      rejection: {
        reason: 'size_mismatch',
        message: `the upload has ${bytes.length} bytes where ${upload.size} were declared`,
      },
    };
  }
  const assessment = await assessUpload(bytes, sha256, upload, deps.settings);
  return assessment.accepted ? { ...assessment, sha256, bytes } : assessment;
}

function newImageRecord(
  deps: IngestDependencies,
  imageId: string,
  uploadId: string,
  facts: ImageFacts,
): ImageRecord {
  return {
    ...facts,
    imageId,
    status: 'processing',
    variantSetVersion: variantSetVersion(deps.settings.variants),
    refCount: 1,
    createdAt: deps.now(),
    createdByUpload: uploadId,
    variants: Object.fromEntries(deps.settings.variants.map((v) => [v.name, 'pending' as const])),
  };
}

/**
 * An upload decided by an earlier delivery: finish what that delivery may not have (queue the jobs
 * it owed, remove the upload object), change nothing else.
 */
export async function finishDecided(
  deps: IngestDependencies,
  upload: UploadRecord,
  source: UploadSource,
): Promise<IngestOutcome> {
  const { imageId } = upload;
  if (upload.state === 'accepted' && imageId) {
    const image = await deps.catalog.getImage(imageId);
    await completeNewImage(deps, upload.uploadId, image, () => judgedBytesAgain(deps, upload, source));
    // A first delivery that linked the image may have stopped before filing the owner's lookups.
    const link = await deps.catalog.findLink(upload.owner, imageId);
    if (link) await indexNewLink(deps, link);
  }
  await source.discard();
  return { outcome: 'already_decided', uploadId: upload.uploadId, imageId, rejection: upload.rejection };
}

/**
 * What only the upload that created an image does, until the image says it is done: store the
 * original from the bytes it was judged on (the upload object is deleted only after this), then queue
 * the jobs. Electing one writer also means racing uploads of the same bytes never write the same key
 * at once.
 */
async function completeNewImage(
  deps: IngestDependencies,
  uploadId: string,
  image: ImageRecord | undefined,
  judgedBytes: () => Promise<Buffer>,
): Promise<void> {
  if (!image || image.createdByUpload !== uploadId || image.jobsQueuedAt) return;
  const { imageId, contentType } = image;
  const bytes = await judgedBytes();
  await deps.store.storeOriginal({ key: originalKey(imageId), bytes, sha256: imageId, contentType });
  await deps.queue.enqueue(planRenderJobs(imageId, deps.settings));
  await deps.catalog.markJobsQueued(imageId, deps.now());
}

/**
 * The judged bytes, for a redelivery that owes the original (its first delivery stopped after
 * electing the upload): read from the source again, and only if they still hash to the image.
 * Other bytes there were sent under the grant after the decision: they are removed, and the event is
 * retried until a delivery that holds the judged bytes has stored them.
 */
async function judgedBytesAgain(
  deps: IngestDependencies,
  upload: UploadRecord,
  source: UploadSource,
): Promise<Buffer> {
  const read = await readSource(deps, source);
  if (typeof read === 'object' && read.sha256 === upload.imageId) return read.bytes;
  if (read !== 'object_gone') await source.discard();
  throw new ConflictError(
    'upload_bytes_replaced',
    'the upload no longer holds the bytes its image was judged on',
    {
      uploadId: upload.uploadId,
      imageId: upload.imageId,
    },
  );
}

async function mustGetUpload(deps: IngestDependencies, uploadId: string): Promise<UploadRecord> {
  const upload = await deps.catalog.getUpload(uploadId);
  if (!upload)
    throw new ConflictError('upload_missing', 'the upload record vanished during ingest', { uploadId });
  return upload;
}

/** Runs a decision; false when the upload had already left `pending`. */
async function whenStillPending(decide: () => Promise<void>): Promise<boolean> {
  try {
    await decide();
    return true;
  } catch (error) {
    if (conflictOf(error) === 'upload_not_pending') return false;
    throw error;
  }
}

/** The ingest transaction's conflict the error reports; other conflicts are not for ingest to decide on. */
function conflictOf(error: unknown): IngestConflict | undefined {
  if (!(error instanceof ConflictError)) return undefined;
  switch (error.reason) {
    case 'image_exists':
    case 'image_missing':
    case 'link_exists':
    case 'upload_not_pending':
      return error.reason;
    default:
      return undefined;
  }
}
