import { describe, expect, it } from 'vitest';
import { eventId, imageOutcome, removedLink, uploadOutcome } from '../../lambdas/core/events.js';

const image = (status: 'processing' | 'ready' | 'failed', variantSetVersion = 'v1', deleting = false) => ({
  status,
  variantSetVersion,
  ...(deleting ? { deletingSince: new Date() } : {}),
});

describe('which changes announce what', () => {
  it.each([
    [undefined, 'pending', undefined],
    ['pending', 'pending', undefined],
    ['pending', 'accepted', 'accepted'],
    ['pending', 'rejected', 'rejected'],
    [undefined, 'accepted', 'accepted'],
    // Seen again (another attribute changed): already announced.
    ['accepted', 'accepted', undefined],
    ['rejected', 'rejected', undefined],
  ] as const)('an upload %s → %s announces %s', (before, after, outcome) => {
    expect(uploadOutcome({ before: before ? { state: before } : undefined, after: { state: after } })).toBe(
      outcome,
    );
  });

  it.each([
    ['new image', undefined, image('processing'), undefined],
    ['rendered', image('processing'), image('ready'), 'ready'],
    ['a variant recorded, still processing', image('processing'), image('processing'), undefined],
    ['enrichment or a link count changed', image('ready'), image('ready'), undefined],
    ['reprocessed onto a new variant set', image('ready', 'v1'), image('ready', 'v2'), 'ready'],
    ['failed', image('processing'), image('failed'), 'failed'],
    ['marked for deletion', image('ready'), image('ready', 'v2', true), undefined],
    ['removed', image('ready'), undefined, undefined],
  ] as const)('an image %s announces %s', (_, before, after, outcome) => {
    expect(imageOutcome({ before, after })).toBe(outcome);
  });

  it('a removed link is the owner’s deleted image; a new or changed one is nothing', () => {
    const link = { owner: 'alice', imageId: 'a'.repeat(64) };
    expect(removedLink({ before: link, after: undefined })).toBe(link);
    expect(removedLink({ before: undefined, after: link })).toBeUndefined();
    expect(removedLink({ before: link, after: { ...link } })).toBeUndefined();
  });

  it('ids name the change, the variant set and the owner’s link, so each is heard again only when it happens again', () => {
    const ids = [
      eventId.ingested('u1'),
      eventId.rejected('u1'),
      eventId.ready('img', 'v1', 'u1'),
      eventId.ready('img', 'v2', 'u1'),
      eventId.ready('img', 'v1', 'u2'),
      eventId.failed('img', 'v1', 'u1'),
      eventId.deleted('img', 'u1'),
      eventId.deleted('img', 'u2'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(eventId.ready('img', 'v1', 'u1')).toBe('img:ready:v1:u1');
  });
});
