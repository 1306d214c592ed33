import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { derivativeKey, originalKey, uploadKey } from '../../lambdas/core/keys.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { newUploadId } from '../../lambdas/core/uploads.js';
import { DEFAULT_VARIANTS, variantSetVersion } from '../../lambdas/core/variants.js';
import type { UploadRecord } from '../../lambdas/ports/catalog.js';
import type { PipelineStats } from '../../lambdas/services/pipeline-stats.js';
import { imageRecord } from '../support/catalog-records.js';
import { aperture, link, privateWorldForFile, sha256, uploadRecord } from '../support/operations.js';

const settings = parseSettings();
const HOUR = 3_600_000;
const world = privateWorldForFile();

describe('aperture stats', () => {
  it('counts exactly what is planted: images by status, links, uploads, objects and bytes, completeness', async () => {
    const id = (name: string) => sha256(`stats-${name}`);
    const all = (status: 'ready' | 'pending' | 'skipped') =>
      Object.fromEntries(settings.variants.map((v) => [v.name, status]));
    const images = {
      // ready on the current set, two owners
      a: imageRecord(id('a'), settings, { refCount: 2 }),
      // ready, two variants skipped: complete all the same
      b: imageRecord(id('b'), settings, {
        variants: { ...all('ready'), medium: 'skipped', large: 'skipped' },
      }),
      // processing, its jobs queued two hours ago: stuck
      c: imageRecord(id('c'), settings, {
        status: 'processing',
        variants: { ...all('pending'), thumb: 'ready' },
        jobsQueuedAt: new Date(Date.now() - 2 * HOUR),
      }),
      // processing, just queued
      d: imageRecord(id('d'), settings, { status: 'processing', variants: all('pending') }),
      e: imageRecord(id('e'), settings, { status: 'failed', variants: all('pending') }),
      // rendered for an older variant set
      f: imageRecord(id('f'), settings, { variantSetVersion: 'older-set' }),
      // being deleted
      g: imageRecord(id('g'), settings, { refCount: 0, deletingSince: new Date() }),
    };
    for (const image of Object.values(images)) await world().put({ image });
    const links = [link('one', images.a.imageId), link('two', images.a.imageId)];
    for (const image of [images.b, images.c, images.d, images.e, images.f])
      links.push(link('one', image.imageId));
    for (const planted of links) await world().put({ link: planted });
    const upload = (state: UploadRecord['state'], expiresInMs: number) =>
      uploadRecord(state, { uploadExpiresAt: new Date(Date.now() + expiresInMs) });
    const uploads = [
      upload('pending', 60_000),
      upload('pending', -60_000),
      upload('accepted', -HOUR),
      upload('accepted', -HOUR),
      upload('accepted', -HOUR),
      upload('rejected', -HOUR),
    ];
    for (const planted of uploads) await world().put({ upload: planted });
    // A render lease shares the table and is no catalog item.
    await world().clients.dynamo.send(
      new PutCommand({
        TableName: world().twin.resources.table,
        Item: { pk: 'LEASE#x', sk: 'LEASE', type: 'lease' },
      }),
    );

    const originals = Object.values(images).map((image, i) => ({
      key: originalKey(image.imageId),
      bytes: 1000 + i,
    }));
    const derived = DEFAULT_VARIANTS.flatMap((variant, v) =>
      variant.formats.map(({ format }, f) => ({
        key: derivativeKey(images.a.imageId, variant, format),
        format,
        bytes: 100 * (v + 1) + f,
      })),
    );
    const uploadObjects = [
      { key: uploadKey(uploads[0]?.uploadId ?? ''), bytes: 10 },
      { key: uploadKey(newUploadId()), bytes: 33 },
    ];
    for (const { key, bytes } of originals) await world().putObject('images', key, bytes);
    for (const { key, bytes } of derived) await world().putObject('images', key, bytes);
    for (const { key, bytes } of uploadObjects) await world().putObject('uploads', key, bytes);
    // Multipart uploads started and never finished: two under uploads/, one elsewhere in the bucket.
    for (const key of [uploadKey(newUploadId()), uploadKey(newUploadId()), 'elsewhere/x']) {
      await world().clients.s3.send(
        new CreateMultipartUploadCommand({ Bucket: world().twin.resources.uploadBucket, Key: key }),
      );
    }

    const run = await aperture(['stats', '--json'], world().env(settings));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const sum = (objects: readonly { bytes: number }[]) => objects.reduce((total, o) => total + o.bytes, 0);
    const ofFormat = (format: string) => derived.filter((d) => d.format === format);
    expect(JSON.parse(run.stdout) as PipelineStats).toEqual({
      variantSetVersion: variantSetVersion(settings.variants),
      images: { total: 7, processing: 2, ready: 4, failed: 1, deleting: 1, outdated: 1, stuck: 1 },
      links: 7,
      uploads: { total: 6, pending: 2, accepted: 3, rejected: 1, expired: 1 },
      // six images not being deleted, four variants each; a's 4, b's 4 and c's thumb are done
      variants: { expected: 24, complete: 9 },
      storage: {
        originals: { objects: 7, bytes: sum(originals) },
        derived: { objects: 12, bytes: sum(derived) },
        uploads: { objects: 2, bytes: 43 },
      },
      incompleteMultipartUploads: 2,
      derivedByFormat: {
        avif: { objects: 4, bytes: sum(ofFormat('avif')) },
        webp: { objects: 4, bytes: sum(ofFormat('webp')) },
        jpeg: { objects: 4, bytes: sum(ofFormat('jpeg')) },
        other: { objects: 0, bytes: 0 },
      },
    });

    const text = await aperture(['stats', '--stuck-after', '3h'], world().env(settings));
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ {2}images {2,}7$/m);
    expect(text.stdout).toMatch(/^ {4}processing {2,}2$/m);
    expect(text.stdout).toMatch(/variants complete {2,}37\.5% {2}9 of 24 ready or skipped/);
    expect(text.stdout).toMatch(/^ {4}jpg {2,}4 {2,}\d+(\.\d)? (B|KiB)$/m);
    expect(text.stdout).toMatch(/^ {4}incomplete multipart {2,}2\s*$/m);
  });
});
