import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { CATALOG_TABLE } from '../../lambdas/contract.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { upkeepVersion } from '../../lambdas/core/upkeep.js';
import { allItems } from '../../lambdas/services/bulk-reads.js';
import { TWIN_CREDENTIALS, TWIN_REGION } from '../../local/twin/environment.js';
import { provisionTwin } from '../../local/twin/provision.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { aperture, privateWorldForFile } from '../support/operations.js';
import { until } from '../support/until.js';
import { deployedUpkeep, itemsRead } from '../support/upkeep.js';

// What the hourly run is still for once deploys start the upkeep: the work that stalled or failed on
// the way, found in the upkeep index without reading a settled image. A twin of its own, one
// deployment's settings throughout; each test leaves the catalog at rest.
const world = privateWorldForFile();

const settings = parseSettings();
const HOUR = 3_600_000;
const later = () => new Date(Date.now() + 2 * HOUR);
const imageKey = (imageId: string) => catalogKeys.image(imageId).pk;
const lanesOf = (jobs: readonly RenderJob[], imageId: string) =>
  jobs.filter((job) => job.imageId === imageId).map((job) => job.lane);

/** A run at `now` that must read no item: what the catalog at rest costs. */
async function expectAtRest(now?: () => Date) {
  const run = deployedUpkeep(world(), settings, now);
  expect(await run.run()).toMatchObject({ images: 0 });
  expect(itemsRead(run.reads)).toEqual([]);
}

it('requeues a lost render and a failed one once they count as stalled, and leaves a failed image out', async () => {
  const owner = uniqueOwner('hourly');
  const seed = firstSeed();
  const image = async (offset: number) =>
    world().ingest(
      await makeImage('jpeg', { width: 640, height: 480, seed: seed + offset }),
      owner,
      settings,
    );

  // Its jobs were lost (a purged queue): nothing rendered at all.
  const lost = await image(0);
  // Its thumbnails rendered; the variants job failed on every delivery (S3 refused its writes) and
  // went to the dead-letter queue.
  const failing = await image(1);
  await world().render(
    failing.jobs.filter((job) => job.lane === 'thumbnails'),
    settings,
  );
  // Unrenderable: failed for good, which takes it out of the upkeep index.
  const broken = await image(2);
  await world().catalog.failImage(broken.imageId, { reason: 'truncated', message: 'the file ends early' });
  expect((await world().catalog.unsettledImages()).items).not.toContain(broken.imageId);

  // Within the hour their renders may still be on their way: read, nothing queued twice.
  const early = deployedUpkeep(world(), settings);
  expect(await early.run()).toMatchObject({ images: 2, requeued: 0 });
  expect(early.jobs).toEqual([]);
  expect(
    itemsRead(early.reads)
      .filter((key) => key.startsWith('IMAGE#'))
      .sort(),
  ).toEqual([lost.imageId, lost.imageId, failing.imageId, failing.imageId].map(imageKey).sort());

  // Past the stuck-after time the hourly run queues exactly what is missing again.
  const hourly = deployedUpkeep(world(), settings, later);
  expect(await hourly.run()).toMatchObject({ images: 2, requeued: 2, left: { failed: 0 } });
  expect(lanesOf(hourly.jobs, lost.imageId).sort()).toEqual(['thumbnails', 'variants']);
  expect(lanesOf(hourly.jobs, failing.imageId)).toEqual(['variants']);

  await world().render(hourly.jobs, settings);
  for (const { imageId } of [lost, failing]) {
    expect((await world().catalog.getImage(imageId))?.settledOn).toBe(upkeepVersion(settings));
  }
  await expectAtRest(later);
});

it('files images a catalog from before the index holds (no upkeep key) on the operator’s full pass', async () => {
  const { imageId, jobs } = await world().ingest(
    await makeImage('jpeg', { width: 320, height: 240, seed: firstSeed() + 10 }),
    uniqueOwner('legacy'),
    settings,
  );
  await world().render(jobs, settings);
  await world().clients.dynamo.send(
    new UpdateCommand({
      TableName: world().twin.resources.table,
      Key: catalogKeys.image(imageId),
      UpdateExpression: 'REMOVE #key',
      ExpressionAttributeNames: { '#key': CATALOG_TABLE.upkeepIndex.partitionKey },
    }),
  );
  expect((await world().catalog.getImage(imageId))?.settledOn).toBeUndefined();
  // Invisible to the scheduled upkeep, which reads nothing.
  await expectAtRest();

  const run = await aperture(['reprocess'], world().env(settings));
  expect(run.status).toBe(0);
  expect((await world().catalog.getImage(imageId))?.settledOn).toBe(upkeepVersion(settings));
  const filed: string[] = [];
  for await (const id of allItems((cursor) =>
    world().catalog.imagesSettledOn(upkeepVersion(settings), cursor),
  ))
    filed.push(id);
  expect(filed).toContain(imageId);
});

it('gives a catalog table kept from before the upkeep its index, filled from the images that carry a key', async () => {
  const { dynamodb } = world().twin.endpoints;
  const admin = new DynamoDBClient({
    region: TWIN_REGION,
    credentials: TWIN_CREDENTIALS,
    endpoint: dynamodb,
  });
  const table = world().twin.resources.table;
  const { name } = CATALOG_TABLE.upkeepIndex;
  const indexes = async () =>
    (
      (await admin.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? []
    ).map((index) => index.IndexName);
  try {
    const { imageId } = await world().ingest(
      await makeImage('jpeg', { width: 320, height: 240, seed: firstSeed() + 20 }),
      uniqueOwner('kept'),
      settings,
    );
    await admin.send(
      new UpdateTableCommand({
        TableName: table,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: name } }],
      }),
    );
    await until(async () => !(await indexes()).includes(name), 'the upkeep index gone');

    await provisionTwin(world().twin.endpoints, TWIN_REGION);
    expect(await indexes()).toContain(name);
    expect((await world().catalog.unsettledImages()).items).toContain(imageId);
    // Left at rest for the other tests: failed, it leaves the index.
    await world().catalog.failImage(imageId, { reason: 'truncated', message: 'set aside by this test' });
  } finally {
    admin.destroy();
  }
});
