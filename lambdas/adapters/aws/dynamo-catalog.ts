import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalog, ImageLink, UploadRecord } from '../../ports/catalog.js';
import { CATALOG_TABLE, catalogKeys } from './catalog-table.js';
import { toDomainError } from './dependency-errors.js';

/** Abandoned `pending` uploads linger this long after their URL expires, for status queries, then expire. */
const PENDING_UPLOAD_RETENTION_SECONDS = 7 * 24 * 3600;

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

export class DynamoCatalog implements Catalog {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordUpload(upload: UploadRecord): Promise<void> {
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...catalogKeys.upload(upload.uploadId),
            type: 'upload',
            uploadId: upload.uploadId,
            owner: upload.owner,
            status: upload.status,
            contentType: upload.contentType,
            size: upload.size,
            sha256: upload.sha256,
            filename: upload.filename,
            collection: upload.collection,
            createdAt: upload.createdAt.toISOString(),
            uploadExpiresAt: upload.uploadExpiresAt.toISOString(),
            [CATALOG_TABLE.timeToLiveAttribute]:
              epochSeconds(upload.uploadExpiresAt) + PENDING_UPLOAD_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      throw toDomainError(error, 'record upload', { uploadId: upload.uploadId });
    }
  }

  async findLink(owner: string, imageId: string): Promise<ImageLink | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.dynamo.send(
        new GetCommand({
          TableName: this.table,
          Key: catalogKeys.link(owner, imageId),
          ConsistentRead: true,
        }),
      ));
    } catch (error) {
      throw toDomainError(error, 'find link', { imageId });
    }
    if (!item) return undefined;
    return {
      owner,
      imageId,
      uploadId: String(item.uploadId),
      collection: item.collection as string | undefined,
      filename: item.filename as string | undefined,
      linkedAt: new Date(String(item.linkedAt)),
    };
  }
}
