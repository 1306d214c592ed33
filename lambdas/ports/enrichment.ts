/**
 * What the enrichment lane asks of the services that look at an image. Each port has an AWS adapter
 * (`lambdas/adapters/aws/`: Rekognition, Bedrock, S3 Vectors) and a local one that works offline
 * (`local/enrichment/`). Every port takes the analysis image: one JPEG, sRGB, at most
 * `ANALYSIS_MAX_EDGE` px on its long edge, never the original.
 */
import type { Caption, ModerationLabel, Tag } from '../core/enrichment.js';

/** Names what is in an image. */
export interface Tagger {
  /** Identifies the model, recorded with the tags (part of the enrichment version). */
  readonly modelId: string;
  /**
   * Labels with their confidence in 0–1, as the model gives them; the caller normalises them
   * (`normaliseTags`: lowercased, deduplicated, thresholded).
   */
  tag(jpeg: Buffer): Promise<Tag[]>;
}

/** Flags content a deployment may not want to serve. */
export interface Moderator {
  readonly modelId: string;
  /** Moderation labels with confidence in 0–1; none for an image with nothing to flag. */
  moderate(jpeg: Buffer): Promise<ModerationLabel[]>;
}

/** Says in a sentence what an image shows. */
export interface Captioner {
  readonly modelId: string;
  /** `tags` are what the tagger found: a captioner without a vision model (the local one) writes from them. */
  caption(jpeg: Buffer, tags: readonly Tag[]): Promise<Caption>;
}

/** Turns an image, and when `semantic` a text too, into a vector of `dimensions` numbers. */
export interface Embedder {
  readonly modelId: string;
  readonly dimensions: number;
  /**
   * True when text and images land in one space, so a text query ranks images by meaning. When
   * false (the local embedder), `embedText` is not offered and search says so.
   */
  readonly semantic: boolean;
  embedImage(jpeg: Buffer): Promise<Float32Array>;
  /** Only when `semantic`; throws otherwise. */
  embedText(text: string): Promise<Float32Array>;
}

/** One vector in the index: `key` unique in it, `metadata` what a query may filter on. */
export interface IndexedVector {
  key: string;
  vector: Float32Array;
  metadata: VectorMetadata;
}

/** Every vector is filed under one owner: a query for one owner can only return that owner's vectors. */
export interface VectorMetadata {
  owner: string;
  imageId: string;
}

export interface VectorMatch {
  key: string;
  metadata: VectorMetadata;
  /** Cosine distance: 0 is identical, 2 is opposite. */
  distance: number;
}

/** Largest `topK` a query may ask for (S3 Vectors' own limit is 100). */
export const MAX_VECTOR_QUERY_TOP_K = 100;

/**
 * Nearest-neighbour search over one model's vectors (`modelId`, `dimensions`): a new model means a
 * new index, never vectors of two models in one.
 */
export interface VectorIndex {
  readonly modelId: string;
  readonly dimensions: number;
  /** Writes or overwrites vectors by key: putting the same key again is harmless. */
  put(vectors: readonly IndexedVector[]): Promise<void>;
  /** The `topK` (1 to `MAX_VECTOR_QUERY_TOP_K`) nearest vectors of `filter.owner`, nearest first. */
  query(vector: Float32Array, options: { topK: number; filter: { owner: string } }): Promise<VectorMatch[]>;
  /** Removes vectors by key; keys already gone are fine. */
  delete(keys: readonly string[]): Promise<void>;
}
