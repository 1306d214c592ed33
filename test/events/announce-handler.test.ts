import { createHash, randomBytes } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { imageToItem, uploadToItem } from '../../lambdas/adapters/aws/catalog-items.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoEventLedger } from '../../lambdas/adapters/aws/dynamo-event-ledger.js';
import { EVENT_CLAIM_SECONDS } from '../../lambdas/contract.js';
import type { PipelineEvent } from '../../lambdas/core/events.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import {
  announceDependenciesFromEnvironment,
  createAnnounceHandler,
} from '../../lambdas/handlers/announce.js';
import type { ImageRecord, UploadRecord } from '../../lambdas/ports/catalog.js';
import type { EventBus } from '../../lambdas/ports/event-bus.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { twinHandlers } from '../support/handlers.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';

/** A bus that keeps what it was given; it refuses or fails the next calls when told to. */
class RecordingBus implements EventBus {
  readonly published: PipelineEvent[] = [];
  refuseNext = 0;
  failNext = 0;

  async publish(events: readonly PipelineEvent[]): Promise<{ refused: string[] }> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('the bus is out of reach');
    }
    if (this.refuseNext > 0) {
      this.refuseNext -= 1;
      return { refused: events.map((event) => event.id) };
    }
    this.published.push(...events);
    return { refused: [] };
  }
}

const settings = parseSettings({ enrichment: { enabled: false } });
const env = twinFunctionEnvironment(twinInfo(), settings, 'https://cdn.example');
const dynamo = createAwsClients(twinEnv()).dynamo;
const catalog = new DynamoCatalog(dynamo, twinInfo().resources.table);
let seed = firstSeed();

function announcer(now = () => new Date()) {
  const bus = new RecordingBus();
  const handler = createAnnounceHandler({ ...announceDependenciesFromEnvironment(env), bus, now });
  return { bus, invoke: (event: DynamoDBStreamEvent) => handler(event, lambdaContext('aperture-announce')) };
}

let sequence = 0;
function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): DynamoDBRecord {
  const image = (item: Record<string, unknown> | undefined) =>
    item && (marshall(item, { removeUndefinedValues: true }) as Record<string, AttributeValue> as never);
  sequence += 1;
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      SequenceNumber: String(sequence).padStart(21, '0'),
      OldImage: image(before),
      NewImage: image(after),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

function rejectedUpload(owner: string): DynamoDBRecord {
  const pending: UploadRecord = {
    uploadId: randomBytes(16).toString('hex'),
    owner,
    state: 'pending',
    contentType: 'image/png',
    size: 10,
    sha256: undefined,
    filename: undefined,
    collection: 'holiday',
    createdAt: new Date(),
    uploadExpiresAt: new Date(Date.now() + 60_000),
  };
  const rejected = {
    ...pending,
    state: 'rejected' as const,
    rejection: { reason: 'empty' as const, message: 'no bytes' },
  };
  return streamRecord('MODIFY', uploadToItem(pending), uploadToItem(rejected));
}

describe('the announce handler on the catalog stream', () => {
  it('publishes a change once, however often the stream delivers it', async () => {
    const { bus, invoke } = announcer();
    const record = rejectedUpload(uniqueOwner('twice'));
    expect(await invoke({ Records: [record] })).toEqual({ batchItemFailures: [] });
    expect(await invoke({ Records: [record] })).toEqual({ batchItemFailures: [] });
    expect(bus.published).toEqual([
      expect.objectContaining({
        type: 'upload.rejected',
        reason: 'empty',
        collection: 'holiday',
        version: 1,
      }),
    ]);
  });

  it('reports a change the bus refused by its sequence number, and publishes it on the retry, once', async () => {
    const { bus, invoke } = announcer();
    const record = rejectedUpload(uniqueOwner('refused'));
    bus.refuseNext = 1;
    expect(await invoke({ Records: [record] })).toEqual({
      batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber }],
    });
    bus.failNext = 1;
    expect((await invoke({ Records: [record] })).batchItemFailures).toHaveLength(1);
    expect(bus.published).toEqual([]);
    await invoke({ Records: [record] });
    await invoke({ Records: [record] });
    expect(bus.published).toHaveLength(1);
  });

  it('waits while another publisher holds an event, and takes it over once that claim lapses', async () => {
    const record = rejectedUpload(uniqueOwner('held'));
    const uploadId = JSON.stringify(record.dynamodb?.NewImage?.uploadId?.S);
    const ledger = new DynamoEventLedger(dynamo, twinInfo().resources.table);
    const claimedAt = new Date();
    expect(await ledger.claim(`${JSON.parse(uploadId)}:rejected`, claimedAt)).toBe('claimed');

    const meanwhile = announcer(() => new Date(claimedAt.getTime() + 1000));
    expect((await meanwhile.invoke({ Records: [record] })).batchItemFailures).toHaveLength(1);
    expect(meanwhile.bus.published).toEqual([]);

    const later = announcer(() => new Date(claimedAt.getTime() + (EVENT_CLAIM_SECONDS + 1) * 1000));
    expect(await later.invoke({ Records: [record] })).toEqual({ batchItemFailures: [] });
    expect(later.bus.published).toHaveLength(1);
  });

  it('announces an image turning ready to each of its holders, each with their own upload', async () => {
    const handlers = twinHandlers(settings);
    const [alice, bob] = [uniqueOwner('alice'), uniqueOwner('bob')];
    const bytes = await makeImage('jpeg', { seed: seed++ });
    await handlers.ingest(alice, bytes);
    await handlers.ingest(bob, bytes);
    const imageId = createHash('sha256').update(bytes).digest('hex');
    const holders = await catalog.listHolders(imageId);
    expect(holders).toHaveLength(2);
    const processing = (await catalog.getImage(imageId)) as ImageRecord;
    const ready: ImageRecord = {
      ...processing,
      status: 'ready',
      variants: Object.fromEntries(settings.variants.map((v) => [v.name, 'ready' as const])),
    };
    const { bus, invoke } = announcer();
    await invoke({ Records: [streamRecord('MODIFY', imageToItem(processing), imageToItem(ready))] });
    expect(bus.published.map((event) => [event.type, event.owner, event.uploadId]).sort()).toEqual(
      holders.map((link) => ['image.ready', link.owner, link.uploadId]).sort(),
    );
    expect(bus.published.map((event) => event.owner).sort()).toEqual([alice, bob].sort());
    expect(bus.published.map((event) => event.id)).toContain(
      `${imageId}:ready:${processing.variantSetVersion}:${holders[0]?.uploadId}`,
    );
    expect(bus.published.map((event) => event.id)).toContain(
      `${imageId}:ready:${processing.variantSetVersion}:${holders[0]?.uploadId}`,
    );
  });
});
