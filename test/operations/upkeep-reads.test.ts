import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoMaintenanceCatalog } from '../../lambdas/adapters/aws/dynamo-maintenance-catalog.js';
import { CATALOG_TABLE } from '../../lambdas/contract.js';
import { parseSettings, type Settings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, variantSetVersion } from '../../lambdas/core/variants.js';
import * as scheduledFunction from '../../lambdas/handlers/reprocess.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { TWIN_CREDENTIALS, TWIN_REGION } from '../../local/twin/environment.js';
import { provisionTwin } from '../../local/twin/provision.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { privateWorldForFile } from '../support/operations.js';
import { until } from '../support/until.js';

// The scheduled upkeep's reads, counted at the DynamoDB client it sends them with: what it costs at
// rest and after a deploy that changes the variant set. It gets a twin of its own, so every image
// in the table is one this file made.
const world = privateWorldForFile();

const before = parseSettings();
const after = parseSettings({
  variants: [
    ...DEFAULT_VARIANTS,
    { name: 'square', fit: 'cover', width: 600, height: 600, formats: [{ format: 'webp', quality: 70 }] },
  ],
});

interface Read {
  command: string;
  /** The partition key of each item the read returned. */
  keys: string[];
}

/** The upkeep as deployed under `settings`, with every DynamoDB read it makes recorded in `reads`. */
function deployedUpkeep(settings: Settings) {
  const reads: Read[] = [];
  const env = world().env(settings);
  const clients = createAwsClients(env);
  clients.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as { Item?: Record<string, unknown>; Items?: Record<string, unknown>[] };
      const items = output.Items ?? (output.Item ? [output.Item] : []);
      reads.push({ command: String(context.commandName), keys: items.map(partitionKey) });
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );
  const deps = scheduledFunction.reprocessDependenciesFromEnvironment(env);
  const handler = scheduledFunction.createReprocessHandler({
    ...deps,
    catalog: new DynamoMaintenanceCatalog(clients.dynamo, world().twin.resources.table),
  });
  return { reads, run: () => handler(scheduledEvent(), lambdaContext('aperture-reprocess')) };
}

/** An item's `pk`, whether the middleware sees it marshalled or not. */
function partitionKey(item: Record<string, unknown>): string {
  const pk = item.pk as string | { S: string };
  return typeof pk === 'string' ? pk : pk.S;
}

const imageReads = (reads: readonly Read[]) =>
  reads.flatMap((read) => read.keys).filter((key) => key.startsWith(catalogKeys.image('').pk));

function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: TWIN_REGION,
    resources: [`arn:aws:events:${TWIN_REGION}:123456789012:rule/aperture-reprocess-schedule`],
    detail: {},
  };
}

it('reads no image at rest, and after a variant set change reads and moves only the stale images', async () => {
  const owner = uniqueOwner('upkeep');
  const seed = firstSeed();
  const stale: string[] = [];
  for (const offset of [0, 1, 2]) {
    const bytes = await makeImage('jpeg', { width: 640, height: 480, seed: seed + offset });
    const { imageId, jobs } = await world().ingest(bytes, owner, before);
    await world().render(jobs, before);
    stale.push(imageId);
  }

  // The first run learns the variant sets there are from the index's keys, once: each image's key
  // read by the one scan, and no image itself.
  const first = deployedUpkeep(before);
  expect(await first.run()).toMatchObject({ images: 0, moved: 0 });
  expect(imageReads(first.reads).sort()).toEqual(
    stale.map((imageId) => catalogKeys.image(imageId).pk).sort(),
  );
  expect(first.reads.filter((read) => read.command === 'ScanCommand')).toHaveLength(1);

  // At rest: the record of variant sets, and not one image.
  const atRest = deployedUpkeep(before);
  expect(await atRest.run()).toMatchObject({ images: 0, moved: 0 });
  expect(atRest.reads).toEqual([{ command: 'GetItemCommand', keys: [catalogKeys.variantSets().pk] }]);

  // An image ingested after the deploy is on the new set already: the upkeep never reads it.
  const fresh = await world().ingest(
    await makeImage('jpeg', { width: 640, height: 480, seed: seed + 3 }),
    owner,
    after,
  );

  const deployed = deployedUpkeep(after);
  expect(await deployed.run()).toMatchObject({
    variantSetVersion: variantSetVersion(after.variants),
    images: 3,
    moved: 3,
    variants: { square: 3 },
  });
  // Each stale image read twice: its key from the old set's partition, then the image itself.
  expect(imageReads(deployed.reads).sort()).toEqual(
    [...stale, ...stale].map((imageId) => catalogKeys.image(imageId).pk).sort(),
  );
  expect(imageReads(deployed.reads)).not.toContain(catalogKeys.image(fresh.imageId).pk);
  for (const imageId of stale) {
    expect((await world().catalog.getImage(imageId))?.variantSetVersion).toBe(
      variantSetVersion(after.variants),
    );
  }

  // Done: the old set's partition is empty, so the next run reads the record and no image.
  const next = deployedUpkeep(after);
  expect(await next.run()).toMatchObject({ images: 0, moved: 0 });
  expect(imageReads(next.reads)).toEqual([]);
  expect(next.reads.map((read) => read.command).sort()).toEqual(['GetItemCommand', 'QueryCommand']);
});

it('gives a catalog table kept from before the upkeep its index, filled from the images there', async () => {
  const { dynamodb } = world().twin.endpoints;
  const admin = new DynamoDBClient({
    region: TWIN_REGION,
    credentials: TWIN_CREDENTIALS,
    endpoint: dynamodb,
  });
  const table = world().twin.resources.table;
  const indexes = async () =>
    (
      (await admin.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? []
    ).map((index) => index.IndexName);
  try {
    await admin.send(
      new UpdateTableCommand({
        TableName: table,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: CATALOG_TABLE.variantSetIndex.name } }],
      }),
    );
    await until(async () => !(await indexes()).includes(CATALOG_TABLE.variantSetIndex.name));

    await provisionTwin(world().twin.endpoints, TWIN_REGION);
    expect(await indexes()).toContain(CATALOG_TABLE.variantSetIndex.name);
    const { imageId } = await world().ingest(
      await makeImage('jpeg', { width: 320, height: 240, seed: firstSeed() + 10 }),
      uniqueOwner('kept'),
      before,
    );
    const onBefore = await world().catalog.imagesOnVariantSet(variantSetVersion(before.variants));
    expect(onBefore.items).toContain(imageId);
  } finally {
    admin.destroy();
  }
});
