import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { beforeAll, describe, expect, it } from 'vitest';
import { RekognitionModerator, RekognitionTagger } from '../../lambdas/adapters/aws/rekognition-tagger.js';
import { DependencyRefusedError, RetryableError } from '../../lambdas/core/errors.js';
import { makeJpeg } from '../support/images.js';
import { answer, type CannedResponse, cannedTransport, refusal } from '../support/sdk-transport.js';

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await makeJpeg(120, 90);
});

function tagger(...responses: CannedResponse[]) {
  const { options, sent } = cannedTransport(...responses);
  return {
    tagger: new RekognitionTagger(new RekognitionClient(options), { maxLabels: 7, minConfidence: 0.55 }),
    sent,
  };
}

describe('RekognitionTagger', () => {
  it("sends the JPEG's own bytes and the options in percent, and answers 0–1 confidences as the model named them (request shape only: Rekognition's vocabulary and accuracy are not provable offline)", async () => {
    const { tagger: subject, sent } = tagger(
      answer(200, {
        Labels: [
          { Name: 'Dog', Confidence: 97.5, Parents: [{ Name: 'Animal' }] },
          { Name: 'Golden Retriever', Confidence: 61.25 },
          { Name: 'Pet' },
        ],
        LabelModelVersion: '3.0',
      }),
    );
    expect(subject.modelId).toBe('rekognition:detect-labels');
    // Raw: the caller lowercases and thresholds (normaliseTags); a label without a confidence says nothing.
    expect(await subject.tag(jpeg)).toEqual([
      { name: 'Dog', confidence: 0.975 },
      { name: 'Golden Retriever', confidence: 0.6125 },
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers['x-amz-target']).toBe('RekognitionService.DetectLabels');
    expect(sent[0]?.json).toEqual({
      Image: { Bytes: jpeg.toString('base64') },
      MaxLabels: 7,
      MinConfidence: 55,
    });
  });

  it('answers no tags for an image Rekognition finds nothing in', async () => {
    const { tagger: subject } = tagger(answer(200, { Labels: [] }));
    expect(await subject.tag(jpeg)).toEqual([]);
  });

  it.each([
    ['ThrottlingException', 400],
    ['ProvisionedThroughputExceededException', 400],
    ['InternalServerError', 500],
  ])(
    'lets SQS retry %s (error mapping only: when AWS throttles is not provable offline)',
    async (type, status) => {
      const { tagger: subject } = tagger(refusal(status, type));
      const error = await subject.tag(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ reason: 'dependency_unavailable', context: { sdkError: type } });
    },
  );

  it.each([
    ['InvalidImageFormatException', 'input_refused'],
    ['ImageTooLargeException', 'input_refused'],
    ['InvalidParameterException', 'input_refused'],
    ['AccessDeniedException', 'request_refused'],
  ])(
    'records %s as a refusal, not a retry (error mapping only: which images Rekognition refuses is not provable offline)',
    async (type, reason) => {
      const { tagger: subject } = tagger(refusal(400, type));
      const error = await subject.tag(jpeg).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DependencyRefusedError);
      expect(error).toMatchObject({ reason, context: { operation: 'detect labels', sdkError: type } });
    },
  );
});

describe('RekognitionModerator', () => {
  it("sends the JPEG's own bytes and the threshold in percent, and answers 0–1 confidences (request shape only: what Rekognition flags is not provable offline)", async () => {
    const { options, sent } = cannedTransport(
      answer(200, {
        ModerationLabels: [
          { Name: 'Violence', ParentName: '', Confidence: 91, TaxonomyLevel: 1 },
          { Name: 'Weapons', ParentName: 'Violence', Confidence: 88.5, TaxonomyLevel: 2 },
        ],
        ModerationModelVersion: '7.0',
      }),
      answer(200, { ModerationLabels: [] }),
      refusal(400, 'ImageTooLargeException'),
    );
    const moderator = new RekognitionModerator(new RekognitionClient(options), { minConfidence: 0.8 });
    expect(moderator.modelId).toBe('rekognition:detect-moderation-labels');
    expect(await moderator.moderate(jpeg)).toEqual([
      { name: 'Violence', confidence: 0.91 },
      { name: 'Weapons', confidence: 0.885 },
    ]);
    expect(await moderator.moderate(jpeg)).toEqual([]);
    await expect(moderator.moderate(jpeg)).rejects.toMatchObject({
      name: 'DependencyRefusedError',
      reason: 'input_refused',
    });
    expect(sent[0]?.headers['x-amz-target']).toBe('RekognitionService.DetectModerationLabels');
    expect(sent[0]?.json).toEqual({ Image: { Bytes: jpeg.toString('base64') }, MinConfidence: 80 });
  });
});
