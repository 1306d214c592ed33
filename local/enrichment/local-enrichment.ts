import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoImageEmbeddings } from '../../lambdas/adapters/aws/dynamo-image-embeddings.js';
import type { EnrichmentModels } from '../../lambdas/services/enrich-image.js';
import type { VectorFiling } from '../../lambdas/services/owner-index-sync.js';
import type { SemanticSearch } from '../../lambdas/services/search-images.js';
import { HumanTagger } from './human-tagger.js';
import { LayoutEmbedder } from './layout-embedder.js';
import { SqliteVectorIndex } from './sqlite-vector-index.js';
import { TemplateCaptioner } from './template-captioner.js';

/**
 * What stands in for the managed models and S3 Vectors on a laptop, handed to the very handlers
 * Lambda runs in place of their AWS adapters: Human's CenterNet for tags, captions written from the
 * tags, a non-semantic layout embedding, and sqlite-vec as the vector index (in the data dir, so it
 * lasts as the emulators' data does). No moderation model exists offline: moderation stays off.
 */
export interface LocalEnrichment {
  models: EnrichmentModels;
  vectors: VectorFiling;
  /** Not semantic: `q` stays a word search, and the API says so. */
  search: SemanticSearch;
  close(): void;
}

export function localEnrichment(
  dataDir: string,
  dynamo: DynamoDBDocumentClient,
  table: string,
): LocalEnrichment {
  const embedder = new LayoutEmbedder();
  const index = new SqliteVectorIndex(join(dataDir, `vectors-${embedder.dimensions}.sqlite`), embedder);
  return {
    models: { tagger: new HumanTagger(), captioner: new TemplateCaptioner(), embedder },
    vectors: { index, embeddings: new DynamoImageEmbeddings(dynamo, table) },
    search: { embedder, vectorIndex: index },
    close: () => index.close(),
  };
}
