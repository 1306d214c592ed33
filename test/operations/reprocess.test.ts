import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { derivativeKey } from '../../lambdas/core/keys.js';
import { type RenderJob, renderJobSchema, WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { parseSettings, type Settings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec, variantSetVersion } from '../../lambdas/core/variants.js';
import type { WorkQueue } from '../../lambdas/ports/work-queue.js';
import { type ReprocessReport, reprocessImages } from '../../lambdas/services/reprocess-images.js';
import { imageRecord } from '../support/catalog-records.js';
import { makeImage } from '../support/images.js';
import { firstSeed } from '../support/isolation.js';
import { aperture, privateWorldForFile, sha256 } from '../support/operations.js';

const HOUR = 3_600_000;
const everyFormat = (quality: number) =>
  (['avif', 'webp', 'jpeg'] as const).map((format) => ({ format, quality }));
const square: VariantSpec = {
  name: 'square',
  fit: 'cover',
  width: 600,
  height: 600,
  formats: everyFormat(70),
};
const mini: VariantSpec = { name: 'mini', fit: 'inside', width: 160, height: 160, formats: everyFormat(70) };

/** The default set; then two variants added (one per lane); then `small` made larger. */
const original = parseSettings();
const extended = parseSettings({ variants: [...DEFAULT_VARIANTS, square, mini] });
const largerSmall = parseSettings({
  variants: extended.variants.map((v) => (v.name === 'small' ? { ...v, width: 720, height: 720 } : v)),
});

const world = privateWorldForFile();
let seed = firstSeed();

/** An image ingested and rendered for real with `settings`: every variant stored, the image `ready`. */
async function renderedImage(settings: Settings, width = 1280, height = 960): Promise<string> {
  const bytes = await makeImage('jpeg', { width, height, seed: seed++ });
  const { imageId, jobs } = await world().ingest(bytes, `owner-${seed}`, settings);
  await world().render(jobs, settings);
  expect((await world().catalog.getImage(imageId))?.status).toBe('ready');
  return imageId;
}

/** Reprocess with `settings`, its jobs captured at the port. */
async function reprocess(
  settings: Settings,
  options: { prune?: boolean; now?: () => Date; queue?: WorkQueue } = {},
): Promise<{ report: ReprocessReport; jobs: RenderJob[] }> {
  const jobs: RenderJob[] = [];
  const report = await reprocessImages(
    {
      settings,
      catalog: world().catalog,
      inventory: world().inventory,
      queue: options.queue ?? { enqueue: async (queued) => void jobs.push(...queued) },
      now: options.now ?? (() => new Date()),
    },
    { scope: 'all', dryRun: false, prune: options.prune ?? false, stuckAfterMs: HOUR, concurrency: 4 },
  );
  return { report, jobs };
}

const keysOf = (imageId: string, ...variants: VariantSpec[]) =>
  variants.flatMap((variant) => variant.formats.map(({ format }) => derivativeKey(imageId, variant, format)));
const named = (settings: Settings, name: string) =>
  settings.variants.find((v) => v.name === name) as VariantSpec;
const jobsFor = (jobs: readonly RenderJob[], imageId: string) =>
  jobs
    .filter((job) => job.imageId === imageId)
    .map((job) => ({ lane: job.lane, variants: job.variants }))
    .sort((a, b) => a.lane.localeCompare(b.lane));

describe('aperture reprocess', () => {
  let imageId: string;

  it('renders exactly the variants a new set adds, keeps the image ready meanwhile, and then has nothing to do', async () => {
    imageId = await renderedImage(original);
    const before = await world().derivatives(imageId);

    const dryRun = await aperture(['reprocess', '--dry-run', '--json'], world().env(extended));
    expect(dryRun.status).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toMatchObject({
      dryRun: true,
      moved: 1,
      jobs: { thumbnails: 1, variants: 1 },
      variants: { mini: 1, square: 1 },
    });
    expect((await world().catalog.getImage(imageId))?.variantSetVersion).toBe(
      variantSetVersion(original.variants),
    );

    const { report, jobs } = await reprocess(extended);
    expect(report).toMatchObject({ images: 1, moved: 1, current: 0, jobs: { thumbnails: 1, variants: 1 } });
    expect(jobsFor(jobs, imageId)).toEqual([
      { lane: 'thumbnails', variants: ['mini'] },
      { lane: 'variants', variants: ['square'] },
    ]);
    // On the new set, still served: the stored variants ready, the new ones pending.
    expect(await world().catalog.getImage(imageId)).toMatchObject({
      status: 'ready',
      variantSetVersion: variantSetVersion(extended.variants),
      variants: {
        thumb: 'ready',
        small: 'ready',
        medium: 'ready',
        large: 'ready',
        square: 'pending',
        mini: 'pending',
      },
    });

    const written = await world().render(jobs, extended);
    expect(written).toEqual(keysOf(imageId, square, mini).sort());
    const after = await world().derivatives(imageId);
    for (const [key, eTag] of before) expect(after.get(key), key).toBe(eTag);
    expect([...after.keys()].sort()).toEqual([...before.keys(), ...written].sort());
    expect(await world().catalog.getImage(imageId)).toMatchObject({
      status: 'ready',
      variants: { square: 'ready', mini: 'ready' },
    });

    const again = await reprocess(extended);
    expect(again.jobs).toEqual([]);
    expect(again.report).toMatchObject({ moved: 0, requeued: 0, current: 1 });
  });

  it('renders a variant whose spec changed, and prunes its old revision only once the new one is stored', async () => {
    const oldSmall = keysOf(imageId, named(extended, 'small'));
    const { jobs } = await reprocess(largerSmall);
    expect(jobsFor(jobs, imageId)).toEqual([{ lane: 'variants', variants: ['small'] }]);
    expect((await world().catalog.getImage(imageId))?.variants.small).toBe('pending');

    // Not complete on the new set yet: the old revision is what there is, and stays.
    const early = await reprocess(largerSmall, { prune: true });
    expect(early.report.pruned.objects).toBe(0);
    expect([...(await world().derivatives(imageId)).keys()]).toEqual(expect.arrayContaining(oldSmall));

    const written = await world().render(jobs, largerSmall);
    expect(written).toEqual(keysOf(imageId, named(largerSmall, 'small')).sort());
    const before = await world().derivatives(imageId);
    const pruned = await aperture(['reprocess', '--prune', '--json'], world().env(largerSmall));
    expect(pruned.status).toBe(0);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ moved: 0, pruned: { objects: 3 } });
    const after = await world().derivatives(imageId);
    expect([...after.keys()].sort()).toEqual(
      [...before.keys()].filter((key) => !oldSmall.includes(key)).sort(),
    );
    expect([...after.keys()].sort()).toEqual(keysOf(imageId, ...largerSmall.variants).sort());

    const again = await reprocess(largerSmall, { prune: true });
    expect(again.report.pruned.objects).toBe(0);
  });

  it('queues each job once when two runs race', async () => {
    const raced = await renderedImage(original, 800, 600);
    const jobs: RenderJob[] = [];
    const queue: WorkQueue = { enqueue: async (queued) => void jobs.push(...queued) };
    const [first, second] = await Promise.all([
      reprocess(extended, { queue }),
      reprocess(extended, { queue }),
    ]);
    expect(jobsFor(jobs, raced)).toEqual([
      { lane: 'thumbnails', variants: ['mini'] },
      { lane: 'variants', variants: ['square'] },
    ]);
    expect(first.report.left.changed + second.report.left.changed).toBe(0);
  });

  it('finishes what an interrupted run left, once its renders count as stalled', async () => {
    const interrupted = await renderedImage(original, 800, 600);
    const crash: WorkQueue = {
      enqueue: async () => {
        throw new Error('the operator pressed Ctrl-C');
      },
    };
    await expect(reprocess(extended, { queue: crash })).rejects.toThrow(/Ctrl-C/);
    const moved = await world().catalog.getImage(interrupted);
    expect(moved?.variantSetVersion).toBe(variantSetVersion(extended.variants));
    expect(moved?.variants).toMatchObject({ square: 'pending', mini: 'pending' });

    // Right away its jobs might still be on their way: nothing is queued twice.
    expect(jobsFor((await reprocess(extended)).jobs, interrupted)).toEqual([]);
    const later = () => new Date(Date.now() + 2 * HOUR);
    const resumed = await reprocess(extended, { now: later });
    expect(jobsFor(resumed.jobs, interrupted)).toEqual([
      { lane: 'thumbnails', variants: ['mini'] },
      { lane: 'variants', variants: ['square'] },
    ]);
    expect(resumed.report.requeued).toBeGreaterThanOrEqual(1);
    expect(jobsFor((await reprocess(extended, { now: later })).jobs, interrupted)).toEqual([]);
  });

  it('leaves failed images, images being deleted and images still in ingest as they are', async () => {
    const planted = [
      imageRecord(sha256('failed'), original, { status: 'failed' }),
      imageRecord(sha256('deleting'), original, { refCount: 0, deletingSince: new Date() }),
      imageRecord(sha256('ingesting'), original, { status: 'processing', jobsQueuedAt: undefined }),
    ];
    for (const image of planted) await world().put({ image });
    const { report, jobs } = await reprocess(extended);
    expect(report.left).toEqual({ failed: 1, deleting: 1, ingesting: 1, changed: 0 });
    for (const image of planted) {
      expect(jobsFor(jobs, image.imageId)).toEqual([]);
      expect((await world().catalog.getImage(image.imageId))?.variantSetVersion).toBe(
        image.variantSetVersion,
      );
    }
  });

  it('queues its jobs on the lanes’ queues from the command line', async () => {
    const queued = await renderedImage(original, 800, 600);
    const run = await aperture(['reprocess', '--rate', '100/s'], world().env(extended));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/moved to the set {2,}1$/m);
    const received: RenderJob[] = [];
    for (const lane of WORK_LANES) {
      const { Messages = [] } = await world().clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: world().twin.resources.queues[lane].url,
          MaxNumberOfMessages: 10,
        }),
      );
      received.push(...Messages.map((message) => renderJobSchema.parse(JSON.parse(message.Body ?? ''))));
    }
    expect(jobsFor(received, queued)).toEqual([
      { lane: 'thumbnails', variants: ['mini'] },
      { lane: 'variants', variants: ['square'] },
    ]);
  });
});
