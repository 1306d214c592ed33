import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { UPLOADS_PREFIX } from '../../lambdas/contract.js';
import { derivativeKey, derivativesPrefix, originalKey, uploadKey } from '../../lambdas/core/keys.js';
import { renderJobSchema } from '../../lambdas/core/render-jobs.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { type Finding, findInconsistencies } from '../../lambdas/services/reconcile/findings.js';
import type { ReconcileReport } from '../../lambdas/services/reconcile/reconcile.js';
import { repairFinding } from '../../lambdas/services/reconcile/repairs.js';
import { imageRecord } from '../support/catalog-records.js';
import { makeImage } from '../support/images.js';
import { aperture, link, privateWorldForFile, sha256, uploadRecord } from '../support/operations.js';
import { HOUR, later, settings, skippedAll, variant } from '../support/reconcile.js';

const world = privateWorldForFile();

const reconcile = async (...flags: string[]) => {
  const run = await aperture(['reconcile', '--json', ...flags], world().env(settings), later);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as ReconcileReport;
};

/** A finding as comparable data: what it is about, without keys or dates. */
const summary = (finding: Finding): string => {
  switch (finding.kind) {
    case 'dangling_link':
      return `${finding.kind} ${finding.owner} ${finding.imageId}`;
    case 'ref_count_mismatch':
      return `${finding.kind} ${finding.imageId} ${finding.refCount}/${finding.links}`;
    case 'missing_variants':
      return `${finding.kind} ${finding.imageId} gone:${finding.absent} stalled:${finding.stalled}`;
    case 'abandoned_upload':
      return `${finding.kind} ${finding.key} ${finding.state}`;
    default:
      return `${finding.kind} ${finding.imageId}`;
  }
};

/** What the reconcile service needs, on this file's world, with repairs that touch nothing but the catalog. */
const inertRepairs = () => ({
  settings,
  catalog: world().catalog,
  inventory: world().inventory,
  queue: { enqueue: async () => {} },
  objects: { deleteAll: async () => 0 },
  cdn: undefined,
  now: later,
});

const listKeys = async (bucket: string, prefix: string) => {
  const { Contents = [] } = await world().clients.s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }),
  );
  return Contents.map((object) => object.Key ?? '');
};

describe('aperture reconcile', () => {
  it('reports each planted inconsistency, repairs each with --fix, and then finds nothing', async () => {
    const images = world().twin.resources.imageBucket;
    const uploads = world().twin.resources.uploadBucket;
    const id = (name: string) => sha256(`reconcile-${name}`);

    // Consistent: ingested and rendered for real.
    const healthy = await world().ingest(
      await makeImage('jpeg', { width: 900, height: 600, seed: 31 }),
      'h',
      settings,
    );
    await world().render(healthy.jobs, settings);
    const healthyBefore = await world().derivatives(healthy.imageId);
    // Rendered for real, then one derivative lost.
    const lossy = await world().ingest(
      await makeImage('jpeg', { width: 900, height: 600, seed: 32 }),
      'v',
      settings,
    );
    await world().render(lossy.jobs, settings);
    const lostKey = derivativeKey(lossy.imageId, variant('small'), 'webp');
    await world().clients.s3.send(new DeleteObjectCommand({ Bucket: images, Key: lostKey }));

    // Objects without a record.
    const orphanOriginal = originalKey(id('orphan-original'));
    await world().putObject('images', orphanOriginal, 50);
    const orphanDerived = [
      derivativeKey(id('orphan-derived'), variant('thumb'), 'webp'),
      derivativeKey(id('orphan-derived'), variant('thumb'), 'jpeg'),
    ];
    for (const key of orphanDerived) await world().putObject('images', key, 40);
    // A record whose original is gone.
    await world().put({
      image: imageRecord(id('no-original'), settings),
      link: link('m', id('no-original')),
    });
    // Renders that stalled: thumbnails done, the rest pending since long before `later`.
    const stalled = id('stalled');
    await world().put({
      image: imageRecord(stalled, settings, {
        status: 'processing',
        variants: { thumb: 'ready', small: 'pending', medium: 'pending', large: 'pending' },
      }),
      link: link('s', stalled),
    });
    await world().putObject('images', originalKey(stalled), 100);
    for (const { format } of variant('thumb').formats)
      await world().putObject('images', derivativeKey(stalled, variant('thumb'), format), 10);
    // Every variant done long ago, but never marked ready.
    const unmarked = id('unmarked');
    await world().put({
      image: imageRecord(unmarked, settings, { status: 'processing', variants: skippedAll }),
      link: link('u', unmarked),
    });
    await world().putObject('images', originalKey(unmarked), 100);
    // Links to no image, and to one being deleted whose purge never finished.
    const deleting = id('deleting');
    await world().put({ link: link('d', id('never-existed')) });
    await world().put({
      image: imageRecord(deleting, settings, { refCount: 0, deletingSince: new Date(Date.now() - 2 * HOUR) }),
      link: link('g', deleting),
    });
    await world().putObject('images', originalKey(deleting), 100);
    await world().putObject('images', derivativeKey(deleting, variant('thumb'), 'webp'), 10);
    // A count one too high, and an image nobody links.
    const miscounted = id('miscounted');
    await world().put({ image: imageRecord(miscounted, settings, { refCount: 3, variants: skippedAll }) });
    await world().put({ link: link('r1', miscounted) });
    await world().put({ link: link('r2', miscounted) });
    await world().putObject('images', originalKey(miscounted), 100);
    const unlinked = id('unlinked');
    await world().put({ image: imageRecord(unlinked, settings, { variants: skippedAll }) });
    await world().putObject('images', originalKey(unlinked), 100);
    // Upload bytes no ingest will take: never ingested, unknown, and left behind by an accepted upload.
    const pending = newUploadId();
    const accepted = newUploadId();
    await world().put({ upload: uploadRecord('pending', { uploadId: pending }) });
    await world().put({ upload: uploadRecord('accepted', { uploadId: accepted, imageId: healthy.imageId }) });
    const unknownUpload = uploadKey(newUploadId());
    for (const key of [uploadKey(pending), uploadKey(accepted), unknownUpload])
      await world().putObject('uploads', key, 10);

    const expected = [
      `dangling_link d ${id('never-existed')}`,
      `dangling_link g ${deleting}`,
      `ref_count_mismatch ${miscounted} 3/2`,
      `unlinked_image ${unlinked}`,
      `stuck_deletion ${deleting}`,
      `missing_original ${id('no-original')}`,
      `missing_variants ${lossy.imageId} gone:small stalled:`,
      `missing_variants ${stalled} gone: stalled:small,medium,large`,
      `unmarked_ready ${unmarked}`,
      `orphan_original ${id('orphan-original')}`,
      `orphan_derivatives ${id('orphan-derived')}`,
      `abandoned_upload ${uploadKey(pending)} pending`,
      `abandoned_upload ${uploadKey(accepted)} accepted`,
      `abandoned_upload ${unknownUpload} unknown`,
    ];

    // Right now, the young objects and the recently queued renders may be work under way: not judged yet.
    const young = [
      `missing_variants ${stalled} gone: stalled:small,medium,large`,
      `unmarked_ready ${unmarked}`,
      `unmarked_ready ${unmarked}`,
      `orphan_original ${id('orphan-original')}`,
      `orphan_derivatives ${id('orphan-derived')}`,
    ];
    const now = await aperture(['reconcile', '--json'], world().env(settings));
    expect((JSON.parse(now.stdout) as ReconcileReport).findings.map(summary).sort()).toEqual(
      expected
        .filter((finding) => !young.includes(finding) && !finding.startsWith('abandoned_upload'))
        .sort(),
    );

    const dryRun = await reconcile();
    expect(dryRun.findings.map(summary).sort()).toEqual([...expected].sort());
    expect(dryRun.repaired).toEqual(Object.fromEntries(Object.keys(dryRun.found).map((kind) => [kind, 0])));
    expect(await listKeys(images, orphanOriginal)).toEqual([orphanOriginal]);

    const fixed = await reconcile('--fix');
    expect(fixed.findings.map(summary).sort()).toEqual([...expected].sort());
    expect(fixed.repaired).toEqual(fixed.found);
    expect(Object.values(fixed.cleared).every((n) => n === 0)).toBe(true);
    expect(fixed.jobs).toEqual({ thumbnails: 0, variants: 2 });

    // Each repair, as it should be.
    expect(await listKeys(images, orphanOriginal)).toEqual([]);
    expect(await listKeys(images, derivativesPrefix(id('orphan-derived')))).toEqual([]);
    expect(await world().catalog.getImage(id('no-original'))).toMatchObject({
      status: 'failed',
      failure: { reason: 'original_missing' },
    });
    expect(await world().catalog.findLink('d', id('never-existed'))).toBeUndefined();
    expect(await world().catalog.getImage(deleting)).toBeUndefined();
    expect(await listKeys(images, originalKey(deleting))).toEqual([]);
    expect(await listKeys(images, derivativesPrefix(deleting))).toEqual([]);
    expect((await world().catalog.getImage(miscounted))?.refCount).toBe(2);
    expect(await world().catalog.getImage(unlinked)).toBeUndefined();
    expect(await listKeys(images, originalKey(unlinked))).toEqual([]);
    expect(await world().catalog.getUpload(pending)).toMatchObject({
      state: 'rejected',
      rejection: { reason: 'abandoned' },
    });
    expect(await listKeys(uploads, UPLOADS_PREFIX)).toEqual([]);
    expect(await world().catalog.getImage(stalled)).toMatchObject({ jobsQueuedAt: expect.any(Date) });
    expect((await world().catalog.getImage(unmarked))?.status).toBe('ready');
    expect(await world().derivatives(healthy.imageId)).toEqual(healthyBefore);
    expect(await world().catalog.getImage(healthy.imageId)).toMatchObject({ status: 'ready', refCount: 1 });

    // The lost derivative's image is pending again; its job, taken off the queue and rendered, restores it.
    expect((await world().catalog.getImage(lossy.imageId))?.variants.small).toBe('pending');
    const { Messages = [] } = await world().clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: world().twin.resources.queues.variants.url,
        MaxNumberOfMessages: 10,
      }),
    );
    const jobs = Messages.map((message) => renderJobSchema.parse(JSON.parse(message.Body ?? '')));
    expect(jobs.map((job) => [job.imageId, job.variants])).toEqual(
      expect.arrayContaining([
        [lossy.imageId, ['small']],
        [stalled, ['small', 'medium', 'large']],
      ]),
    );
    const written = await world().render(
      jobs.filter((job) => job.imageId === lossy.imageId),
      settings,
    );
    expect(written).toContain(lostKey);
    expect(await world().catalog.getImage(lossy.imageId)).toMatchObject({
      status: 'ready',
      variants: { small: 'ready' },
    });

    const after = await reconcile('--fix');
    expect(after.findings).toEqual([]);
    const text = await aperture(['reconcile'], world().env(settings), later);
    expect(text.stdout).toMatch(/^The catalog and the buckets agree\./);
  });

  it('clears, without touching anything, a finding that no longer holds when it is repaired', async () => {
    const imageId = (
      await world().ingest(await makeImage('jpeg', { width: 300, height: 200, seed: 33 }), 'c', settings)
    ).imageId;
    const deps = inertRepairs();
    const context = { stuckAfterMs: HOUR, linkCounts: new Map([[imageId, 1]]) };
    const stale: Finding[] = [
      // The scan saw no record and no link; since then the image was created with its link.
      { kind: 'orphan_original', imageId, key: originalKey(imageId) },
      { kind: 'dangling_link', owner: 'c', imageId },
      { kind: 'unlinked_image', imageId, refCount: 1 },
      // The second scan counted one link, not the first scan's two.
      { kind: 'ref_count_mismatch', imageId, refCount: 1, links: 2 },
      { kind: 'missing_original', imageId },
    ];
    for (const finding of stale) {
      expect(await repairFinding(deps, finding, context), finding.kind).toEqual({ repaired: false });
    }
    expect(await world().catalog.getImage(imageId)).toMatchObject({ status: 'processing', refCount: 1 });
    expect(await world().catalog.findLink('c', imageId)).toBeDefined();
    expect(await listKeys(world().twin.resources.imageBucket, originalKey(imageId))).toEqual([
      originalKey(imageId),
    ]);
  });

  it('gives a multipart upload its whole lifetime before calling its object abandoned', async () => {
    // S3 dates a multipart object from the upload's start, and it may be completed until the upload
    // is aborted (`multipartUploadDays`): seven hours on, a single upload's bytes are abandoned, its not.
    const single = newUploadId();
    const multipart = newUploadId();
    await world().put({ upload: uploadRecord('pending', { uploadId: single }) });
    await world().put({
      upload: uploadRecord('pending', {
        uploadId: multipart,
        multipart: { s3UploadId: 'from-s3', partSize: 8 << 20, partCount: 1 },
      }),
    });
    for (const id of [single, multipart]) await world().putObject('uploads', uploadKey(id), 10);
    const abandoned = async (hoursOn: number) => {
      const run = await aperture(
        ['reconcile', '--json'],
        world().env(settings),
        () => new Date(Date.now() + hoursOn * HOUR),
      );
      expect([run.status, run.stderr]).toEqual([0, '']);
      return (JSON.parse(run.stdout) as ReconcileReport).findings
        .filter((finding) => finding.kind === 'abandoned_upload')
        .map((finding) => ('uploadId' in finding ? finding.uploadId : undefined))
        .filter((id) => id === single || id === multipart)
        .sort();
    };

    expect(await abandoned(7)).toEqual([single]);
    const lifetimeHours = settings.multipartUploadDays * 24 + 7;
    expect(await abandoned(lifetimeHours)).toEqual([single, multipart].sort());
  });

  it('leaves orphans younger than --grace alone, however short --stuck-after is, and deletes them after', async () => {
    const images = world().twin.resources.imageBucket;
    const orphan = sha256('reconcile-young-orphan');
    const original = originalKey(orphan);
    const derived = derivativeKey(orphan, variant('thumb'), 'webp');
    await world().putObject('images', original, 50);
    await world().putObject('images', derived, 40);
    // Ten minutes on, with stalled work judged after one: the orphans are ten minutes old.
    const tenMinutesOn = () => new Date(Date.now() + 10 * 60_000);
    const fix = async (...flags: string[]) => {
      const run = await aperture(
        ['reconcile', '--json', '--fix', '--stuck-after', '1m', ...flags],
        world().env(settings),
        tenMinutesOn,
      );
      expect([run.status, run.stderr]).toEqual([0, '']);
      const report = JSON.parse(run.stdout) as ReconcileReport;
      return report.findings.filter((finding) => 'imageId' in finding && finding.imageId === orphan);
    };

    expect(await fix()).toEqual([]);
    expect(await listKeys(images, derivativesPrefix(orphan))).toEqual([derived]);
    expect(await listKeys(images, original)).toEqual([original]);

    expect((await fix('--grace', '5m')).map(summary).sort()).toEqual([
      `orphan_derivatives ${orphan}`,
      `orphan_original ${orphan}`,
    ]);
    expect(await listKeys(images, derivativesPrefix(orphan))).toEqual([]);
    expect(await listKeys(images, original)).toEqual([]);

    const wrong = await aperture(['reconcile', '--grace', 'soon'], world().env(settings));
    expect([wrong.status, wrong.stderr]).toEqual([2, expect.stringContaining('--grace takes a duration')]);
  });

  it('keeps an orphan original that a first-time ingest of its bytes stores between the scan and the fix', async () => {
    const bytes = await makeImage('jpeg', { width: 300, height: 200, seed: 34 });
    const imageId = sha256(bytes);
    const images = world().twin.resources.imageBucket;
    // Left behind by an image deleted long ago.
    await world().clients.s3.send(
      new PutObjectCommand({ Bucket: images, Key: originalKey(imageId), Body: bytes }),
    );
    const deps = inertRepairs();
    const { findings } = await findInconsistencies(deps, { stuckAfterMs: HOUR, graceMs: HOUR });
    const orphan = findings.find(
      (finding) => finding.kind === 'orphan_original' && finding.imageId === imageId,
    );
    expect(orphan).toBeDefined();

    // Someone uploads those bytes again: the image is new, and its ingest stores the original afresh.
    await world().ingest(bytes, 'k', settings);
    const context = { stuckAfterMs: HOUR, linkCounts: new Map<string, number>() };
    expect(await repairFinding(deps, orphan as Finding, context)).toEqual({ repaired: false });
    const { Body } = await world().clients.s3.send(
      new GetObjectCommand({ Bucket: images, Key: originalKey(imageId) }),
    );
    expect(Buffer.from((await Body?.transformToByteArray()) ?? [])).toEqual(bytes);
    expect(await world().catalog.getImage(imageId)).toMatchObject({ status: 'processing', refCount: 1 });
  });
});
