import { DERIVATIVES_PREFIX, ORIGINALS_PREFIX, UPLOADS_PREFIX } from '../../contract.js';
import { originalKey } from '../../core/keys.js';
import type { ReconcileSlice } from '../../core/reconcile-slices.js';
import { variantSetVersion } from '../../core/variants.js';
import type { ImageRecord } from '../../ports/catalog.js';
import type { ScanSegment } from '../../ports/maintenance-catalog.js';
import type { StoredObject } from '../../ports/object-inventory.js';
import { catalogEntries, forEachConcurrently } from '../bulk-reads.js';
import {
  type Audit,
  type AuditDependencies,
  type AuditOptions,
  abandonedUploads,
  auditClock,
  type Clock,
  danglingLinks,
  derivativeGroups,
  type Finding,
  judgeOriginal,
  judgeRecord,
  originalsUnder,
  orphanDerivatives,
  orphanOriginal,
  readCounter,
  variantFindings,
} from './findings.js';

/**
 * Reconcile one slice at a time (`lambdas/core/reconcile-slices.ts`), by the whole audit's own
 * judgements (findings.ts): every finding of the whole audit comes from exactly one slice.
 *
 * - a shard's objects are joined with their images' records: orphans, and renderable images'
 *   variants. An image is renderable only with its original, so its shard always sees it.
 * - a segment's records are judged on their own and against their originals (one HEAD each):
 *   dangling links, counts, stuck deletions, missing originals. Links are counted by their holders,
 *   which live in the image's partition and so in the same segment.
 */

/** Images whose records are read at once in a shard: what a shard holds in memory, however full. */
const SHARD_CHUNK = 25;
/** Records looked up (a link's image, an original) at once in a segment. */
const LOOKUPS_AT_ONCE = 16;

export async function auditSlice(
  deps: AuditDependencies,
  slice: ReconcileSlice,
  options: AuditOptions,
): Promise<Audit> {
  const clock = auditClock(deps.now(), options);
  return 'shard' in slice ? auditShard(deps, slice.shard, clock) : auditSegment(deps, slice, clock);
}

/** One shard's objects against their images' records; its upload objects against theirs. */
async function auditShard(deps: AuditDependencies, shard: string, clock: Clock): Promise<Audit> {
  const counter = readCounter(deps);
  const version = variantSetVersion(deps.settings.variants);
  const findings: Finding[] = [];
  const judge = async (stored: StoredImage) => {
    const image = await deps.catalog.getImage(stored.imageId);
    if (!image) {
      if (stored.original) findings.push(...orphanOriginal(stored.imageId, stored.original, clock));
      if (stored.derivatives.length > 0)
        findings.push(...orphanDerivatives(stored.imageId, stored.derivatives, clock));
      return;
    }
    // Counts and the rest of what the record says are its segment's to report.
    const holders = await deps.catalog.listHolders(stored.imageId);
    if (!judgeRecord(image, holders.length, clock).wantsOriginal) return;
    if (judgeOriginal(image, stored.original !== undefined, version) === 'renderable')
      findings.push(...variantFindings(deps.settings, image, stored.derivatives, clock));
  };
  const joined = joinByImage(
    originalsUnder(deps.inventory, counter.object, `${ORIGINALS_PREFIX}${shard}/`),
    derivativeGroups(deps.inventory, counter.object, `${DERIVATIVES_PREFIX}${shard}/`),
  );
  await forEachConcurrently(joined, SHARD_CHUNK, judge);
  findings.push(...(await abandonedUploads(deps, clock, counter.object, `${UPLOADS_PREFIX}${shard}`)));
  return { findings, outdatedImages: 0 };
}

/** What is stored of one image: its original, its derivatives, or both. */
interface StoredImage {
  imageId: string;
  original: StoredObject | undefined;
  derivatives: StoredObject[];
}

/** Originals and derivative groups, both in image id order, merged into one entry per image. */
async function* joinByImage(
  originals: AsyncIterator<{ imageId: string; object: StoredObject }>,
  derivatives: AsyncIterator<{ imageId: string; objects: StoredObject[] }>,
): AsyncGenerator<StoredImage> {
  let original = await originals.next();
  let group = await derivatives.next();
  while (!original.done || !group.done) {
    const originalId = original.done ? undefined : original.value.imageId;
    const groupId = group.done ? undefined : group.value.imageId;
    const imageId = [originalId, groupId].filter((id) => id !== undefined).sort()[0] as string;
    const stored: StoredImage = { imageId, original: undefined, derivatives: [] };
    if (!original.done && originalId === imageId) {
      stored.original = original.value.object;
      original = await originals.next();
    }
    if (!group.done && groupId === imageId) {
      stored.derivatives = group.value.objects;
      group = await derivatives.next();
    }
    yield stored;
  }
}

/** A summary of one image of the segment: its record (once seen) and its holders. */
interface SegmentImage {
  record: ImageRecord | undefined;
  holders: number;
}

/** One segment's records: links against their images, images against their holders and originals. */
async function auditSegment(deps: AuditDependencies, segment: ScanSegment, clock: Clock): Promise<Audit> {
  const counter = readCounter(deps);
  const findings: Finding[] = [];
  const images = new Map<string, SegmentImage>();
  const imageOf = (imageId: string) => {
    const image = images.get(imageId) ?? { record: undefined, holders: 0 };
    images.set(imageId, image);
    return image;
  };
  // A link's image is in another partition, most likely another segment: looked up a batch at a time.
  let links = new Map<string, string[]>();
  const resolveLinks = async () => {
    const batch = links;
    links = new Map();
    await forEachConcurrently(batch, LOOKUPS_AT_ONCE, async ([imageId, owners]) => {
      findings.push(...danglingLinks(imageId, owners, await deps.catalog.getImage(imageId)));
    });
  };
  for await (const entry of catalogEntries(deps.catalog, segment)) {
    counter.catalogItem();
    if (entry.kind === 'image') imageOf(entry.image.imageId).record = entry.image;
    else if (entry.kind === 'holder') imageOf(entry.link.imageId).holders += 1;
    else if (entry.kind === 'link') {
      const owners = links.get(entry.link.imageId) ?? [];
      links.set(entry.link.imageId, [...owners, entry.link.owner]);
      if (links.size >= LOOKUPS_AT_ONCE * 4) await resolveLinks();
    }
  }
  await resolveLinks();

  const version = variantSetVersion(deps.settings.variants);
  let outdatedImages = 0;
  const records = [...images.values()].flatMap(({ record, holders }) =>
    record ? [{ record, holders }] : [],
  );
  await forEachConcurrently(records, LOOKUPS_AT_ONCE, async ({ record, holders }) => {
    const judged = judgeRecord(record, holders, clock);
    findings.push(...judged.findings);
    if (!judged.wantsOriginal) return;
    const hasOriginal = await deps.inventory.exists('images', originalKey(record.imageId));
    const verdict = judgeOriginal(record, hasOriginal, version);
    if (verdict === 'missing_original') findings.push({ kind: 'missing_original', imageId: record.imageId });
    else if (verdict === 'outdated') outdatedImages += 1;
  });
  return { findings, outdatedImages };
}
