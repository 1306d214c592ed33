import {
  type BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import type { Caption } from '../../core/enrichment.js';
import { DependencyRefusedError } from '../../core/errors.js';
import type { Captioner } from '../../ports/enrichment.js';
import { toRefusalError } from './dependency-errors.js';

/** The caption is stored and shown as it comes, so the model is asked for exactly that. */
const INSTRUCTION =
  'Describe this image in one plain sentence of at most 25 words. Reply with the sentence only: ' +
  'no preamble, no quotation marks, no list.';

/** Room for one sentence: a longer answer is cut here rather than paid for. */
const MAX_TOKENS = 80;

/** The model declined to describe this image: asking again gets the same answer. */
const REFUSING_STOPS = new Set(['content_filtered', 'guardrail_intervened']);

/**
 * Captions from a multimodal model through Amazon Bedrock `Converse` (e.g. Nova Lite). Converse takes
 * images up to 3.75 MB and 8,000 px on each edge: the analysis image fits. Temperature 0, so an image
 * enriched again gets the same caption as far as the model allows.
 */
export class BedrockCaptioner implements Captioner {
  constructor(
    private readonly bedrock: BedrockRuntimeClient,
    /** A Bedrock model id or inference profile that reads images. */
    readonly modelId: string,
  ) {}

  /** A vision model looks at the image itself: the tagger's tags are not needed. */
  async caption(jpeg: Buffer): Promise<Caption> {
    const { output, stopReason } = await this.converse(jpeg);
    if (stopReason !== undefined && REFUSING_STOPS.has(stopReason)) {
      throw new DependencyRefusedError('input_refused', `${this.modelId} declined to caption the image`, {
        modelId: this.modelId,
        stopReason,
      });
    }
    const text = (output?.message?.content ?? [])
      .map((block) => block.text ?? '')
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (text.length === 0) {
      throw new DependencyRefusedError('answer_unusable', `${this.modelId} answered with no caption`, {
        modelId: this.modelId,
        stopReason,
      });
    }
    return { text, source: this.modelId };
  }

  private async converse(jpeg: Buffer): Promise<ConverseCommandOutput> {
    try {
      return await this.bedrock.send(
        new ConverseCommand({
          modelId: this.modelId,
          messages: [
            {
              role: 'user',
              content: [{ image: { format: 'jpeg', source: { bytes: jpeg } } }, { text: INSTRUCTION }],
            },
          ],
          inferenceConfig: { maxTokens: MAX_TOKENS, temperature: 0 },
        }),
      );
    } catch (error) {
      throw toRefusalError(error, 'caption image', { modelId: this.modelId, bytes: jpeg.length });
    }
  }
}
