import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import type { DominantColour, Enrichment } from '../../lambdas/core/enrichment.js';
import type { RequestPathCatalog } from '../../lambdas/ports/catalog.js';
import type { OwnerIndex } from '../../lambdas/ports/owner-index.js';
import { reindexImage } from '../../lambdas/services/owner-index-sync.js';

/** A finished enrichment: tags at 0.9, a template caption, the given colours. */
export function enrichment(fields: {
  tags?: string[];
  caption?: string;
  colours?: DominantColour[];
}): Enrichment {
  return {
    status: 'done',
    version: 'test',
    tags: (fields.tags ?? []).map((name) => ({ name, confidence: 0.9 })),
    ...(fields.caption ? { caption: { text: fields.caption, source: 'template' } } : {}),
    colours: fields.colours ?? [],
  };
}

/**
 * What the enrichment lane does with its results: writes them on the image record, then files the
 * image's entries for every owner who links it (`reindexImage`).
 */
export async function enrich(
  target: {
    dynamo: DynamoDBDocumentClient;
    table: string;
    catalog: RequestPathCatalog;
    ownerIndex: OwnerIndex;
  },
  imageId: string,
  result: Enrichment,
): Promise<void> {
  const before = await target.catalog.getImage(imageId);
  await target.dynamo.send(
    new UpdateCommand({
      TableName: target.table,
      Key: catalogKeys.image(imageId),
      UpdateExpression: 'SET enrichment = :enrichment',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':enrichment': result },
    }),
  );
  await reindexImage(target, imageId, before, { enrichment: result });
}
