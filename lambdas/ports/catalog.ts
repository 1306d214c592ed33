/**
 * The catalog of uploads, images and who links to them, as the request path (API, ingest, render,
 * on-demand, delete) uses it. The operator tools' repairs are `MaintenanceCatalog`'s.
 */
import type { Enrichment } from '../core/enrichment.js';
import type { ConflictReason } from '../core/errors.js';
import type { ImageFacts } from '../core/image-facts.js';
import type { Fingerprint } from '../core/near-duplicates.js';
import type { Rejection } from '../core/rejections.js';
import type { Placeholder } from '../core/render/placeholder.js';
import type { TechnicalMetadata } from '../core/render/technical-metadata.js';

/** What the API reports for an upload: its own state until accepted, then its image's. */
export type UploadStatus = 'pending' | 'processing' | 'ready' | 'rejected' | 'failed';

/** An upload's own lifecycle. Only `pending` moves, exactly once: to `accepted` or `rejected`. */
export type UploadState = 'pending' | 'accepted' | 'rejected';

/** What a multipart upload needs beyond a single one; S3's id for it is never shown to the client. */
export interface MultipartFacts {
  s3UploadId: string;
  partSize: number;
  partCount: number;
  /** Set once S3 assembled the object from the parts: nothing more may be signed or aborted. */
  completedAt?: Date | undefined;
}

export interface UploadRecord {
  uploadId: string;
  owner: string;
  state: UploadState;
  contentType: string;
  size: number;
  sha256: string | undefined;
  filename: string | undefined;
  collection: string | undefined;
  createdAt: Date;
  /**
   * When the presigned URL stops working, or, for a multipart upload, when the lifecycle rule aborts
   * it; an upload still `pending` well after it is abandoned.
   */
  uploadExpiresAt: Date;
  /** Present for a multipart upload. */
  multipart?: MultipartFacts | undefined;
  /** Set once accepted: the content-addressed image the upload became or joined. */
  imageId?: string | undefined;
  /** Set once rejected. */
  rejection?: Rejection | undefined;
  /** The server-side import that made this upload of a library's object; absent for an app's upload. */
  importId?: string | undefined;
}

export type ImageStatus = 'processing' | 'ready' | 'failed';
export type VariantStatus = 'pending' | 'ready' | 'skipped' | 'failed';

/** What one render job learned beyond its variants; only the thumbnails lane reports these. */
export interface RenderExtras {
  placeholder?: Placeholder;
  technicalMetadata?: TechnicalMetadata;
  /** With `settings.nearDuplicates`: what the image's near-duplicates are found by. */
  fingerprint?: Fingerprint;
}

export interface ImageRecord extends ImageFacts, RenderExtras {
  imageId: string;
  status: ImageStatus;
  variantSetVersion: string;
  /** How many links point at the image; kept equal to them by transactions. */
  refCount: number;
  createdAt: Date;
  /** The upload that created the image: only its ingest stores the original and queues the render jobs. */
  createdByUpload: string;
  /** Set once the original is stored and the jobs queued; a retried ingest redoes both while unset. */
  jobsQueuedAt?: Date | undefined;
  variants: Record<string, VariantStatus>;
  failure?: Rejection | undefined;
  /**
   * Set when the last link went: the image's bytes are being removed and no one may link it, render
   * it or change its status. The record itself goes last, so a new upload of the same bytes waits
   * (its ingest is retried) instead of racing the removal.
   */
  deletingSince?: Date | undefined;
  /** What the enrichment lane learned, and where it stands; absent until it is queued. */
  enrichment?: Enrichment | undefined;
  /**
   * The upkeep version (`upkeepVersion` in core/upkeep.ts) the image was last found settled on: how
   * the upkeep files it. Absent while it has work outstanding (a new image, one moved or requeued),
   * and on a failed image.
   */
  settledOn?: string | undefined;
}

/** One owner's claim on a content-addressed image. */
export interface ImageLink {
  owner: string;
  imageId: string;
  uploadId: string;
  collection: string | undefined;
  filename: string | undefined;
  linkedAt: Date;
  /**
   * The owner's own image, linked earlier, that this one looks like (re-encoded, resized, cropped):
   * noted by the thumbnails lane when it files the fingerprint. A hint: it may name an image the
   * owner has deleted since.
   */
  nearDuplicateOf?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass it back to get the next page. Absent on the last page. */
  cursor?: string | undefined;
}

/** Why an ingest transaction was refused: the caller re-reads and decides again. */
export type IngestConflict = Extract<
  ConflictReason,
  'image_exists' | 'image_missing' | 'link_exists' | 'upload_not_pending'
>;

/** What removing an owner's link did: nothing, or the image is still others', or it was the last link. */
export type UnlinkOutcome = 'not_linked' | 'unlinked' | 'last_link';

export interface RequestPathCatalog {
  /** Stores a new upload; ConflictError (`upload_exists`) if the id is already taken. */
  recordUpload(upload: UploadRecord): Promise<void>;
  getUpload(uploadId: string): Promise<UploadRecord | undefined>;
  getImage(imageId: string): Promise<ImageRecord | undefined>;
  /** The owner's link to the image with this hash, if the owner has one. Other owners' links are invisible. */
  findLink(owner: string, imageId: string): Promise<ImageLink | undefined>;
  /**
   * Every owner's link to the image (strongly consistent): whom an image's lookups (search terms,
   * near-duplicate bands) are filed for. Only derived-data writers call this, never a route.
   */
  listHolders(imageId: string): Promise<ImageLink[]>;
  /** Notes which of the owner's earlier images this one looks like; a no-op once the link is gone. */
  recordNearDuplicate(owner: string, imageId: string, nearDuplicateOf: string): Promise<void>;
  /** The owner's links, in one collection (newest first) or all of them. */
  listLinks(
    owner: string,
    options: { collection?: string; cursor?: string; limit: number },
  ): Promise<Page<ImageLink>>;

  /** `pending` → `rejected`; ConflictError (`upload_not_pending`) when the upload already moved. */
  rejectUpload(uploadId: string, rejection: Rejection): Promise<void>;
  /** Notes that S3 assembled a multipart upload's object (the first time only), whatever its state. */
  markMultipartCompleted(uploadId: string, at: Date): Promise<void>;
  /**
   * One transaction: the image (new), the owner's link (new) and the upload (`pending` → `accepted`).
   * ConflictError whose `reason` is an IngestConflict when any condition fails; nothing is written then.
   */
  createImage(image: ImageRecord, link: ImageLink): Promise<void>;
  /** One transaction: refCount + 1 on the existing image, the new link, the upload accepted. */
  addLink(link: ImageLink): Promise<void>;
  /** The owner already links the image: only the upload moves to `accepted`. */
  acceptUpload(uploadId: string, imageId: string): Promise<void>;
  /** Records that the render jobs were queued (idempotent); ConflictError (`image_deleted`) when the image is gone. */
  markJobsQueued(imageId: string, at: Date): Promise<void>;

  /**
   * Records finished variants (and extras) of an image still on `variantSetVersion`, then moves it to
   * `ready` once no variant of that set is pending. Never moves anything backwards: a replayed job
   * rewrites the same values, a job of an older variant set or for a failed or deleted image changes
   * nothing. Returns the image as it now stands, or undefined when the job was stale.
   */
  recordVariants(
    imageId: string,
    variantSetVersion: string,
    variants: Readonly<Record<string, Exclude<VariantStatus, 'pending'>>>,
    extras: RenderExtras,
  ): Promise<ImageRecord | undefined>;
  /**
   * Marks the image `failed` with a reason, unless it is being deleted or, without `evenIfReady`,
   * already `ready` (a render failure never takes back what is served; a lost original does).
   */
  failImage(imageId: string, failure: Rejection, options?: { evenIfReady?: boolean }): Promise<void>;
  /**
   * Files a settled image (`isSettled`) for the upkeep as settled on `upkeepVersion`, while it is
   * still exactly as judged (status, variant set, variants, fingerprint and enrichment versions);
   * false when it moved meanwhile, and it stays where the upkeep looks.
   */
  settleImage(image: ImageRecord, upkeepVersion: string): Promise<boolean>;

  /**
   * Marks the image's enrichment `pending` on `version`, unless it is already done or failed on that
   * version; false when it is (or the image is gone or being deleted): nothing to queue then.
   */
  queueEnrichment(imageId: string, version: string): Promise<boolean>;
  /**
   * Stores finished enrichment on an image whose enrichment is still on `enrichment.version`; a job of
   * another version, or for a deleted image, changes nothing. Returns the image as it now stands, or
   * undefined when the job was stale.
   */
  recordEnrichment(imageId: string, enrichment: Enrichment): Promise<ImageRecord | undefined>;
  /** Marks only the enrichment `failed` (the image stays served), unless it is done or on another version. */
  failEnrichment(
    imageId: string,
    version: string,
    failure: NonNullable<Enrichment['failure']>,
  ): Promise<void>;

  /**
   * One transaction: the owner's link goes and the image's reference count drops; when it was the
   * last link, the image is marked `deletingSince` `at`. Retries by itself when a racing upload or
   * delete moves the count first; ConflictError (`image_kept_changing`) when that never settles.
   */
  unlinkImage(owner: string, imageId: string, at: Date): Promise<UnlinkOutcome>;
  /** Removes the record of an image marked for deletion with no links; a no-op when it is gone already. */
  deleteImageRecord(imageId: string): Promise<void>;
}
