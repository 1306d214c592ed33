import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { BedrockEmbedder } from '../../lambdas/adapters/aws/bedrock-embedder.js';
import { DependencyRefusedError, RetryableError } from '../../lambdas/core/errors.js';
import { makeJpeg } from '../support/images.js';
import { answer, type CannedResponse, cannedTransport, refusal } from '../support/sdk-transport.js';

const MODEL = 'amazon.titan-embed-image-v1';

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await makeJpeg(120, 90);
});

function embedder(dimensions: 256 | 384 | 1024, ...responses: CannedResponse[]) {
  const { options, sent } = cannedTransport(...responses);
  return { embedder: new BedrockEmbedder(new BedrockRuntimeClient(options), MODEL, dimensions), sent };
}

/** A Titan answer: numbers that survive float32 unchanged, so equality is exact. */
function vector(length: number): number[] {
  return Array.from({ length }, (_, index) => (index % 8) / 8 - 0.5);
}

describe('BedrockEmbedder', () => {
  it("sends Titan the JPEG's own bytes in base64 with the index's length, and answers its vector (request shape only: semantic ranking is not provable offline)", async () => {
    const embedding = vector(384);
    const { embedder: subject, sent } = embedder(384, answer(200, { embedding, inputTextTokenCount: 0 }));
    expect(subject).toMatchObject({ modelId: MODEL, dimensions: 384, semantic: true });
    const result = await subject.embedImage(jpeg);
    expect(result).toBeInstanceOf(Float32Array);
    expect(Array.from(result)).toEqual(embedding);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.path).toBe(`/model/${MODEL}/invoke`);
    expect(sent[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json',
    });
    expect(sent[0]?.json).toEqual({
      inputImage: jpeg.toString('base64'),
      embeddingConfig: { outputEmbeddingLength: 384 },
    });
  });

  it('embeds a text alone into the same space, at the same length (request shape only: that texts land near their images is not provable offline)', async () => {
    const embedding = vector(256);
    const { embedder: subject, sent } = embedder(256, answer(200, { embedding, inputTextTokenCount: 3 }));
    expect(Array.from(await subject.embedText('dog on a beach'))).toEqual(embedding);
    expect(sent[0]?.json).toEqual({
      inputText: 'dog on a beach',
      embeddingConfig: { outputEmbeddingLength: 256 },
    });
  });

  it.each([
    ['a vector of another length', { embedding: vector(1024) }],
    ['no vector', { message: 'something went wrong' }],
    ['a vector with a hole in it', { embedding: [...vector(255), null] }],
  ])(
    'refuses %s rather than indexing it (mapping only: how Titan fails is not provable offline)',
    async (_, body) => {
      const { embedder: subject } = embedder(256, answer(200, body));
      const error = await subject.embedImage(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DependencyRefusedError);
      expect(error).toMatchObject({
        reason: 'answer_unusable',
        context: { modelId: MODEL, operation: 'embed image' },
      });
    },
  );

  it("lets SQS retry a throttled call, and records a refused one (error mapping only: Titan's limits are not provable offline)", async () => {
    const { embedder: subject } = embedder(
      1024,
      refusal(429, 'ThrottlingException'),
      refusal(400, 'ValidationException', 'Malformed input request'),
    );
    await expect(subject.embedImage(jpeg)).rejects.toBeInstanceOf(RetryableError);
    const error = await subject.embedText('x'.repeat(5000)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyRefusedError);
    expect(error).toMatchObject({
      reason: 'request_refused',
      context: { sdkError: 'ValidationException', operation: 'embed text' },
    });
  });
});
