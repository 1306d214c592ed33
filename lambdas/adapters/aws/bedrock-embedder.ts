import { type BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { DependencyRefusedError } from '../../core/errors.js';
import type { EnrichmentSettings } from '../../core/settings.js';
import type { Embedder } from '../../ports/enrichment.js';
import { toRefusalError } from './dependency-errors.js';

type Dimensions = EnrichmentSettings['embeddings']['dimensions'];

/** Titan's request body: one input (both would embed their average), and the vector's length. */
type TitanInput = { inputImage: string } | { inputText: string };

/**
 * Image and text embeddings in one space from Amazon Titan Multimodal Embeddings G1
 * (`amazon.titan-embed-image-v1`) through Bedrock `InvokeModel`. Titan reads images up to 25 MB and
 * 2,048 × 2,048 px (the analysis image fits) and texts up to 256 tokens, English: a longer query is
 * refused (a DependencyRefusedError), so the search route bounds `q` before it gets here.
 */
export class BedrockEmbedder implements Embedder {
  readonly semantic = true;

  constructor(
    private readonly bedrock: BedrockRuntimeClient,
    readonly modelId: string,
    /** One of the lengths Titan offers; the vector index is made for the same. */
    readonly dimensions: Dimensions,
  ) {}

  embedImage(jpeg: Buffer): Promise<Float32Array> {
    return this.embed({ inputImage: jpeg.toString('base64') }, 'embed image');
  }

  embedText(text: string): Promise<Float32Array> {
    return this.embed({ inputText: text }, 'embed text');
  }

  private async embed(input: TitanInput, operation: string): Promise<Float32Array> {
    const body = await this.invoke(input, operation);
    const { embedding } = JSON.parse(Buffer.from(body).toString('utf8')) as { embedding?: unknown };
    if (
      !Array.isArray(embedding) ||
      embedding.length !== this.dimensions ||
      !embedding.every((value) => typeof value === 'number' && Number.isFinite(value))
    ) {
      throw new DependencyRefusedError(
        'answer_unusable',
        `${this.modelId} did not answer with ${this.dimensions} numbers`,
        { modelId: this.modelId, operation, length: Array.isArray(embedding) ? embedding.length : undefined },
      );
    }
    return Float32Array.from(embedding);
  }

  private async invoke(input: TitanInput, operation: string): Promise<Uint8Array> {
    try {
      const { body } = await this.bedrock.send(
        new InvokeModelCommand({
          modelId: this.modelId,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify({ ...input, embeddingConfig: { outputEmbeddingLength: this.dimensions } }),
        }),
      );
      return body;
    } catch (error) {
      throw toRefusalError(error, operation, { modelId: this.modelId });
    }
  }
}
