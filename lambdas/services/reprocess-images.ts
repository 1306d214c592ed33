import { needsEnrichment } from '../core/enrichment.js';
import { needsFingerprint } from '../core/near-duplicates.js';
import { laneOf, mapLanes, planVariantJobs, type RenderJob, type WorkLane } from '../core/render-jobs.js';
import { upkeepVersion } from '../core/upkeep.js';
import { planVariantSet, staleDerivativeKeys } from '../core/variant-set-plan.js';
import { variantSetVersion } from '../core/variants.js';
import type { ImageRecord } from '../ports/catalog.js';
import type { MaintenanceCatalog } from '../ports/maintenance-catalog.js';
import type { ObjectInventory, StoredObject } from '../ports/object-inventory.js';
import { allItems, catalogEntries, derivativesOf, forEachConcurrently } from './bulk-reads.js';
import {
  awaitsFiling,
  fileIfSettled,
  pendingVariants,
  queueVariantRenders,
  stalledVariants,
  type VariantRenderDependencies,
} from './variant-renders.js';

export interface ReprocessDependencies extends VariantRenderDependencies {
  inventory: ObjectInventory;
  /** Told after each image, with the report so far (a progress line). */
  onProgress?: (report: ReprocessReport) => void;
}

export interface ReprocessOptions {
  /**
   * `all` reads every image (a scan), and files the settled ones for the upkeep (how a catalog from
   * before the upkeep index joins it). `outstanding` reads only what the upkeep index holds as not
   * settled on the current upkeep version: images with work outstanding, and those settled on older
   * versions (docs/adr/0012-upkeep-by-variant-set-index.md). With everything settled it reads no item.
   */
  scope: 'all' | 'outstanding';
  /** Plan and count, change nothing. */
  dryRun: boolean;
  /** Also remove the derivatives no variant of the set names, from images complete on it. */
  prune: boolean;
  /** Renders queued longer ago than this and still pending are queued again. */
  stuckAfterMs: number;
  /** Images worked on at once. */
  concurrency: number;
}

export interface ReprocessReport {
  variantSetVersion: string;
  /** What images are settled on under the settings (`upkeepVersion`, core/upkeep.ts). */
  upkeepVersion: string;
  dryRun: boolean;
  /** Images read. */
  images: number;
  /** On the current variant set already (complete, or with its renders under way). */
  current: number;
  /** Moved to the current variant set (on a dry run: would be). */
  moved: number;
  /** On the current set with stalled renders, queued again. */
  requeued: number;
  /**
   * `ready` on the current set but without what the thumbnails lane derives as it now would: no
   * fingerprint of the current version (near-duplicates switched on later), or enriched by another
   * enrichment version or never, or pending past `stuckAfterMs`. Their thumbnails job is queued
   * again, which fingerprints the image, makes the analysis image and queues the enrichment.
   */
  derived: number;
  /**
   * Of `current`, those found settled and filed so (on a dry run: would be): the upkeep reads them
   * no more until the upkeep version changes.
   */
  settled: number;
  /** Left alone: failed, being deleted, not yet through ingest, or changed by others throughout. */
  left: { failed: number; deleting: number; ingesting: number; changed: number };
  jobs: Record<WorkLane, number>;
  /** For each variant, how many images it was queued for. */
  variants: Record<string, number>;
  /** Derivatives of other revisions removed with `prune`. */
  pruned: { objects: number; bytes: number };
}

/** Reads of an image that kept changing under the run before it is left for the next run. */
const MAX_ATTEMPTS = 3;

/**
 * Brings every image to the current variant set, rendering only what is missing: an image on an
 * older set moves to the current one with the variants already stored (same spec, same key) kept
 * `ready`, those the worker would skip `skipped`, and the rest queued. Safe to replay and to run
 * twice at once: each move is a compare-and-set on the record as read (a lost race re-reads and
 * plans again, so nothing is queued twice), an image already moved is left alone, and an image
 * whose renders stalled (a run interrupted between moving it and queuing its jobs) has them queued
 * again once `stuckAfterMs` has passed. `ready` images stay `ready`; nothing is removed unless
 * `prune`, and then only from images whose every variant is stored.
 */
export async function reprocessImages(
  deps: ReprocessDependencies,
  options: ReprocessOptions,
): Promise<ReprocessReport> {
  const report: ReprocessReport = {
    variantSetVersion: variantSetVersion(deps.settings.variants),
    upkeepVersion: upkeepVersion(deps.settings),
    dryRun: options.dryRun,
    images: 0,
    current: 0,
    moved: 0,
    requeued: 0,
    derived: 0,
    settled: 0,
    left: { failed: 0, deleting: 0, ingesting: 0, changed: 0 },
    jobs: mapLanes(() => 0),
    variants: {},
    pruned: { objects: 0, bytes: 0 },
  };
  const images =
    options.scope === 'all'
      ? scannedImages(deps.catalog)
      : outstandingImages(deps, options, report.upkeepVersion);
  await forEachConcurrently(images, options.concurrency, async (scanned) => {
    report.images += 1;
    let image: ImageRecord | undefined = scanned;
    for (let attempt = 1; image; attempt++) {
      if ((await reprocessImage(deps, options, report, image)) === 'done') break;
      if (attempt === MAX_ATTEMPTS) {
        report.left.changed += 1;
        break;
      }
      image = await deps.catalog.getImage(image.imageId);
    }
    deps.onProgress?.(report);
  });
  return report;
}

async function* scannedImages(catalog: MaintenanceCatalog): AsyncGenerator<ImageRecord> {
  for await (const entry of catalogEntries(catalog)) {
    if (entry.kind === 'image') yield entry.image;
  }
}

/**
 * The images the upkeep index holds as not settled on `current`: those with work outstanding, then
 * those settled on older upkeep versions. Each is read afresh (the index is eventually consistent and
 * holds keys only). Every run records the version it runs on, so a deploy that changes it leaves the
 * old one recorded until no image is settled on it; it is retired once the current one has been
 * deployed for `stuckAfterMs`, after which the old deployment's renders still in flight are done.
 */
async function* outstandingImages(
  deps: ReprocessDependencies,
  options: ReprocessOptions,
  current: string,
): AsyncGenerator<ImageRecord> {
  const { catalog } = deps;
  if (!options.dryRun) await catalog.recordUpkeepVersion(current, deps.now());
  const read = async function* (ids: AsyncIterable<string>) {
    for await (const imageId of ids) {
      const image = await catalog.getImage(imageId);
      if (image) yield image;
    }
  };
  yield* read(allItems((cursor) => catalog.unsettledImages(cursor)));
  for (const { version } of await catalog.otherUpkeepVersions(current)) {
    let found = 0;
    for await (const image of read(allItems((cursor) => catalog.imagesSettledOn(version, cursor)))) {
      found += 1;
      yield image;
    }
    if (found > 0 || options.dryRun) continue;
    const since = (await catalog.getUpkeepVersion(current))?.recordedAt ?? deps.now();
    if (deps.now().getTime() - since.getTime() >= options.stuckAfterMs)
      await catalog.retireUpkeepVersion(version);
  }
}

/** One image, as read: 'changed' when it moved under us before anything was done. */
async function reprocessImage(
  deps: ReprocessDependencies,
  options: ReprocessOptions,
  report: ReprocessReport,
  image: ImageRecord,
): Promise<'done' | 'changed'> {
  const { settings } = deps;
  if (image.deletingSince) report.left.deleting += 1;
  else if (image.status === 'failed') report.left.failed += 1;
  // Until ingest has stored the original and queued the jobs, the image is ingest's to finish.
  else if (!image.jobsQueuedAt) report.left.ingesting += 1;
  else if (image.variantSetVersion !== report.variantSetVersion) {
    const objects = await derivativesOf(deps.inventory, image.imageId);
    const plan = planVariantSet(
      image,
      settings.variants,
      objects.map((object) => object.key),
    );
    const jobs = options.dryRun
      ? planVariantJobs(image.imageId, settings, plan.render)
      : await queueVariantRenders(deps, image, plan.variants, plan.render);
    if (!jobs) return 'changed';
    report.moved += 1;
    tallyJobs(report, jobs);
    if (options.prune && plan.render.length === 0) await prune(deps, options, report, objects);
  } else {
    const stalled = stalledVariants(image, settings, deps.now(), options.stuckAfterMs);
    if (stalled.length > 0) {
      const variants = {
        ...image.variants,
        ...Object.fromEntries(stalled.map((name) => [name, 'pending' as const])),
      };
      const jobs = options.dryRun
        ? planVariantJobs(image.imageId, settings, stalled)
        : await queueVariantRenders(deps, image, variants, stalled);
      if (!jobs) return 'changed';
      report.requeued += 1;
      tallyJobs(report, jobs);
    } else if (
      needsFingerprint(image, settings) ||
      needsEnrichment(image, settings, { now: deps.now(), stuckAfterMs: options.stuckAfterMs })
    ) {
      const thumbnails = settings.variants.filter((v) => laneOf(v) === 'thumbnails').map((v) => v.name);
      const jobs = planVariantJobs(image.imageId, settings, thumbnails);
      if (!options.dryRun) await deps.queue.enqueue(jobs);
      report.derived += 1;
      tallyJobs(report, jobs);
    } else {
      report.current += 1;
      const filed = options.dryRun
        ? awaitsFiling(image, settings)
        : await fileIfSettled(deps.catalog, settings, image);
      if (filed) report.settled += 1;
      if (options.prune && pendingVariants(image, settings).length === 0) {
        await prune(deps, options, report, await derivativesOf(deps.inventory, image.imageId));
      }
    }
  }
  return 'done';
}

/** Removes (on a dry run: counts) the derivatives that no variant of the current set names. */
async function prune(
  deps: ReprocessDependencies,
  options: ReprocessOptions,
  report: ReprocessReport,
  objects: readonly StoredObject[],
): Promise<void> {
  const stale = new Set(
    staleDerivativeKeys(
      objects.map((object) => object.key),
      deps.settings.variants,
    ),
  );
  if (stale.size === 0) return;
  if (!options.dryRun) await deps.inventory.remove('images', [...stale]);
  report.pruned.objects += stale.size;
  report.pruned.bytes += objects
    .filter((object) => stale.has(object.key))
    .reduce((sum, o) => sum + o.bytes, 0);
}

function tallyJobs(report: ReprocessReport, jobs: readonly RenderJob[]): void {
  for (const job of jobs) {
    report.jobs[job.lane] += 1;
    for (const variant of job.variants) report.variants[variant] = (report.variants[variant] ?? 0) + 1;
  }
}
