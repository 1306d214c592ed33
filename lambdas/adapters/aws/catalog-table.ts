import { CATALOG_TABLE } from '../../contract.js';

const WEBHOOK_SORT_PREFIX = 'WEBHOOK#';
const UNSETTLED = 'unsettled';

/**
 * How the adapter lays out items in the catalog table (`CATALOG_TABLE` in the deployment contract),
 * shared with the tests and tools that read items directly.
 *
 * Single table, items addressed by `pk`/`sk`:
 * - image   `IMAGE#{sha256}`   / `IMAGE`             the content-addressed record, with its reference count
 * - link    `OWNER#{owner}`    / `IMAGE#{sha256}`    one owner's claim on an image
 * - holder  `IMAGE#{sha256}`   / `OWNER#{owner}`     the same claim seen from the image: who holds it
 * - vector  `IMAGE#{sha256}`   / `EMBEDDING`         the image's embedding (float32 bytes)
 * - entry   `INDEX#{owner, %-encoded}#{term}` / `{sha256}`   one of an owner's lookups (a tag, a word, a hash band)
 * - upload  `UPLOAD#{uploadId}`/ `UPLOAD`            one presigned upload and its fate
 * - lease   `LEASE#{name}`     / `LEASE`             a short claim on render work (expires by TTL)
 * - event   `EVENT#{eventId}`  / `EVENT`             one published (or being published) event (expires by TTL)
 * - webhook `WEBHOOKS#{owner, %-encoded}` / `WEBHOOK#{webhookId}`   one of an owner's webhook endpoints
 * - upkeep  `UPKEEP#VERSIONS`  / `VERSION#{version}` an upkeep version images may be settled on
 *
 * Webhook items have a prefix of their own, so the delivery functions' IAM policy can name them
 * (`dynamodb:LeadingKeys`), and no query of an owner's images ever meets one.
 */
export const catalogKeys = {
  image: (sha256: string) => ({ pk: `IMAGE#${sha256}`, sk: 'IMAGE' }),
  link: (owner: string, sha256: string) => ({ pk: `OWNER#${owner}`, sk: `IMAGE#${sha256}` }),
  embedding: (sha256: string) => ({ pk: `IMAGE#${sha256}`, sk: 'EMBEDDING' }),
  holder: (sha256: string, owner: string) => ({ pk: `IMAGE#${sha256}`, sk: `OWNER#${owner}` }),
  /**
   * The owner is percent-encoded, so it holds no `#`: the first `#` after it always ends it, and no
   * owner and term (`alice#tag:x` and `word:y`, say) can spell another owner's partition.
   */
  indexEntry: (owner: string, term: string, sha256: string) => ({
    pk: `INDEX#${encodeURIComponent(owner)}#${term}`,
    sk: sha256,
  }),
  upload: (uploadId: string) => ({ pk: `UPLOAD#${uploadId}`, sk: 'UPLOAD' }),
  lease: (name: string) => ({ pk: `LEASE#${name}`, sk: 'LEASE' }),
  event: (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' }),
  importTally: (importId: string) => ({ pk: `IMPORT#${importId}`, sk: 'TALLY' }),
  upkeepVersion: (version: string) => ({
    pk: CATALOG_TABLE.upkeepVersions.partition,
    sk: `${CATALOG_TABLE.upkeepVersions.sortPrefix}${version}`,
  }),
  webhook: (owner: string, webhookId: string) => ({
    pk: catalogKeys.webhooks(owner),
    sk: `${WEBHOOK_SORT_PREFIX}${webhookId}`,
  }),
  /** The partition of one owner's webhook endpoints. */
  webhooks: (owner: string) => `${CATALOG_TABLE.webhookPartitionPrefix}${encodeURIComponent(owner)}`,
  /** The `byCollection` partition of one owner's collection. */
  collection: (owner: string, collection: string) => `OWNER#${owner}#COLLECTION#${collection}`,
};

/**
 * An image's partition in the upkeep index (`CATALOG_TABLE.upkeepIndex`): `{label}#{shard}`, the
 * label being the upkeep version it settled on or `unsettled` (no upkeep version is: they are hex).
 */
export const upkeepKeys = {
  settled: (version: string, shard: number) => `${version}#${shard}`,
  unsettled: (shard: number) => `${UNSETTLED}#${shard}`,
  /** The upkeep version an index key files its image under; undefined for an unsettled one. */
  settledOn: (key: string): string | undefined => {
    const label = key.slice(0, key.lastIndexOf('#'));
    return label === UNSETTLED ? undefined : label;
  },
  /** The upkeep version of a version record's sort key. */
  versionOf: (sortKey: string) => sortKey.slice(CATALOG_TABLE.upkeepVersions.sortPrefix.length),
};
