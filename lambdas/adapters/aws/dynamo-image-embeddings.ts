import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ImageEmbeddings, StoredEmbedding } from '../../ports/image-embeddings.js';
import { catalogKeys } from './catalog-table.js';
import { DynamoTable } from './dynamo-table.js';

/** Embeddings as binary attributes of the catalog table: 4 KB for Titan's 1024 dimensions. */
export class DynamoImageEmbeddings implements ImageEmbeddings {
  private readonly table: DynamoTable;

  constructor(dynamo: DynamoDBDocumentClient, tableName: string) {
    this.table = new DynamoTable(dynamo, tableName);
  }

  async put(imageId: string, embedding: StoredEmbedding): Promise<void> {
    const { vector } = embedding;
    await this.table.put(
      'put embedding',
      { imageId },
      {
        Item: {
          ...catalogKeys.embedding(imageId),
          type: 'embedding',
          modelId: embedding.modelId,
          vector: new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength),
        },
      },
    );
  }

  async get(imageId: string): Promise<StoredEmbedding | undefined> {
    const item = await this.table.get('get embedding', { imageId }, catalogKeys.embedding(imageId));
    if (!item) return undefined;
    const bytes = item.vector as Uint8Array;
    // A copy: the SDK's buffer need not be aligned for Float32Array.
    const vector = new Float32Array(new Uint8Array(bytes).buffer);
    return { modelId: String(item.modelId), vector };
  }
}
