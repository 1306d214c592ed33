import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { EventBridgeBus } from '../../lambdas/adapters/aws/eventbridge-bus.js';
import { RetryableError } from '../../lambdas/core/errors.js';
import type { PipelineEvent } from '../../lambdas/core/events.js';
import { answer, type CannedResponse, cannedTransport, refusal } from '../support/sdk-transport.js';

function bus(...responses: CannedResponse[]) {
  const { options, sent } = cannedTransport(...responses);
  return { bus: new EventBridgeBus(new EventBridgeClient(options), 'images-bus'), sent };
}

function deleted(n: number): PipelineEvent {
  return {
    version: 1,
    type: 'image.deleted',
    id: `img${n}:deleted:up${n}`,
    occurredAt: '2026-12-06T10:00:00.000Z',
    owner: 'alice',
    uploadId: `up${n}`,
    collection: undefined,
    imageId: `img${n}`,
  };
}

const accepted = (count: number) => ({
  FailedEntryCount: 0,
  Entries: Array.from({ length: count }, (_, i) => ({ EventId: `eb-${i}` })),
});

describe('EventBridgeBus (request shapes and answers only: delivery to rules and targets is not provable offline)', () => {
  it('puts each event on the named bus with source aperture, its type as detail-type and the event as detail, ten to a request', async () => {
    const events = Array.from({ length: 12 }, (_, i) => deleted(i));
    const { bus: subject, sent } = bus(answer(200, accepted(10)), answer(200, accepted(2)));
    expect(await subject.publish(events)).toEqual({ refused: [] });
    expect(sent.map((request) => request.headers['x-amz-target'])).toEqual([
      'AWSEvents.PutEvents',
      'AWSEvents.PutEvents',
    ]);
    const entries = sent.flatMap(
      (request) => (request.json as { Entries: Record<string, unknown>[] }).Entries,
    );
    expect(entries).toHaveLength(12);
    expect(entries[0]).toEqual({
      EventBusName: 'images-bus',
      Source: 'aperture',
      DetailType: 'image.deleted',
      Detail: JSON.stringify(events[0]),
      Time: Date.parse('2026-12-06T10:00:00.000Z') / 1000,
    });
  });

  it('reports the entries EventBridge refused by their event ids, and only those', async () => {
    const { bus: subject } = bus(
      answer(200, {
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'eb-0' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { EventId: 'eb-2' },
        ],
      }),
    );
    expect(await subject.publish([deleted(0), deleted(1), deleted(2)])).toEqual({
      refused: ['img1:deleted:up1'],
    });
  });

  it('makes a throttled request a RetryableError, so the stream delivers the change again', async () => {
    const { bus: subject } = bus(refusal(400, 'ThrottlingException'));
    await expect(subject.publish([deleted(0)])).rejects.toBeInstanceOf(RetryableError);
  });
});
