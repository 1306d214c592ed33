/**
 * Each image's embedding, kept beside its record so that an owner who links an enriched image later
 * gets it filed in the vector index without the image being embedded again.
 */
export interface ImageEmbeddings {
  put(imageId: string, embedding: StoredEmbedding): Promise<void>;
  /** Undefined when the image has none (not enriched, or embeddings off). */
  get(imageId: string): Promise<StoredEmbedding | undefined>;
}

export interface StoredEmbedding {
  modelId: string;
  vector: Float32Array;
}
