/**
 * The catalog as the operator tools use it (`aperture` reconcile, reprocess, stats, and the scheduled
 * reprocess): whole-catalog reads, and repairs that apply only to what was seen. The request path
 * never needs these, so its functions are handed the narrower `RequestPathCatalog`.
 */
import type {
  ImageLink,
  ImageRecord,
  ImageStatus,
  Page,
  RequestPathCatalog,
  UploadRecord,
  VariantStatus,
} from './catalog.js';

/** One item of a whole-catalog scan. */
export type CatalogEntry =
  | { kind: 'image'; image: ImageRecord }
  | { kind: 'link'; link: ImageLink }
  /** The same claim as a link, kept in its image's partition (written and removed with the link). */
  | { kind: 'holder'; link: ImageLink }
  | { kind: 'upload'; upload: UploadRecord };

/** One segment of a parallel scan: `segment` of `totalSegments`, each item in exactly one. */
export interface ScanSegment {
  segment: number;
  totalSegments: number;
}

/**
 * What an image is to be rendered as: its variant set, each variant's status, the image's status and
 * when its render jobs were last queued. Operations replace it as a whole, never field by field.
 */
export interface VariantPlan {
  variantSetVersion: string;
  status: ImageStatus;
  variants: Record<string, VariantStatus>;
  /** Unset only while the ingest that created the image has not queued its jobs yet. */
  jobsQueuedAt: Date | undefined;
}

/** An upkeep version the deployment has been on, and since when. */
export interface UpkeepVersion {
  version: string;
  /** When the upkeep first ran on it; undefined until then (the deploy records it undated). */
  recordedAt: Date | undefined;
}

/**
 * The repairs read the records as the request path does and decide uploads and fail images as it
 * would, hence the extension. Each repair is conditional on what was seen: false means the catalog
 * moved meanwhile, and the caller reads again and decides again.
 */
export interface MaintenanceCatalog extends RequestPathCatalog {
  /**
   * One page of every image, link, holder and upload, in no useful order (a strongly consistent
   * scan); of one segment's only, when given one.
   */
  scanCatalog(cursor?: string, segment?: ScanSegment): Promise<Page<CatalogEntry>>;
  /**
   * The upkeep versions recorded besides `current`: those images may still be settled on. Read
   * strongly consistent; with none, no item is read.
   */
  otherUpkeepVersions(current: string): Promise<UpkeepVersion[]>;
  getUpkeepVersion(version: string): Promise<UpkeepVersion | undefined>;
  /** Records `version` as deployed since `at`, unless it is dated already (kept as it was). */
  recordUpkeepVersion(version: string, at: Date): Promise<void>;
  /** Forgets a version no image is settled on any more. */
  retireUpkeepVersion(version: string): Promise<void>;
  /**
   * One page of the ids of the images settled on `version`, from the upkeep index (eventually
   * consistent, keys only: read each image before acting).
   */
  imagesSettledOn(version: string, cursor?: string): Promise<Page<string>>;
  /** One page of the ids of the images with work outstanding, from the upkeep index (the same). */
  unsettledImages(cursor?: string): Promise<Page<string>>;
  /**
   * Replaces the image's variant plan while it is still exactly `expected` and not being deleted: how
   * an image moves to a new variant set, or has variants rendered again. False when the image changed
   * meanwhile (a render landed, another run got there first).
   */
  replaceVariantPlan(
    imageId: string,
    expected: VariantPlan,
    next: VariantPlan & { jobsQueuedAt: Date },
  ): Promise<boolean>;
  /** Sets the reference count to `count` while it is still `expected`; false when it moved. */
  correctRefCount(imageId: string, expected: number, count: number): Promise<boolean>;
  /**
   * Marks an image that no link points at for deletion (`deletingSince`, reference count 0) while
   * its count is still `expected`, as the last unlink would have; false when it moved.
   */
  markUnlinkedImageForDeletion(imageId: string, expected: number, at: Date): Promise<boolean>;
  /**
   * Removes a link whose image is gone or being deleted (no reference count changes), checked in the
   * same transaction; false, and nothing removed, when the image is there after all.
   */
  deleteDanglingLink(owner: string, imageId: string): Promise<boolean>;
}
