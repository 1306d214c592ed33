import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECONCILE_SCAN_SEGMENTS } from '../../lambdas/contract.js';
import { derivativeKey, originalKey, uploadKey } from '../../lambdas/core/keys.js';
import { type ReconcileSlice, reconcileSlices } from '../../lambdas/core/reconcile-slices.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { createReconcileSliceHandler, reconcileBatch } from '../../lambdas/handlers/reconcile-slice.js';
import type { Finding } from '../../lambdas/services/reconcile/findings.js';
import {
  combineReports,
  type ReconcileReport,
  reconcile,
} from '../../lambdas/services/reconcile/reconcile.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { imageRecord } from '../support/catalog-records.js';
import { makeImage } from '../support/images.js';
import { aperture, link, privateWorldForFile, sha256, uploadRecord } from '../support/operations.js';
import { HOUR, later, settings, skippedAll, variant } from '../support/reconcile.js';

const options = { fix: false, stuckAfterMs: HOUR, graceMs: HOUR };

const world = privateWorldForFile();

/** What the services need on this file's world; a dry run never calls the writing ones. */
const deps = () => ({
  settings,
  catalog: world().catalog,
  inventory: world().inventory,
  queue: { enqueue: async () => {} },
  objects: { deleteAll: async () => 0 },
  cdn: undefined,
  now: later,
});

/** A finding as comparable data: what it is about, without dates. */
const summary = (finding: Finding): string => {
  switch (finding.kind) {
    case 'dangling_link':
      return `${finding.kind} ${finding.owner} ${finding.imageId}`;
    case 'ref_count_mismatch':
      return `${finding.kind} ${finding.imageId} ${finding.refCount}/${finding.links}`;
    case 'missing_variants':
      return `${finding.kind} ${finding.imageId} gone:${finding.absent} stalled:${finding.stalled}`;
    case 'orphan_derivatives':
      return `${finding.kind} ${finding.imageId} ${[...finding.keys].sort()}`;
    case 'abandoned_upload':
      return `${finding.kind} ${finding.key} ${finding.state}`;
    default:
      return `${finding.kind} ${finding.imageId}`;
  }
};
const summaries = (report: ReconcileReport) => report.findings.map(summary).sort();
/** The shard a finding is about: the first two hex digits of its image, or of its upload. */
const shardOf = (finding: Finding) =>
  finding.kind === 'abandoned_upload' ? (finding.uploadId ?? '').slice(0, 2) : finding.imageId.slice(0, 2);

/** Runs slices through the slice handler's own code, as the map's batches would. */
const runSlices = async (slices: readonly ReconcileSlice[]) => {
  const reports: ReconcileReport[] = [];
  for (const slice of slices)
    reports.push(...(await reconcileBatch(deps(), { Items: [slice], BatchInput: options }, () => {})).slices);
  return reports;
};

/** Everything the twin stores: every catalog item and every object key of both buckets. */
const everything = async () => {
  const { clients, twin } = world();
  const { Items = [] } = await clients.dynamo.send(new ScanCommand({ TableName: twin.resources.table }));
  const keys = async (bucket: string) => {
    const { Contents = [] } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return Contents.map((object) => `${object.Key} ${object.ETag}`).sort();
  };
  return {
    items: Items.map((item) => JSON.stringify(item)).sort(),
    images: await keys(twin.resources.imageBucket),
    uploads: await keys(twin.resources.uploadBucket),
  };
};

const id = (name: string) => sha256(`reconcile-slices-${name}`);
let lossyImage = '';
const pendingUpload = newUploadId();
const unknownUploadKey = uploadKey(newUploadId());

const orphanDerivedKeys = () =>
  (['webp', 'jpeg'] as const).map((format) => derivativeKey(id('orphan-derived'), variant('thumb'), format));

/** Every planted inconsistency, as `summary` writes it. */
const planted = () =>
  [
    `missing_variants ${lossyImage} gone:small stalled:`,
    `orphan_original ${id('orphan-original')}`,
    `orphan_derivatives ${id('orphan-derived')} ${orphanDerivedKeys().sort()}`,
    `missing_original ${id('no-original')}`,
    `missing_variants ${id('stalled')} gone: stalled:small,medium,large`,
    `unmarked_ready ${id('unmarked')}`,
    `dangling_link d ${id('never-existed')}`,
    `dangling_link g ${id('deleting')}`,
    `stuck_deletion ${id('deleting')}`,
    `ref_count_mismatch ${id('miscounted')} 3/2`,
    `unlinked_image ${id('unlinked')}`,
    `abandoned_upload ${uploadKey(pendingUpload)} pending`,
    `abandoned_upload ${unknownUploadKey} unknown`,
  ].sort();

beforeAll(async () => {
  // Consistent, ingested and rendered for real; and one of its derivatives lost.
  const lossy = await world().ingest(
    await makeImage('jpeg', { width: 600, height: 400, seed: 41 }),
    'v',
    settings,
  );
  await world().render(lossy.jobs, settings);
  lossyImage = lossy.imageId;
  await world().clients.s3.send(
    new DeleteObjectCommand({
      Bucket: world().twin.resources.imageBucket,
      Key: derivativeKey(lossy.imageId, variant('small'), 'webp'),
    }),
  );
  // Objects without a record.
  await world().putObject('images', originalKey(id('orphan-original')), 50);
  for (const key of orphanDerivedKeys()) await world().putObject('images', key, 40);
  // A record whose original is gone; one on an older variant set.
  await world().put({ image: imageRecord(id('no-original'), settings), link: link('m', id('no-original')) });
  await world().put({
    image: imageRecord(id('outdated'), settings, { variantSetVersion: 'an-older-set' }),
    link: link('o', id('outdated')),
  });
  await world().putObject('images', originalKey(id('outdated')), 100);
  // Renders stalled; every variant done but never marked ready.
  await world().put({
    image: imageRecord(id('stalled'), settings, {
      status: 'processing',
      variants: { thumb: 'ready', small: 'pending', medium: 'pending', large: 'pending' },
    }),
    link: link('s', id('stalled')),
  });
  await world().putObject('images', originalKey(id('stalled')), 100);
  for (const { format } of variant('thumb').formats)
    await world().putObject('images', derivativeKey(id('stalled'), variant('thumb'), format), 10);
  await world().put({
    image: imageRecord(id('unmarked'), settings, { status: 'processing', variants: skippedAll }),
    link: link('u', id('unmarked')),
  });
  await world().putObject('images', originalKey(id('unmarked')), 100);
  // A link to no image; one to an image whose deletion never finished.
  await world().put({ link: link('d', id('never-existed')) });
  await world().put({
    image: imageRecord(id('deleting'), settings, {
      refCount: 0,
      deletingSince: new Date(Date.now() - 2 * HOUR),
    }),
    link: link('g', id('deleting')),
  });
  // A count one too high; an image nobody links.
  await world().put({
    image: imageRecord(id('miscounted'), settings, { refCount: 3, variants: skippedAll }),
  });
  for (const owner of ['r1', 'r2']) await world().put({ link: link(owner, id('miscounted')) });
  await world().putObject('images', originalKey(id('miscounted')), 100);
  await world().put({ image: imageRecord(id('unlinked'), settings, { variants: skippedAll }) });
  await world().putObject('images', originalKey(id('unlinked')), 100);
  // Upload bytes no ingest will take.
  await world().put({ upload: uploadRecord('pending', { uploadId: pendingUpload }) });
  for (const key of [uploadKey(pendingUpload), unknownUploadKey]) await world().putObject('uploads', key, 10);
}, 120_000);

describe('reconcile by slices', () => {
  it('adds up, over every slice, to exactly the one-pass audit, and a dry run changes nothing', async () => {
    const before = await everything();
    const whole = await reconcile(deps(), options);
    const sliced = combineReports(false, await runSlices(reconcileSlices()));
    expect(summaries(whole)).toEqual(planted());
    expect(summaries(sliced)).toEqual(summaries(whole));
    expect(sliced.found).toEqual(whole.found);
    expect(sliced.outdatedImages).toBe(1);
    expect(sliced.outdatedImages).toBe(whole.outdatedImages);
    expect(sliced.unlisted).toBe(0);
    expect(await everything()).toEqual(before);
  });

  it('finds in a shard exactly what is stored under its prefix, and nothing of other shards', async () => {
    const whole = await reconcile(deps(), options);
    const shard = id('orphan-original').slice(0, 2);
    const handler = createReconcileSliceHandler({
      ...deps(),
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    });
    const { slices } = await handler(
      { Items: [{ shard }], BatchInput: { fix: false, stuckAfterMs: HOUR, graceMs: HOUR } },
      lambdaContext('aperture-reconcile'),
    );
    expect(slices.map((s) => s.slice)).toEqual([`shard ${shard}`]);
    const found = slices[0]?.findings ?? [];
    expect(found.map(summary)).toContain(`orphan_original ${id('orphan-original')}`);
    expect(found.every((finding) => shardOf(finding) === shard)).toBe(true);
    // Of the whole audit's object-side findings in this shard, none is missed.
    const objectSide = [
      'orphan_original',
      'orphan_derivatives',
      'missing_variants',
      'unmarked_ready',
      'abandoned_upload',
    ];
    expect(found.map(summary).sort()).toEqual(
      whole.findings
        .filter((finding) => objectSide.includes(finding.kind) && shardOf(finding) === shard)
        .map(summary)
        .sort(),
    );
  });

  it('finds each record-side inconsistency in exactly one scan segment', async () => {
    const segments = reconcileSlices().filter((slice) => 'segment' in slice);
    expect(segments).toHaveLength(RECONCILE_SCAN_SEGMENTS);
    const reports = await runSlices(segments);
    const seen = reports.flatMap((report) => report.findings.map(summary));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(
      [
        `dangling_link d ${id('never-existed')}`,
        `dangling_link g ${id('deleting')}`,
        `ref_count_mismatch ${id('miscounted')} 3/2`,
        `unlinked_image ${id('unlinked')}`,
        `stuck_deletion ${id('deleting')}`,
        `missing_original ${id('no-original')}`,
      ].sort(),
    );
  });

  it('refuses a batch that is not one, naming what is wrong', async () => {
    await expect(
      reconcileBatch(deps(), { Items: [{ shard: 'zz' }], BatchInput: { fix: false } }, () => {}),
    ).rejects.toThrow(/not a reconcile batch: Items\.0/);
    await expect(
      reconcileBatch(
        deps(),
        { Items: [{ segment: 4, totalSegments: 4 }], BatchInput: { fix: 'yes' } },
        () => {},
      ),
    ).rejects.toThrow(/not a reconcile batch/);
  });

  it('aperture reconcile runs the slices and prints their combined report', async () => {
    const run = await aperture(['reconcile', '--json'], world().env(settings), later);
    expect([run.status, run.stderr]).toEqual([0, '']);
    const report = JSON.parse(run.stdout) as ReconcileReport;
    expect(summaries(report)).toEqual(summaries(await reconcile(deps(), options)));
  });
});
