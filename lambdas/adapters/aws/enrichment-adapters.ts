import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FunctionEnvironment } from '../../core/environment.js';
import type { EnrichmentSettings } from '../../core/settings.js';
import type { Embedder } from '../../ports/enrichment.js';
import type { EnrichmentModels } from '../../services/enrich-image.js';
import type { VectorFiling } from '../../services/owner-index-sync.js';
import { BedrockCaptioner } from './bedrock-captioner.js';
import { BedrockEmbedder } from './bedrock-embedder.js';
import { DynamoImageEmbeddings } from './dynamo-image-embeddings.js';
import { RekognitionModerator, RekognitionTagger } from './rekognition-tagger.js';
import { S3VectorsIndex } from './s3-vectors-index.js';

type Environment = Record<string, string | undefined>;

/** The managed models enrichment runs on AWS, as the settings enable them; built once per cold start. */
export function awsEnrichmentModels(settings: EnrichmentSettings, env: Environment): EnrichmentModels {
  const rekognition = new RekognitionClient({ region: env.AWS_REGION });
  return {
    // Rekognition drops what the policy would drop anyway: fewer labels to send back and normalise.
    tagger: new RekognitionTagger(rekognition, {
      maxLabels: settings.tags.maxTags,
      minConfidence: settings.tags.minConfidence,
    }),
    captioner: settings.captions.enabled
      ? new BedrockCaptioner(bedrockClient(env), settings.captions.modelId)
      : undefined,
    embedder: awsEmbedder(settings, env),
    moderator: settings.moderation.enabled
      ? new RekognitionModerator(rekognition, { minConfidence: settings.moderation.minConfidence })
      : undefined,
  };
}

/** Titan Multimodal Embeddings, when embeddings are on: images when enriching, text when searching. */
export function awsEmbedder(settings: EnrichmentSettings, env: Environment): Embedder | undefined {
  if (!settings.enabled || !settings.embeddings.enabled) return undefined;
  const { modelId, dimensions } = settings.embeddings;
  return new BedrockEmbedder(bedrockClient(env), modelId, dimensions);
}

/** The S3 Vectors index and the stored embeddings, when the deployment has an index. */
export function awsVectorFiling(
  config: Pick<FunctionEnvironment, 'settings' | 'table' | 'vectorIndex'>,
  dynamo: DynamoDBDocumentClient,
  env: Environment,
): VectorFiling | undefined {
  const embedder = config.settings.enrichment.embeddings;
  if (!config.vectorIndex || !config.settings.enrichment.enabled || !embedder.enabled) return undefined;
  return {
    index: new S3VectorsIndex(
      new S3VectorsClient({ region: env.AWS_REGION }),
      config.vectorIndex,
      embedder.modelId,
      embedder.dimensions,
    ),
    embeddings: new DynamoImageEmbeddings(dynamo, config.table),
  };
}

const bedrockClient = (env: Environment) => new BedrockRuntimeClient({ region: env.AWS_REGION });
