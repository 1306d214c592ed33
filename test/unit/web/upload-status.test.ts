import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, eventId, type PipelineEvent } from '../../../lambdas/core/events.js';
import type { ImageView, UploadView } from '../../../web/api.js';
import { UploadFollower, type UploadUpdate } from '../../../web/upload-status.js';

const IMAGE_ID = 'f'.repeat(64);

function image(uploadId: string, status: ImageView['status']): ImageView {
  return {
    imageId: IMAGE_ID,
    status,
    format: 'jpeg',
    contentType: 'image/jpeg',
    width: 8,
    height: 6,
    pages: 1,
    animated: false,
    hasAlpha: false,
    bytes: 1234,
    createdAt: '2026-01-01T00:00:00.000Z',
    collection: undefined,
    filename: 'cat.jpg',
    uploadId,
    variants: [],
  };
}

const base = (uploadId: string) => ({
  version: EVENT_SCHEMA_VERSION,
  occurredAt: '2026-01-01T00:00:00.000Z',
  owner: 'alice',
  uploadId,
  collection: undefined,
});

const ingested = (uploadId: string, linkUploadId = uploadId): PipelineEvent => ({
  ...base(uploadId),
  type: 'image.ingested',
  id: eventId.ingested(uploadId),
  imageId: IMAGE_ID,
  duplicate: linkUploadId !== uploadId,
  image: image(linkUploadId, 'processing'),
});

const ready = (uploadId: string): PipelineEvent => ({
  ...base(uploadId),
  type: 'image.ready',
  id: eventId.ready(IMAGE_ID, 'v1', uploadId),
  imageId: IMAGE_ID,
  image: image(uploadId, 'ready'),
});

const rejected = (uploadId: string): PipelineEvent => ({
  ...base(uploadId),
  type: 'upload.rejected',
  id: eventId.rejected(uploadId),
  reason: 'unsupported_format',
  message: 'not an image',
});

/**
 * A follower over an API whose `GET /v1/uploads/{id}` answers are handed out by the test
 * (`answer`), counting the calls, and one row's updates.
 */
function setUp() {
  const calls: string[] = [];
  const waiting: Array<(view: UploadView) => void> = [];
  const shown: string[] = [];
  const follower = new UploadFollower(
    {
      getUpload: (uploadId) => {
        calls.push(uploadId);
        return new Promise((resolve) => waiting.push(resolve));
      },
    },
    (imageId) => shown.push(imageId),
  );
  const updates: UploadUpdate[] = [];
  const row = () => follower.watch((update) => updates.push(update));
  const answer = async (view: Omit<UploadView, 'createdAt'>) => {
    waiting.shift()?.({ ...view, createdAt: '2026-01-01T00:00:00.000Z' });
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  const statuses = () => updates.map((update) => update.status);
  return { follower, calls, shown, row, answer, statuses, updates };
}

describe('the demo page following an upload on its event stream', () => {
  it('reads no upload when the stream was open before the file was added', () => {
    const { follower, calls, row, statuses } = setUp();
    follower.connected();
    const watch = row();
    watch.follow('u1');
    follower.hear(ingested('u1'));
    follower.hear(ready('u1'));
    expect(statuses()).toEqual(['pending', 'processing', 'ready']);
    expect(calls).toEqual([]);
  });

  it('keeps the events that come before the page knows the upload id, for the row that claims them', () => {
    const { follower, calls, row, statuses } = setUp();
    follower.connected();
    const watch = row();
    follower.hear(ingested('u1'));
    follower.hear(ingested('someone-else'));
    follower.hear(ready('u1'));
    expect(statuses()).toEqual([]);
    watch.follow('u1');
    expect(statuses()).toEqual(['pending', 'processing', 'ready']);
    expect(calls).toEqual([]);
  });

  it('says "duplicate" when the owner’s link came from an earlier upload, and the reason of a rejection', () => {
    const { follower, row, updates } = setUp();
    follower.connected();
    row().follow('u2');
    follower.hear(ingested('u2', 'u1'));
    const other = setUp();
    other.follower.connected();
    other.row().follow('u3');
    other.follower.hear(rejected('u3'));
    expect(updates.at(-1)).toEqual({ status: 'duplicate', message: '' });
    expect(other.updates.at(-1)).toEqual({ status: 'rejected', message: 'unsupported_format: not an image' });
  });

  it('catches up once through the API when the stream was not connected since the file was added', async () => {
    const { follower, calls, row, answer, statuses, shown } = setUp();
    const watch = row();
    watch.follow('u1');
    // Not connected: nothing to read yet, and the connection will catch up.
    expect(calls).toEqual([]);
    follower.connected();
    expect(calls).toEqual(['u1']);
    await answer({ uploadId: 'u1', status: 'processing', imageId: IMAGE_ID });
    expect(shown).toEqual([IMAGE_ID]);
    follower.hear(ready('u1'));
    expect(statuses()).toEqual(['pending', 'processing', 'ready']);
    expect(calls).toEqual(['u1']);
  });

  it('catches up the rows still open when the stream comes back, and not the settled ones', async () => {
    const { follower, calls, row, answer, statuses } = setUp();
    follower.connected();
    row().follow('u1');
    row().follow('u2');
    follower.hear(ready('u2'));
    follower.disconnected();
    follower.connected();
    expect(calls).toEqual(['u1']);
    await answer({ uploadId: 'u1', status: 'ready', imageId: IMAGE_ID });
    expect(statuses()).toEqual(['pending', 'pending', 'ready', 'ready']);
  });

  it('never moves a row back for a late answer, nor on an event heard twice', async () => {
    const { follower, row, answer, statuses } = setUp();
    follower.connected();
    follower.disconnected();
    follower.connected();
    row().follow('u1');
    follower.disconnected();
    follower.connected();
    follower.hear(ready('u1'));
    follower.hear(ready('u1'));
    await answer({ uploadId: 'u1', status: 'processing', imageId: IMAGE_ID });
    expect(statuses()).toEqual(['pending', 'ready']);
  });
});
