import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { type RenderJob, renderJobSchema, WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { upkeepVersion } from '../../lambdas/core/upkeep.js';
import { DEFAULT_VARIANTS, type VariantSpec, variantSetVersion } from '../../lambdas/core/variants.js';
import * as scheduledFunction from '../../lambdas/handlers/reprocess.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { privateWorldForFile } from '../support/operations.js';
import { scheduledEvent } from '../support/upkeep.js';

// The hourly run as deployed: EventBridge's event to the function's own handler and its adapters.
// It moves every stale image there is, so it gets a twin of its own.
const world = privateWorldForFile();

const deployedBefore = parseSettings();
const square: VariantSpec = {
  name: 'square',
  fit: 'cover',
  width: 600,
  height: 600,
  formats: [{ format: 'webp', quality: 70 }],
};
const deployedNow = parseSettings({ variants: [...DEFAULT_VARIANTS, square] });

/** Every job on the twin's work queues, taken off them. */
async function queuedJobs(): Promise<RenderJob[]> {
  const jobs: RenderJob[] = [];
  for (const lane of WORK_LANES) {
    for (;;) {
      const { Messages = [] } = await world().clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: world().twin.resources.queues[lane].url,
          MaxNumberOfMessages: 10,
        }),
      );
      if (Messages.length === 0) break;
      jobs.push(...Messages.map((message) => renderJobSchema.parse(JSON.parse(message.Body ?? ''))));
    }
  }
  return jobs;
}

it('moves an image of an older variant set to the deployed one, queueing only the variant it lacks', async () => {
  const bytes = await makeImage('jpeg', { width: 1280, height: 960, seed: firstSeed() });
  const { imageId, jobs } = await world().ingest(bytes, uniqueOwner('owner'), deployedBefore);
  await world().render(jobs, deployedBefore);
  // The deployment before ran its upkeep too (its deploy started it), which recorded its version.
  const before = scheduledFunction.createReprocessHandler(
    scheduledFunction.reprocessDependenciesFromEnvironment(world().env(deployedBefore)),
  );
  expect(await before(scheduledEvent(), lambdaContext('aperture-reprocess'))).toMatchObject({ images: 0 });
  const handler = scheduledFunction.createReprocessHandler(
    scheduledFunction.reprocessDependenciesFromEnvironment(world().env(deployedNow)),
  );

  const report = await handler(scheduledEvent(), lambdaContext('aperture-reprocess'));
  expect(report).toMatchObject({
    variantSetVersion: variantSetVersion(deployedNow.variants),
    dryRun: false,
    images: 1,
    moved: 1,
    jobs: { thumbnails: 0, variants: 1 },
    variants: { square: 1 },
  });
  expect(await world().catalog.getImage(imageId)).toMatchObject({
    status: 'ready',
    variantSetVersion: variantSetVersion(deployedNow.variants),
    variants: { thumb: 'ready', small: 'ready', medium: 'ready', large: 'ready', square: 'pending' },
  });
  const queued = await queuedJobs();
  expect(queued.map(({ imageId, lane, variants }) => ({ imageId, lane, variants }))).toEqual([
    { imageId, lane: 'variants', variants: ['square'] },
  ]);

  // The next hour's run finds the image on the set, its render under way (unsettled until it
  // lands), and queues nothing.
  const next = await handler(scheduledEvent(), lambdaContext('aperture-reprocess'));
  expect(next).toMatchObject({
    images: 1,
    moved: 0,
    current: 1,
    requeued: 0,
    jobs: { thumbnails: 0, variants: 0 },
  });
  expect(await queuedJobs()).toEqual([]);

  // Once the render lands the image is settled, and a run reads nothing.
  await world().render(queued, deployedNow);
  expect((await world().catalog.getImage(imageId))?.settledOn).toBe(upkeepVersion(deployedNow));
  expect(await handler(scheduledEvent(), lambdaContext('aperture-reprocess'))).toMatchObject({ images: 0 });
});
