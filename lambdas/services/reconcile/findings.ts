import {
  DERIVATIVES_PREFIX,
  INGEST_RETRY_WINDOW_SECONDS,
  ORIGINALS_PREFIX,
  UPLOADS_PREFIX,
} from '../../contract.js';
import { uploadIdFromKey } from '../../core/keys.js';
import type { Settings } from '../../core/settings.js';
import { imageIdOfDerivativeKey, imageIdOfOriginalKey } from '../../core/stored-keys.js';
import { storedVariants } from '../../core/variant-set-plan.js';
import { variantSetVersion } from '../../core/variants.js';
import type { ImageRecord, UploadState } from '../../ports/catalog.js';
import type { MaintenanceCatalog } from '../../ports/maintenance-catalog.js';
import type { ObjectInventory, StoredObject } from '../../ports/object-inventory.js';
import { type BulkReadDependencies, catalogEntries, type ReadCounts, storedObjects } from '../bulk-reads.js';
import { pendingVariants, rendersQueuedSince, stalledVariants } from '../variant-renders.js';

/** One inconsistency between the catalog and the buckets, each kind with its own repair. */
export type Finding =
  /** An original whose image has no record: nothing can ever serve or render it. */
  | { kind: 'orphan_original'; imageId: string; key: string }
  /** Derivatives of an image that has no record. */
  | { kind: 'orphan_derivatives'; imageId: string; keys: string[] }
  /** A link to an image that has no record, or one being deleted (it blocks a new upload of the same bytes). */
  | { kind: 'dangling_link'; owner: string; imageId: string }
  /** An image no link points at, not marked for deletion: the last unlink's work, undone. */
  | { kind: 'unlinked_image'; imageId: string; refCount: number }
  /** A reference count that is not the number of links. */
  | { kind: 'ref_count_mismatch'; imageId: string; refCount: number; links: number }
  /** An image marked for deletion long ago whose purge never finished. */
  | { kind: 'stuck_deletion'; imageId: string; deletingSince: Date }
  /** An image past ingest whose original is not in the bucket. */
  | { kind: 'missing_original'; imageId: string }
  /**
   * Variants of the current set to render again: `absent` are `ready` with objects gone, `stalled`
   * are `pending` with jobs queued longer ago than the threshold.
   */
  | { kind: 'missing_variants'; imageId: string; absent: string[]; stalled: string[] }
  /** `processing` with every variant done and stored, long since: the write that marks it `ready` was lost. */
  | { kind: 'unmarked_ready'; imageId: string }
  /** Bytes under `uploads/` long past any ingest: the upload was never ingested, or its object never removed. */
  | { kind: 'abandoned_upload'; key: string; uploadId: string | undefined; state: UploadState | 'unknown' };

export type FindingKind = Finding['kind'];

/** Every kind, in the order repairs run: links and counts first, as deletions depend on them. */
export const FINDING_KINDS: readonly FindingKind[] = [
  'dangling_link',
  'ref_count_mismatch',
  'unlinked_image',
  'stuck_deletion',
  'missing_original',
  'missing_variants',
  'unmarked_ready',
  'orphan_original',
  'orphan_derivatives',
  'abandoned_upload',
];

export type AuditDependencies = BulkReadDependencies;

export interface Audit {
  findings: Finding[];
  /** Images on an older variant set: not inconsistent, only due for `aperture reprocess`. */
  outdatedImages: number;
}

/** Who links to which image (owners by image id), as one scan saw it. */
type LinkOwners = Map<string, string[]>;

/**
 * How the audit judges time: `settled` work is old enough not to be under way any more; an object
 * `pastGrace` is old enough for no write under way to explain it.
 */
export interface Clock {
  now: Date;
  settled: (date: Date) => boolean;
  pastGrace: (date: Date) => boolean;
  stuckAfterMs: number;
}

export interface AuditOptions {
  /** Work younger than this may be under way and is not judged. */
  stuckAfterMs: number;
  /**
   * Objects younger than this are never taken for orphans, however short `stuckAfterMs` is: deleting
   * an original is the one repair nothing undoes, so it waits until no write under way explains it.
   */
  graceMs: number;
}

/**
 * How young an object may be and still not be taken for an orphan, unless the operator says
 * otherwise: as `--stuck-after`'s default, far longer than any ingest or purge takes to write what it writes.
 */
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;

export function auditClock(now: Date, options: AuditOptions): Clock {
  const olderThan = (ms: number) => (date: Date) => date.getTime() <= now.getTime() - ms;
  return {
    now,
    settled: olderThan(options.stuckAfterMs),
    pastGrace: olderThan(options.graceMs),
    stuckAfterMs: options.stuckAfterMs,
  };
}

/** Counts what a pass reads, for the progress line. */
export function readCounter(deps: AuditDependencies) {
  const read: ReadCounts = { catalogItems: 0, objects: 0 };
  return {
    read,
    catalogItem: () => {
      read.catalogItems += 1;
      deps.onProgress?.(read);
    },
    object: (object: StoredObject): StoredObject => {
      read.objects += 1;
      deps.onProgress?.(read);
      return object;
    },
  };
}

type Counted = (object: StoredObject) => StoredObject;

/**
 * Compares the whole catalog (one consistent scan) with the whole image and upload buckets (one
 * listing each) and names every inconsistency. Anything younger than `stuckAfterMs` is left out, as
 * it may be work under way (an ingest between its record and its original, a purge between its
 * objects and its record), and so are objects younger than `graceMs`, uploads still within the
 * presigned URL's lifetime and ingest's retry window. A scan is not a snapshot, so a finding is
 * re-checked before it is repaired.
 */
export async function findInconsistencies(deps: AuditDependencies, options: AuditOptions): Promise<Audit> {
  const clock = auditClock(deps.now(), options);
  const counter = readCounter(deps);

  const [{ images, links }, originals] = await Promise.all([
    readCatalog(deps, counter.catalogItem),
    readOriginals(deps.inventory, counter.object),
  ]);
  const records = recordFindings(images, links, originals, deps.settings, clock);
  const findings = [...records.findings];
  for (const [imageId, object] of originals) {
    if (!images.has(imageId)) findings.push(...orphanOriginal(imageId, object, clock));
  }
  findings.push(...(await derivativeFindings(deps, images, records.renderable, clock, counter.object)));
  findings.push(...(await abandonedUploads(deps, clock, counter.object, UPLOADS_PREFIX)));
  return { findings, outdatedImages: records.outdatedImages };
}

/** Every image record, and the owners of every link, from one scan. */
async function readCatalog(
  deps: AuditDependencies,
  counted: () => void,
): Promise<{ images: Map<string, ImageRecord>; links: LinkOwners }> {
  const images = new Map<string, ImageRecord>();
  const links: LinkOwners = new Map();
  for await (const entry of catalogEntries(deps.catalog)) {
    counted();
    if (entry.kind === 'image') images.set(entry.image.imageId, entry.image);
    else if (entry.kind === 'link') {
      const owners = links.get(entry.link.imageId);
      if (owners) owners.push(entry.link.owner);
      else links.set(entry.link.imageId, [entry.link.owner]);
    }
  }
  return { images, links };
}

/** Every original, by the image it holds. */
async function readOriginals(
  inventory: ObjectInventory,
  counted: Counted,
): Promise<Map<string, StoredObject>> {
  const originals = new Map<string, StoredObject>();
  for await (const { imageId, object } of originalsUnder(inventory, counted, ORIGINALS_PREFIX))
    originals.set(imageId, object);
  return originals;
}

/** The originals under a prefix of `originals/`, in key order, so in image id order. */
export async function* originalsUnder(
  inventory: ObjectInventory,
  counted: Counted,
  prefix: string,
): AsyncGenerator<{ imageId: string; object: StoredObject }> {
  for await (const object of storedObjects(inventory, 'images', prefix)) {
    const imageId = imageIdOfOriginalKey(counted(object).key);
    if (imageId) yield { imageId, object };
  }
}

/** An original whose image has no record, once no ingest under way can explain it. */
export function orphanOriginal(imageId: string, object: StoredObject, clock: Clock): Finding[] {
  return clock.pastGrace(object.lastModified) ? [{ kind: 'orphan_original', imageId, key: object.key }] : [];
}

/** Derivatives whose image has no record, once no render under way can explain the newest. */
export function orphanDerivatives(
  imageId: string,
  objects: readonly StoredObject[],
  clock: Clock,
): Finding[] {
  const newest = new Date(Math.max(...objects.map((object) => object.lastModified.getTime())));
  return clock.pastGrace(newest)
    ? [{ kind: 'orphan_derivatives', imageId, keys: objects.map((object) => object.key) }]
    : [];
}

/** Links to an image with no record, or one being deleted. */
export function danglingLinks(
  imageId: string,
  owners: readonly string[],
  image: ImageRecord | undefined,
): Finding[] {
  return !image || image.deletingSince
    ? owners.map((owner) => ({ kind: 'dangling_link', owner, imageId }) as const)
    : [];
}

/**
 * What an image's record says against its link count, before its objects are looked at; and
 * whether its original is to be looked for (an image past ingest, linked, not failed).
 */
export function judgeRecord(
  image: ImageRecord,
  linkCount: number,
  clock: Clock,
): { findings: Finding[]; wantsOriginal: boolean } {
  const { imageId, refCount } = image;
  if (image.deletingSince) {
    const stuck = clock.settled(image.deletingSince);
    return {
      findings: stuck ? [{ kind: 'stuck_deletion', imageId, deletingSince: image.deletingSince }] : [],
      wantsOriginal: false,
    };
  }
  if (linkCount === 0)
    return { findings: [{ kind: 'unlinked_image', imageId, refCount }], wantsOriginal: false };
  const findings: Finding[] =
    refCount === linkCount ? [] : [{ kind: 'ref_count_mismatch', imageId, refCount, links: linkCount }];
  // Until ingest has queued the jobs, it may still be storing the original: its business, for a while.
  const ingested = image.jobsQueuedAt !== undefined || clock.settled(image.createdAt);
  return { findings, wantsOriginal: image.status !== 'failed' && ingested };
}

/**
 * An image whose original was looked for: missing, on an older variant set (due for reprocess), or
 * renderable, its variants then worth checking against its derivatives.
 */
export function judgeOriginal(
  image: ImageRecord,
  hasOriginal: boolean,
  version: string,
): 'missing_original' | 'outdated' | 'renderable' {
  if (!hasOriginal) return 'missing_original';
  return image.variantSetVersion === version ? 'renderable' : 'outdated';
}

/**
 * What the records say against each other and against the originals. Also hands back the images
 * whose variants are worth checking against their derivatives: linked, past ingest, not failed,
 * with their original, on the current variant set.
 */
function recordFindings(
  images: ReadonlyMap<string, ImageRecord>,
  links: LinkOwners,
  originals: ReadonlyMap<string, StoredObject>,
  settings: Settings,
  clock: Clock,
): { findings: Finding[]; renderable: Map<string, ImageRecord>; outdatedImages: number } {
  const findings: Finding[] = [];
  const renderable = new Map<string, ImageRecord>();
  let outdatedImages = 0;
  const version = variantSetVersion(settings.variants);
  for (const [imageId, owners] of links)
    findings.push(...danglingLinks(imageId, owners, images.get(imageId)));
  for (const image of images.values()) {
    const { imageId } = image;
    const judged = judgeRecord(image, links.get(imageId)?.length ?? 0, clock);
    findings.push(...judged.findings);
    if (!judged.wantsOriginal) continue;
    const verdict = judgeOriginal(image, originals.has(imageId), version);
    if (verdict === 'missing_original') findings.push({ kind: 'missing_original', imageId });
    else if (verdict === 'outdated') outdatedImages += 1;
    else renderable.set(imageId, image);
  }
  return { findings, renderable, outdatedImages };
}

/** One pass over `derived/`: derivatives of no image, and renderable images' variants to render again. */
async function derivativeFindings(
  deps: AuditDependencies,
  images: ReadonlyMap<string, ImageRecord>,
  renderable: ReadonlyMap<string, ImageRecord>,
  clock: Clock,
  counted: Counted,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const unseen = new Map(renderable);
  for await (const { imageId, objects } of derivativeGroups(deps.inventory, counted, DERIVATIVES_PREFIX)) {
    if (!images.has(imageId)) {
      findings.push(...orphanDerivatives(imageId, objects, clock));
      continue;
    }
    const image = unseen.get(imageId);
    unseen.delete(imageId);
    if (image) findings.push(...variantFindings(deps.settings, image, objects, clock));
  }
  // Renderable images without a single derivative.
  for (const image of unseen.values()) findings.push(...variantFindings(deps.settings, image, [], clock));
  return findings;
}

/**
 * A renderable image's variants against its stored derivatives: ones to render again (gone, or
 * stalled), or, with none, an image done whose `ready` was never written.
 */
export function variantFindings(
  settings: Settings,
  image: ImageRecord,
  derivatives: readonly StoredObject[],
  clock: Clock,
): Finding[] {
  const stored = storedVariants(
    image.imageId,
    settings.variants,
    derivatives.map((object) => object.key),
  );
  const absent = settings.variants
    .map((v) => v.name)
    .filter((name) => image.variants[name] === 'ready' && !stored.has(name));
  const stalled = stalledVariants(image, settings, clock.now, clock.stuckAfterMs);
  if (absent.length > 0 || stalled.length > 0)
    return [{ kind: 'missing_variants', imageId: image.imageId, absent, stalled }];
  const unmarked =
    image.status === 'processing' &&
    pendingVariants(image, settings).length === 0 &&
    clock.settled(rendersQueuedSince(image));
  return unmarked ? [{ kind: 'unmarked_ready', imageId: image.imageId }] : [];
}

/**
 * Objects under `uploads/` older than any ingest of them could be: the URL's lifetime plus ingest's
 * retries. A multipart object is dated from the upload's start and may be completed until the upload
 * is aborted, so its lifetime is the upload's.
 */
export async function abandonedUploads(
  deps: AuditDependencies,
  clock: Clock,
  counted: Counted,
  prefix: string,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const graceMs = (lifetimeSeconds: number) => (lifetimeSeconds + INGEST_RETRY_WINDOW_SECONDS) * 1000;
  const olderThan = (object: StoredObject, lifetimeSeconds: number) =>
    object.lastModified.getTime() <= clock.now.getTime() - graceMs(lifetimeSeconds);
  for await (const object of storedObjects(deps.inventory, 'uploads', prefix)) {
    if (!olderThan(counted(object), deps.settings.presignTtlSeconds)) continue;
    const uploadId = uploadIdFromKey(object.key);
    const upload = uploadId ? await deps.catalog.getUpload(uploadId) : undefined;
    if (upload?.multipart && !olderThan(object, deps.settings.multipartUploadDays * 86_400)) continue;
    findings.push({ kind: 'abandoned_upload', key: object.key, uploadId, state: upload?.state ?? 'unknown' });
  }
  return findings;
}

/** How many links each of `imageIds` has, by a scan of its own (a second look, for re-checking findings). */
export async function countLinks(
  catalog: MaintenanceCatalog,
  imageIds: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const entry of catalogEntries(catalog)) {
    if (entry.kind === 'link' && imageIds.has(entry.link.imageId))
      counts.set(entry.link.imageId, (counts.get(entry.link.imageId) ?? 0) + 1);
  }
  return counts;
}

/**
 * A prefix of `derived/` one image at a time: keys come in order, and an image's all share its
 * prefix, so they arrive together. Keys that name no image's prefix are passed over.
 */
export async function* derivativeGroups(
  inventory: ObjectInventory,
  counted: Counted,
  prefix: string,
): AsyncGenerator<{ imageId: string; objects: StoredObject[] }> {
  let group: { imageId: string; objects: StoredObject[] } | undefined;
  for await (const object of storedObjects(inventory, 'images', prefix)) {
    const imageId = imageIdOfDerivativeKey(counted(object).key);
    if (!imageId) continue;
    if (group?.imageId !== imageId) {
      if (group) yield group;
      group = { imageId, objects: [] };
    }
    group.objects.push(object);
  }
  if (group) yield group;
}
