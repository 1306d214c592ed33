import { CATALOG_TABLE } from '../../contract.js';
import { ValidationError } from '../../core/errors.js';
import { catalogKeys } from './catalog-table.js';
import type { Item } from './dynamo-table.js';

/** A page's last key, as the opaque cursor that asks for the next page. */
export function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor carries, unchecked: only for a cursor this process issued and got straight back. */
export function decodeTrustedCursor(cursor: string): Item {
  return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
}

/**
 * A cursor is client-held, so it must be exactly the shape this API issues and stay inside the
 * caller's own links: a forged one must neither page into another owner's partition nor reach
 * DynamoDB malformed (which would answer 500 and trip the alarms).
 */
export function decodeLinkCursor(
  cursor: string,
  owner: string,
  partition: { name: string; value: string },
): Item {
  const refuse = () => new ValidationError('the cursor is not one this API issued', 'cursor');
  let key: unknown;
  try {
    key = decodeTrustedCursor(cursor);
  } catch {
    throw refuse();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw refuse();
  const fields = key as Item;
  const index = CATALOG_TABLE.collectionIndex;
  const expected =
    partition.name === index.partitionKey
      ? [CATALOG_TABLE.partitionKey, CATALOG_TABLE.sortKey, index.partitionKey, index.sortKey]
      : [CATALOG_TABLE.partitionKey, CATALOG_TABLE.sortKey];
  const ownLink = catalogKeys.link(owner, '');
  const valid =
    Object.keys(fields).length === expected.length &&
    expected.every((name) => typeof fields[name] === 'string') &&
    fields[partition.name] === partition.value &&
    fields[CATALOG_TABLE.partitionKey] === ownLink.pk &&
    String(fields[CATALOG_TABLE.sortKey]).startsWith(ownLink.sk);
  if (!valid) throw refuse();
  return fields;
}
