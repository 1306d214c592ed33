import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { CatalogChange } from '../../services/announce-change.js';
import { imageFromItem, linkFromItem, uploadFromItem } from './catalog-items.js';

type StreamImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

/** A stream image as a plain item; aws-lambda's attribute type is the SDK's, spelled independently. */
const itemOf = (image: StreamImage | undefined) =>
  image && unmarshall(image as Record<string, AttributeValue>);

/**
 * The change a stream record of the catalog table reports, for the records whose changes are
 * announced (uploads, images, owners' links); none for the rest (holders, lookups, leases, the event
 * ledger itself), which the event source's filter keeps away in AWS anyway.
 */
export function catalogChangeOf(record: DynamoDBRecord): CatalogChange | undefined {
  const before = itemOf(record.dynamodb?.OldImage);
  const after = itemOf(record.dynamodb?.NewImage);
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  const at = seconds === undefined ? new Date() : new Date(seconds * 1000);
  switch ((after ?? before)?.type) {
    case 'upload':
      return {
        record: 'upload',
        change: { before: map(before, uploadFromItem), after: map(after, uploadFromItem) },
        at,
      };
    case 'image':
      return {
        record: 'image',
        change: { before: map(before, imageFromItem), after: map(after, imageFromItem) },
        at,
      };
    case 'link':
      return {
        record: 'link',
        change: { before: map(before, linkFromItem), after: map(after, linkFromItem) },
        at,
      };
    default:
      return undefined;
  }
}

function map<T>(
  item: Record<string, unknown> | undefined,
  from: (item: Record<string, unknown>) => T,
): T | undefined {
  return item && from(item);
}
