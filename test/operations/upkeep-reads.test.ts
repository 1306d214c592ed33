import { expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { CATALOG_TABLE } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { upkeepVersion } from '../../lambdas/core/upkeep.js';
import { DEFAULT_VARIANTS, variantSetVersion } from '../../lambdas/core/variants.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { privateWorldForFile } from '../support/operations.js';
import { deployedUpkeep, itemsRead } from '../support/upkeep.js';

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
const HOUR = 3_600_000;
const { shards } = CATALOG_TABLE.upkeepIndex;
const imageKey = (imageId: string) => catalogKeys.image(imageId).pk;

it('reads no item at rest, and after a variant set change reads and moves only what is outstanding', async () => {
  const owner = uniqueOwner('upkeep');
  const seed = firstSeed();
  const stale: string[] = [];
  for (const offset of [0, 1, 2]) {
    const bytes = await makeImage('jpeg', { width: 640, height: 480, seed: seed + offset });
    const { imageId, jobs } = await world().ingest(bytes, owner, before);
    await world().render(jobs, before);
    stale.push(imageId);
  }
  // The render that finished each image filed it as settled: the upkeep never needs to read it.
  for (const imageId of stale) {
    expect((await world().catalog.getImage(imageId))?.settledOn).toBe(upkeepVersion(before));
  }

  // At rest: one empty query per shard of the unsettled images, two empty ranges around the
  // current version's record, and not one item read.
  for (const run of [deployedUpkeep(world(), before), deployedUpkeep(world(), before)]) {
    expect(await run.run()).toMatchObject({ images: 0, moved: 0, settled: 0 });
    expect(itemsRead(run.reads)).toEqual([]);
    expect(run.reads.map((read) => read.command)).toEqual(Array(shards + 2).fill('QueryCommand'));
  }

  // An image ingested after the deploy is on the new set already; its renders have not run yet.
  const fresh = await world().ingest(
    await makeImage('jpeg', { width: 640, height: 480, seed: seed + 3 }),
    owner,
    after,
  );

  const deployed = deployedUpkeep(world(), after);
  expect(await deployed.run()).toMatchObject({
    variantSetVersion: variantSetVersion(after.variants),
    images: 4,
    moved: 3,
    current: 1,
    variants: { square: 3 },
  });
  // Each image read twice, its key from the index, then the image itself; the old version's record.
  expect(itemsRead(deployed.reads).sort()).toEqual(
    [...stale, ...stale, fresh.imageId, fresh.imageId]
      .map(imageKey)
      .concat(CATALOG_TABLE.upkeepVersions.partition)
      .sort(),
  );
  for (const imageId of stale) {
    const moved = await world().catalog.getImage(imageId);
    expect(moved).toMatchObject({
      variantSetVersion: variantSetVersion(after.variants),
      settledOn: undefined,
    });
  }

  // The renders settle every image; the old version is retired once the new one has been deployed
  // longer than renders may take, and from then on a run reads no item again.
  await world().render([...deployed.jobs, ...fresh.jobs], after);
  for (const imageId of [...stale, fresh.imageId]) {
    expect((await world().catalog.getImage(imageId))?.settledOn).toBe(upkeepVersion(after));
  }
  const soon = deployedUpkeep(world(), after);
  expect(await soon.run()).toMatchObject({ images: 0 });
  expect(new Set(itemsRead(soon.reads))).toEqual(new Set([CATALOG_TABLE.upkeepVersions.partition]));
  const later = () => new Date(Date.now() + 2 * HOUR);
  const retiring = deployedUpkeep(world(), after, later);
  expect(await retiring.run()).toMatchObject({ images: 0 });
  const atRest = deployedUpkeep(world(), after, later);
  expect(await atRest.run()).toMatchObject({ images: 0 });
  expect(itemsRead(atRest.reads)).toEqual([]);
});
