import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { describe, expect, it } from 'vitest';
import { S3VectorsIndex } from '../../lambdas/adapters/aws/s3-vectors-index.js';
import { DependencyRefusedError, RetryableError } from '../../lambdas/core/errors.js';
import type { IndexedVector } from '../../lambdas/ports/enrichment.js';
import { answer, type CannedResponse, cannedTransport, refusal } from '../support/sdk-transport.js';

const LOCATION = {
  indexArn: 'arn:aws:s3vectors:eu-west-1:123456789012:bucket/aperture-vectors/index/titan-384',
};
const DIMENSIONS = 4;

function index(...responses: CannedResponse[]) {
  const { options, sent } = cannedTransport(...responses);
  const subject = new S3VectorsIndex(new S3VectorsClient(options), LOCATION, 'titan', DIMENSIONS);
  return { index: subject, sent };
}

/** Values float32 holds exactly, so the JSON sent can be compared as numbers. */
function vectorOf(seed: number): Float32Array {
  return Float32Array.from({ length: DIMENSIONS }, (_, i) => ((seed + i) % 16) / 4);
}

function indexed(count: number): IndexedVector[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `image-${i}`,
    vector: vectorOf(i),
    metadata: { owner: `owner-${i % 3}`, imageId: `image-${i}` },
  }));
}

const queried = (vectors: unknown[], extra: Record<string, unknown> = {}) =>
  answer(200, { vectors, distanceMetric: 'cosine', ...extra });

interface PutBody {
  indexArn: string;
  vectors: Array<{ key: string; data: { float32: number[] }; metadata: unknown }>;
}

describe('S3VectorsIndex', () => {
  it('writes vectors in batches of at most 500, each with its owner and image as metadata (request shape only: S3 Vectors storing them is not provable offline)', async () => {
    const vectors = indexed(1201);
    const { index: subject, sent } = index(answer(200), answer(200), answer(200));
    await subject.put(vectors);
    expect(sent.map((request) => request.path)).toEqual(['/PutVectors', '/PutVectors', '/PutVectors']);
    const bodies = sent.map((request) => request.json as PutBody);
    expect(bodies.map((body) => body.vectors.length)).toEqual([500, 500, 201]);
    for (const body of bodies) expect(body).toMatchObject(LOCATION);
    const written = bodies.flatMap((body) => body.vectors);
    expect(written).toEqual(
      vectors.map(({ key, vector, metadata }) => ({
        key,
        data: { float32: Array.from(vector) },
        metadata: { owner: metadata.owner, imageId: metadata.imageId },
      })),
    );
  });

  it('sends nothing for nothing to write or delete, nor for a vector of the wrong length', async () => {
    const { index: subject, sent } = index();
    await subject.put([]);
    await subject.delete([]);
    const wrong = [
      ...indexed(2),
      { key: 'odd', vector: new Float32Array(3), metadata: { owner: 'o', imageId: 'i' } },
    ];
    await expect(subject.put(wrong)).rejects.toThrow(RangeError);
    expect(sent).toEqual([]);
  });

  it("queries one owner's vectors with metadata and distances, and answers them nearest first (request shape only: S3 Vectors' approximate ranking is not provable offline)", async () => {
    const { index: subject, sent } = index(
      queried([
        { key: 'far', distance: 0.75, metadata: { owner: 'alice', imageId: 'img-far' } },
        { key: 'near', distance: 0.125, metadata: { owner: 'alice', imageId: 'img-near' } },
        { key: 'stray', distance: 0.25, metadata: { note: 'written by something else' } },
        { key: 'other', distance: 0.01, metadata: { owner: 'mallory', imageId: 'img-other' } },
      ]),
    );
    const query = vectorOf(7);
    expect(await subject.query(query, { topK: 10, filter: { owner: 'alice' } })).toEqual([
      { key: 'near', distance: 0.125, metadata: { owner: 'alice', imageId: 'img-near' } },
      { key: 'far', distance: 0.75, metadata: { owner: 'alice', imageId: 'img-far' } },
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.path).toBe('/QueryVectors');
    expect(sent[0]?.json).toEqual({
      ...LOCATION,
      topK: 10,
      queryVector: { float32: Array.from(query) },
      filter: { owner: { $eq: 'alice' } },
      returnMetadata: true,
      returnDistance: true,
    });
  });

  it("follows the pages of a large topK with the same query until it has topK matches (request shape only: S3 Vectors' page size is not provable offline)", async () => {
    const match = (i: number) => ({
      key: `k${i}`,
      distance: i / 100,
      metadata: { owner: 'alice', imageId: `i${i}` },
    });
    const { index: subject, sent } = index(
      queried([match(1), match(2)], { nextToken: 'page-2' }),
      queried([match(3), match(4)], { nextToken: 'page-3' }),
    );
    const matches = await subject.query(vectorOf(1), { topK: 3, filter: { owner: 'alice' } });
    expect(matches.map((found) => found.key)).toEqual(['k1', 'k2', 'k3']);
    expect(sent).toHaveLength(2);
    const [first, second] = sent.map((request) => request.json as Record<string, unknown>);
    expect(first?.nextToken).toBeUndefined();
    expect(second).toEqual({ ...first, nextToken: 'page-2' });
  });

  it.each([0, 101, 2.5, Number.NaN])('rejects topK %s before asking S3 Vectors', async (topK) => {
    const { index: subject, sent } = index();
    await expect(subject.query(vectorOf(0), { topK, filter: { owner: 'alice' } })).rejects.toThrow(
      RangeError,
    );
    expect(sent).toEqual([]);
  });

  it('refuses distances in a metric other than cosine (mapping only: how the index was created is not provable offline)', async () => {
    const { index: subject } = index(answer(200, { vectors: [], distanceMetric: 'euclidean' }));
    const error = await subject
      .query(vectorOf(0), { topK: 5, filter: { owner: 'alice' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyRefusedError);
    expect(error).toMatchObject({ reason: 'answer_unusable' });
  });

  it('deletes keys in batches of at most 500 (request shape only: S3 Vectors deleting them is not provable offline)', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `image-${i}`);
    const { index: subject, sent } = index(answer(200), answer(200), answer(200));
    await subject.delete(keys);
    expect(sent.map((request) => request.path)).toEqual([
      '/DeleteVectors',
      '/DeleteVectors',
      '/DeleteVectors',
    ]);
    const bodies = sent.map((request) => request.json as { keys: string[] });
    expect(bodies.map((body) => body.keys.length)).toEqual([500, 500, 1]);
    expect(bodies.flatMap((body) => body.keys)).toEqual(keys);
    for (const body of bodies) expect(body).toMatchObject(LOCATION);
  });

  it.each([
    ['TooManyRequestsException', 429],
    ['ServiceUnavailableException', 503],
    ['RequestTimeoutException', 408],
  ])(
    "lets the caller retry %s (error mapping only: S3 Vectors' rate limits are not provable offline)",
    async (type, status) => {
      const { index: subject } = index(refusal(status, type));
      const error = await subject.put(indexed(1)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ context: { sdkError: type, operation: 'put vectors', ...LOCATION } });
    },
  );

  it.each([
    ['AccessDeniedException', 403],
    ['NotFoundException', 404],
    ['ValidationException', 400],
  ])(
    "reports %s as a refused request (error mapping only: IAM and the index's existence are not provable offline)",
    async (type, status) => {
      const { index: subject } = index(refusal(status, type));
      const error = await subject.delete(['k']).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DependencyRefusedError);
      expect(error).toMatchObject({
        reason: 'request_refused',
        context: { sdkError: type, operation: 'delete vectors' },
      });
    },
  );
});
