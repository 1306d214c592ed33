import { describe, expect, it } from 'vitest';
import {
  decisionOf,
  filenameOf,
  importBatchSchema,
  importUploadId,
  isFolderMarker,
  parseS3Uri,
} from '../../lambdas/core/imports.js';
import { isUploadId } from '../../lambdas/core/keys.js';

const library = { owner: 'alice', bucket: 'library' };

describe('the import boundary', () => {
  it("takes the Distributed Map's batches: ListObjectsV2 entries, and S3 Inventory rows with sizes as text", () => {
    const batch = importBatchSchema.parse({
      Items: [
        {
          Etag: '"abc"',
          Key: 'photos/a.jpg',
          LastModified: 1668699881,
          Size: 34910,
          StorageClass: 'STANDARD',
        },
        { Bucket: 'library', Key: 'photos/b.jpg', Size: '1200' },
      ],
      BatchInput: { importId: 'import-1', bucket: 'library', owner: 'alice' },
    });
    expect(batch.Items.map((item) => item.Size)).toEqual([34910, 1200]);
    expect(
      importBatchSchema.safeParse({
        Items: [],
        BatchInput: { importId: 'x', bucket: 'library', owner: 'alice' },
      }).success,
    ).toBe(false);
    expect(
      importBatchSchema.safeParse({
        Items: [{ Key: 'a' }],
        BatchInput: { importId: 'x', bucket: 'Not_A_Bucket', owner: 'alice' },
      }).success,
    ).toBe(false);
  });

  it('gives an object the same upload id every time, and another to another owner, key or version', () => {
    const item = { Key: 'photos/a.jpg', Size: 10, Etag: '"v1"' };
    const id = importUploadId(library, item);
    expect(isUploadId(id)).toBe(true);
    expect(importUploadId(library, { ...item })).toBe(id);
    const others = [
      importUploadId({ ...library, owner: 'bob' }, item),
      importUploadId({ ...library, bucket: 'other' }, item),
      importUploadId(library, { ...item, Key: 'photos/b.jpg' }),
      importUploadId(library, { ...item, Etag: '"v2"' }),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });

  it('reads s3:// sources and refuses anything else', () => {
    expect(parseS3Uri('s3://library/photos/2019/')).toEqual({ bucket: 'library', prefix: 'photos/2019/' });
    expect(parseS3Uri('s3://library')).toEqual({ bucket: 'library', prefix: '' });
    expect(() => parseS3Uri('https://library/photos')).toThrow(/not an s3:\/\/ URI/);
    expect(() => parseS3Uri('s3://Library_Bucket/x')).toThrow(/not an S3 bucket name/);
  });

  it('keeps the last segment of a key as the filename, without control characters; folders are skipped', () => {
    expect(filenameOf('photos/2019/beach.jpg')).toBe('beach.jpg');
    expect(filenameOf('photos/\u0007bell.png')).toBe('bell.png');
    expect(filenameOf(`photos/${'x'.repeat(300)}`)).toHaveLength(255);
    expect(isFolderMarker({ Key: 'photos/2019/' })).toBe(true);
    expect(isFolderMarker({ Key: 'photos/2019' })).toBe(false);
  });

  it('counts as a decision of this import only what it decided: not what an earlier import did', () => {
    const base = { key: 'k', uploadId: 'u' };
    expect(decisionOf({ ...base, outcome: 'new', imageId: 'i' })).toEqual({ kind: 'new' });
    expect(decisionOf({ ...base, outcome: 'duplicate', imageId: 'i' })).toEqual({ kind: 'duplicate' });
    expect(
      decisionOf({ ...base, outcome: 'rejected', reason: 'empty', message: 'm', earlier: false }),
    ).toEqual({ kind: 'rejected', reason: 'empty' });
    expect(
      decisionOf({ ...base, outcome: 'rejected', reason: 'empty', message: 'm', earlier: true }),
    ).toBeUndefined();
    expect(decisionOf({ ...base, outcome: 'already_imported', imageId: 'i' })).toBeUndefined();
    expect(decisionOf({ key: 'k', outcome: 'skipped', why: 'folder_marker' })).toBeUndefined();
  });
});
