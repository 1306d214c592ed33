/**
 * What the enrichment lane learns about an image, and the rules that make it comparable whatever
 * model produced it: tags normalised the same way, captions split into the same words, colours named
 * from one palette. Pure: the models sit behind `lambdas/ports/enrichment.ts`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isSha256Hex } from './keys.js';
import type { PaletteColour } from './palette.js';
import type { EnrichmentSettings } from './settings.js';

/** The analysis image every model reads: a JPEG, sRGB, at most this many pixels on its long edge. */
export const ANALYSIS_MAX_EDGE = 1024;

/**
 * Bumped when what this module derives changes (normalisation, words, palette): images enriched by
 * an older version are enriched again by the upkeep.
 */
const ENRICHMENT_ALGORITHM = 1;

export interface Tag {
  /** Lowercase, trimmed; unique within an image's tags. */
  name: string;
  /** 0–1. */
  confidence: number;
}

export interface ModerationLabel {
  name: string;
  confidence: number;
}

export interface Caption {
  text: string;
  /** The model that wrote it, or `template` when it was written from the tags (no vision model offline). */
  source: string;
}

/** One of the image's dominant colours, and how much of the image is near it. */
export interface DominantColour {
  /** `#rrggbb`, sRGB. */
  hex: string;
  /** The nearest name in `PALETTE`: what `colour=` searches by. */
  name: PaletteColour;
  /** 0–1 of the analysis image's pixels. */
  share: number;
}

export interface Moderation {
  labels: ModerationLabel[];
  /** A label at or above the deployment's moderation threshold was found. */
  flagged: boolean;
}

export type EnrichmentStatus = 'pending' | 'done' | 'failed';

/** What enrichment writes on an image record. */
export interface Enrichment {
  status: EnrichmentStatus;
  /** `enrichmentVersion(...)` of the settings and models that made (or are making) this. */
  version: string;
  /** When the job of `version` was last queued: a job pending far longer was lost, and is queued again. */
  queuedAt?: Date | undefined;
  enrichedAt?: Date | undefined;
  tags?: Tag[] | undefined;
  caption?: Caption | undefined;
  colours?: DominantColour[] | undefined;
  moderation?: Moderation | undefined;
  /** The embedding's model, when one was stored in the vector index. */
  embedding?: { modelId: string; dimensions: number; semantic: boolean } | undefined;
  /** Set when `status` is `failed`: the image itself is still served. */
  failure?: { reason: EnrichmentFailureReason; message: string } | undefined;
}

export type EnrichmentFailureReason =
  /** A model kept failing for this image until the job's retries ran out. */
  | 'retries_exhausted'
  /** A model would not take this image, or answered with nothing usable: asking again would not help. */
  | 'model_refused'
  /** The analysis image could not be decoded: the same bytes would fail the same way. */
  | 'analysis_unreadable';

/** Tag policy: what is kept of a tagger's output. */
export interface TagPolicy {
  /** Tags below this confidence (0–1) are dropped. */
  minConfidence: number;
  /** At most this many tags are kept, most confident first. */
  maxTags: number;
}

/** A tag name as stored and searched: lowercased, trimmed, inner whitespace collapsed. */
export function normaliseTagName(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Tags as stored: names normalised (`normaliseTagName`); one entry per name (its highest
 * confidence); confidences clamped to 0–1 and rounded to 3 places; below the threshold dropped; most
 * confident first (ties by name, so the order is stable).
 */
export function normaliseTags(tags: readonly Tag[], policy: TagPolicy): Tag[] {
  const best = new Map<string, number>();
  for (const tag of tags) {
    const name = normaliseTagName(tag.name);
    if (name.length === 0 || !Number.isFinite(tag.confidence)) continue;
    const confidence = Math.round(Math.min(1, Math.max(0, tag.confidence)) * 1000) / 1000;
    if (confidence < policy.minConfidence) continue;
    best.set(name, Math.max(best.get(name) ?? 0, confidence));
  }
  return [...best]
    .map(([name, confidence]) => ({ name, confidence }))
    .sort((a, b) => b.confidence - a.confidence || a.name.localeCompare(b.name))
    .slice(0, policy.maxTags);
}

/** Words too common to search by. */
const STOP_WORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to with'.split(' '),
);

/** Longest word indexed: longer ones are not words people search for. */
const MAX_WORD_LENGTH = 40;

/**
 * The searchable words of a text (a caption, or a query): lowercased, split on anything that is not
 * a letter or digit (Unicode-aware), stop words and one-letter words dropped, each word once, in
 * order of first appearance.
 */
export function searchWords(text: string): string[] {
  const words = text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 && word.length <= MAX_WORD_LENGTH && !STOP_WORDS.has(word));
  return [...new Set(words)];
}

/**
 * A short digest of what decides an image's enrichment (the enrichment settings, models included, and
 * this module's rules): images whose record carries another version are enriched again by the
 * upkeep, and a job for another version changes nothing.
 */
export function enrichmentVersion(settings: EnrichmentSettings): string {
  // Holding flagged images back is decided when they are shown, so switching it needs no new enrichment.
  const { holdFlagged: _shownNotMade, ...moderation } = settings.moderation;
  return createHash('sha256')
    .update(JSON.stringify({ algorithm: ENRICHMENT_ALGORITHM, settings: { ...settings, moderation } }))
    .digest('hex')
    .slice(0, 12);
}

/**
 * One message per image on the enrichment queue: which image, and the version it was queued for (a
 * job for another version than the image now expects changes nothing). Checked on arrival.
 */
export const enrichmentJobSchema = z.strictObject({
  imageId: z.string().refine(isSha256Hex, 'a lowercase SHA-256 hex digest'),
  version: z.string().min(1),
});

export type EnrichmentJob = z.infer<typeof enrichmentJobSchema>;

/**
 * Whether the upkeep should have an image enriched (again): enrichment is on, the image is `ready`,
 * and it was enriched by another version or never, or its job has been pending longer than
 * `stuckAfterMs` (lost: a queue purged, a local run stopped). A failed enrichment of this version is
 * left alone: its job waits in the dead-letter queue for an operator.
 */
export function needsEnrichment(
  image: { status: string; deletingSince?: Date | undefined; enrichment?: Enrichment | undefined },
  settings: { enrichment: EnrichmentSettings },
  stuck: { now: Date; stuckAfterMs: number },
): boolean {
  if (!settings.enrichment.enabled || image.status !== 'ready' || image.deletingSince) return false;
  const { enrichment } = image;
  if (enrichment?.version !== enrichmentVersion(settings.enrichment)) return true;
  const queuedAt = enrichment.queuedAt?.getTime() ?? 0;
  return enrichment.status === 'pending' && stuck.now.getTime() - queuedAt > stuck.stuckAfterMs;
}
