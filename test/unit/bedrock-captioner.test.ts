import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { BedrockCaptioner } from '../../lambdas/adapters/aws/bedrock-captioner.js';
import { DependencyRefusedError, RetryableError } from '../../lambdas/core/errors.js';
import { makeJpeg } from '../support/images.js';
import { answer, type CannedResponse, cannedTransport, refusal } from '../support/sdk-transport.js';

const MODEL = 'amazon.nova-lite-v1:0';

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await makeJpeg(120, 90);
});

function captioner(...responses: CannedResponse[]) {
  const { options, sent } = cannedTransport(...responses);
  return { captioner: new BedrockCaptioner(new BedrockRuntimeClient(options), MODEL), sent };
}

/** A Converse answer as Bedrock sends it. */
function said(content: Array<{ text: string }>, stopReason = 'end_turn'): CannedResponse {
  return answer(200, {
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage: { inputTokens: 1200, outputTokens: 14, totalTokens: 1214 },
    metrics: { latencyMs: 640 },
  });
}

describe('BedrockCaptioner', () => {
  it("asks the model for one sentence about the JPEG's own bytes, deterministically and briefly, and tidies its answer (request shape only: caption quality is not provable offline)", async () => {
    const { captioner: subject, sent } = captioner(
      said([{ text: '  A golden retriever\n runs across   a sunlit meadow. ' }, { text: '' }]),
    );
    expect(subject.modelId).toBe(MODEL);
    expect(await subject.caption(jpeg)).toEqual({
      text: 'A golden retriever runs across a sunlit meadow.',
      source: MODEL,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    const request = sent[0]?.json as {
      messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
      inferenceConfig: { maxTokens: number; temperature: number };
    };
    expect(request.messages).toHaveLength(1);
    expect(request.messages[0]?.role).toBe('user');
    const [image, instruction] = request.messages[0]?.content ?? [];
    expect(image).toEqual({ image: { format: 'jpeg', source: { bytes: jpeg.toString('base64') } } });
    expect(instruction?.text).toMatch(/one .*sentence/i);
    expect(request.inferenceConfig.temperature).toBe(0);
    expect(request.inferenceConfig.maxTokens).toBeGreaterThan(0);
    expect(request.inferenceConfig.maxTokens).toBeLessThanOrEqual(100);
  });

  it('refuses an answer with no words in it rather than storing an empty caption (mapping only: how often a model answers so is not provable offline)', async () => {
    const { captioner: subject } = captioner(said([{ text: ' \n ' }]), said([]));
    for (let call = 0; call < 2; call++) {
      const error = await subject.caption(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DependencyRefusedError);
      expect(error).toMatchObject({ reason: 'answer_unusable', context: { modelId: MODEL } });
    }
  });

  it.each(['content_filtered', 'guardrail_intervened'])(
    'records a model that stopped with %s as refusing this image (mapping only: what the model filters is not provable offline)',
    async (stopReason) => {
      const { captioner: subject } = captioner(said([{ text: 'I cannot help with that.' }], stopReason));
      const error = await subject.caption(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DependencyRefusedError);
      expect(error).toMatchObject({ reason: 'input_refused', context: { stopReason } });
    },
  );

  it.each([
    ['ThrottlingException', 429],
    ['ServiceUnavailableException', 503],
    ['ModelTimeoutException', 408],
    ['ModelErrorException', 424],
  ])(
    'lets SQS retry %s (error mapping only: when Bedrock throttles or fails is not provable offline)',
    async (type, status) => {
      const { captioner: subject } = captioner(refusal(status, type));
      const error = await subject.caption(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ context: { sdkError: type, modelId: MODEL } });
    },
  );

  it.each([
    ['AccessDeniedException', 403],
    ['ValidationException', 400],
    ['ResourceNotFoundException', 404],
  ])(
    'records %s as a refused request, not a retry (error mapping only: model access and validation are not provable offline)',
    async (type, status) => {
      const { captioner: subject } = captioner(refusal(status, type));
      const error = await subject.caption(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DependencyRefusedError);
      expect(error).toMatchObject({
        reason: 'request_refused',
        context: { sdkError: type, operation: 'caption image' },
      });
    },
  );
});
