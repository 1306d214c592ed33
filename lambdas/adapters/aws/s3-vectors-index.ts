import {
  DeleteVectorsCommand,
  PutVectorsCommand,
  type QueryOutputVector,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import type { VectorIndexLocation } from '../../core/environment.js';
import { DependencyRefusedError } from '../../core/errors.js';
import {
  type IndexedVector,
  MAX_VECTOR_QUERY_TOP_K,
  type VectorIndex,
  type VectorMatch,
} from '../../ports/enrichment.js';
import { toRefusalError } from './dependency-errors.js';

/**
 * S3 Vectors' limit on vectors per `PutVectors` and keys per `DeleteVectors`. Its other write limit,
 * 20 MiB per request, holds too: 500 vectors of 1,024 floats are about 6 MB of JSON.
 */
const MAX_VECTORS_PER_WRITE = 500;

/**
 * The vector index on Amazon S3 Vectors. The index is made with the cosine metric (the construct does
 * so), which is what `VectorMatch.distance` means; an answer in another metric is refused. Every vector
 * carries its owner as filterable metadata, and a query filters on it.
 */
export class S3VectorsIndex implements VectorIndex {
  constructor(
    private readonly s3vectors: S3VectorsClient,
    private readonly location: VectorIndexLocation,
    readonly modelId: string,
    readonly dimensions: number,
  ) {}

  async put(vectors: readonly IndexedVector[]): Promise<void> {
    for (const { vector } of vectors) this.checkLength(vector);
    for (let start = 0; start < vectors.length; start += MAX_VECTORS_PER_WRITE) {
      const batch = vectors.slice(start, start + MAX_VECTORS_PER_WRITE);
      await this.send('put vectors', () =>
        this.s3vectors.send(
          new PutVectorsCommand({
            ...this.location,
            vectors: batch.map(({ key, vector, metadata }) => ({
              key,
              data: { float32: Array.from(vector) },
              metadata: { owner: metadata.owner, imageId: metadata.imageId },
            })),
          }),
        ),
      );
    }
  }

  /**
   * S3 Vectors answers a large `topK` in pages: they are followed until `topK` matches or the last one.
   * A match without an owner and an image id (not written by `put`) or of another owner (impossible
   * under the filter) is skipped rather than failing the query: the caller may get fewer than `topK`,
   * never another owner's image.
   */
  async query(
    vector: Float32Array,
    options: { topK: number; filter: { owner: string } },
  ): Promise<VectorMatch[]> {
    const { topK, filter } = options;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_VECTOR_QUERY_TOP_K)
      throw new RangeError(`topK must be an integer from 1 to ${MAX_VECTOR_QUERY_TOP_K}, not ${topK}`);
    this.checkLength(vector);
    const found: QueryOutputVector[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.send('query vectors', () =>
        this.s3vectors.send(
          new QueryVectorsCommand({
            ...this.location,
            topK,
            queryVector: { float32: Array.from(vector) },
            filter: { owner: { $eq: filter.owner } },
            returnMetadata: true,
            returnDistance: true,
            nextToken,
          }),
        ),
      );
      if (page.distanceMetric !== 'cosine') {
        throw new DependencyRefusedError(
          'answer_unusable',
          `the vector index measures ${page.distanceMetric}`,
          {
            ...this.location,
          },
        );
      }
      found.push(...(page.vectors ?? []));
      nextToken = page.nextToken;
    } while (nextToken && found.length < topK);
    return found
      .flatMap((match) => ownMatch(match, filter.owner))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, topK);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += MAX_VECTORS_PER_WRITE) {
      const batch = keys.slice(start, start + MAX_VECTORS_PER_WRITE);
      await this.send('delete vectors', () =>
        this.s3vectors.send(new DeleteVectorsCommand({ ...this.location, keys: batch })),
      );
    }
  }

  /** A vector of another length is a caller's bug: caught before anything is sent. */
  private checkLength(vector: Float32Array): void {
    if (vector.length !== this.dimensions)
      throw new RangeError(`a vector of ${vector.length} numbers for an index of ${this.dimensions}`);
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toRefusalError(error, operation, { ...this.location });
    }
  }
}

function ownMatch({ key, distance, metadata }: QueryOutputVector, owner: string): VectorMatch[] {
  const { owner: matchOwner, imageId } = (metadata ?? {}) as Partial<Record<string, unknown>>;
  if (
    key === undefined ||
    typeof distance !== 'number' ||
    matchOwner !== owner ||
    typeof imageId !== 'string'
  )
    return [];
  return [{ key, distance, metadata: { owner, imageId } }];
}
