import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entryFromItem, webhookFromItem, webhookToItem } from '../../lambdas/adapters/aws/catalog-items.js';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { CATALOG_TABLE } from '../../lambdas/contract.js';
import { EVENT_TYPES, type PipelineEvent } from '../../lambdas/core/events.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import {
  type DeploymentEndpoint,
  deliveriesFor,
  deliveryAttempts,
  deploymentWebhookId,
  isWebhookId,
  newWebhookId,
  newWebhookSecret,
  retryDelaySeconds,
  type WebhookEndpoint,
  webhookBody,
  webhookHeaders,
  webhookRegistrationSchema,
  webhookSignature,
  webhookView,
} from '../../lambdas/core/webhooks.js';
import { eventEnvelopeSchema } from '../../lambdas/handlers/webhook-fanout.js';
import type { WebhookEndpoints } from '../../lambdas/ports/webhooks.js';
import { deliverWebhook } from '../../lambdas/services/webhooks.js';

const deleted = (owner: string, id = 'img-1:deleted:u-1'): PipelineEvent => ({
  version: 1,
  type: 'image.deleted',
  id,
  occurredAt: '2026-12-06T10:00:00.000Z',
  owner,
  uploadId: 'u-1',
  collection: undefined,
  imageId: 'a'.repeat(64),
});

const endpoint = (owner: string, events: WebhookEndpoint['events'] = [...EVENT_TYPES]): WebhookEndpoint => ({
  webhookId: newWebhookId(),
  owner,
  url: 'https://hooks.example.com/',
  events,
  secret: newWebhookSecret(),
  createdAt: new Date('2026-12-06T09:00:00.000Z'),
});

describe('webhook signatures', () => {
  it("matches the Standard Webhooks specification's test vector", () => {
    // From standard-webhooks/standard-webhooks, the reference libraries' shared test.
    const signature = webhookSignature(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs each attempt with its own timestamp, the id and body unchanged', () => {
    const [delivery] = deliveriesFor(deleted('alice'), [endpoint('alice')]);
    if (!delivery) throw new Error('no delivery');
    const secret = newWebhookSecret();
    const first = webhookHeaders(secret, delivery, new Date('2026-12-06T10:00:00.900Z'));
    const later = webhookHeaders(secret, delivery, new Date('2026-12-06T10:05:00.000Z'));
    expect(first['webhook-id']).toBe('img-1:deleted:u-1');
    expect(first['webhook-timestamp']).toBe(String(Date.parse('2026-12-06T10:00:00Z') / 1000));
    expect(later['webhook-id']).toBe(first['webhook-id']);
    expect(later['webhook-signature']).not.toBe(first['webhook-signature']);
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(`${first['webhook-id']}.${first['webhook-timestamp']}.${delivery.body}`)
      .digest('base64');
    expect(first['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('makes secrets of 32 random bytes behind whsec_', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
    expect(() => webhookSignature('not-a-secret', 'id', 1, '{}')).toThrow(RangeError);
  });
});

describe('fan-out', () => {
  it('delivers to the owner’s subscribed endpoints only, with the Standard Webhooks body', () => {
    const event = deleted('alice');
    const all = endpoint('alice');
    const deletions = endpoint('alice', ['image.deleted']);
    const readyOnly = endpoint('alice', ['image.ready']);
    const bobs = endpoint('bob');
    const deliveries = deliveriesFor(event, [all, deletions, readyOnly, bobs]);
    expect(deliveries.map((d) => d.webhookId)).toEqual([all.webhookId, deletions.webhookId]);
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ owner: 'alice', messageId: event.id, eventType: 'image.deleted' });
      expect(JSON.parse(delivery.body)).toEqual({
        type: 'image.deleted',
        timestamp: event.occurredAt,
        data: event,
      });
    }
    expect(webhookBody(event)).toBe(deliveries[0]?.body);
  });
});

describe('retries', () => {
  it('follows the schedule, then parks: one attempt more than the schedule has waits', () => {
    const schedule = parseSettings().webhooks.retryScheduleSeconds;
    expect(schedule).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(schedule.map((_, i) => retryDelaySeconds(schedule, i + 1))).toEqual(schedule);
    expect(retryDelaySeconds(schedule, schedule.length + 1)).toBeUndefined();
    expect(deliveryAttempts(schedule)).toBe(8);
  });

  it('refuses schedules SQS cannot hold', () => {
    expect(() => parseSettings({ webhooks: { retryScheduleSeconds: [43_201] } })).toThrow(/webhooks/);
    expect(() => parseSettings({ webhooks: { retryScheduleSeconds: Array(21).fill(1) } })).toThrow(
      /webhooks/,
    );
    expect(
      parseSettings({ webhooks: { retryScheduleSeconds: [1, 1, 1] } }).webhooks.retryScheduleSeconds,
    ).toEqual([1, 1, 1]);
  });
});

describe('registration and catalog items', () => {
  it('defaults to every event type and refuses unknown or repeated ones', () => {
    expect(webhookRegistrationSchema.parse({ url: 'https://x.example/' }).events).toBeUndefined();
    expect(
      webhookRegistrationSchema.safeParse({ url: 'https://x.example/', events: ['image.nope'] }).success,
    ).toBe(false);
    expect(
      webhookRegistrationSchema.safeParse({
        url: 'https://x.example/',
        events: ['image.ready', 'image.ready'],
      }).success,
    ).toBe(false);
    expect(webhookRegistrationSchema.safeParse({ url: 'https://x.example/', secret: 'mine' }).success).toBe(
      false,
    );
  });

  it('never shows the secret in a view', () => {
    const alice = endpoint('alice');
    expect(JSON.stringify(webhookView(alice))).not.toContain(alice.secret.slice(6));
    expect(isWebhookId(alice.webhookId)).toBe(true);
    expect(isWebhookId('wh_../../x')).toBe(false);
  });

  it('keeps endpoints under their own prefix, which the maintenance scans skip', () => {
    const alice = endpoint('alice#tag:x');
    const item = webhookToItem(alice);
    expect(String(item.pk).startsWith(CATALOG_TABLE.webhookPartitionPrefix)).toBe(true);
    expect(item.pk).toBe(catalogKeys.webhooks('alice#tag:x'));
    expect(item.pk).not.toBe(catalogKeys.link('alice#tag:x', 'x').pk);
    expect(webhookFromItem(item)).toEqual({ ...alice, description: undefined });
    expect(entryFromItem(item)).toEqual([]);
  });
});

describe('deployment endpoints', () => {
  const configured = (events: DeploymentEndpoint['events']): DeploymentEndpoint => ({
    webhookId: deploymentWebhookId(0, 'https://ops.example.com/hook'),
    url: 'https://ops.example.com/hook',
    events,
    secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ops',
  });

  it('hear every owner’s events of their types, besides the owner’s own endpoints', () => {
    const alice = endpoint('alice');
    const ops = configured(['image.deleted']);
    const deliveries = deliveriesFor(deleted('alice'), [alice], [ops, configured(['image.ready'])]);
    expect(deliveries.map((d) => [d.webhookId, d.scope])).toEqual([
      [alice.webhookId, 'owner'],
      [ops.webhookId, 'deployment'],
    ]);
    expect(deploymentWebhookId(0, ops.url)).toBe(ops.webhookId);
    expect(deploymentWebhookId(1, ops.url)).not.toBe(ops.webhookId);
    expect(isWebhookId(ops.webhookId)).toBe(true);
  });

  it('are signed with their secret from Secrets Manager, and dropped once configured away', async () => {
    const ops = configured(['image.deleted']);
    const secret = newWebhookSecret();
    const [delivery] = deliveriesFor(deleted('alice'), [], [ops]);
    if (!delivery) throw new Error('no delivery');
    const posted: Array<{ url: string; headers: Record<string, string> }> = [];
    const deps = {
      webhooks: { get: async () => undefined } as unknown as WebhookEndpoints,
      deploymentEndpoints: [ops],
      readSecret: async (arn: string) => (arn === ops.secretArn ? secret : 'whsec_wrong'),
      transport: {
        post: async (url: string, headers: Record<string, string>) => {
          posted.push({ url, headers });
          return { outcome: 'delivered' as const, status: 200 };
        },
      },
      now: () => new Date('2026-12-06T10:00:00Z'),
    };
    expect(await deliverWebhook(deps, delivery)).toEqual({ outcome: 'delivered', status: 200 });
    expect(posted[0]?.url).toBe(ops.url);
    expect(posted[0]?.headers['webhook-signature']).toBe(
      webhookSignature(secret, delivery.messageId, Date.parse('2026-12-06T10:00:00Z') / 1000, delivery.body),
    );
    expect(await deliverWebhook({ ...deps, deploymentEndpoints: [] }, delivery)).toEqual({
      outcome: 'endpoint_gone',
    });
    expect(posted).toHaveLength(1);
  });
});

describe('the fan-out queue’s messages', () => {
  const envelope = (event: PipelineEvent, overrides: Record<string, unknown> = {}) => ({
    version: '0',
    id: 'e-1',
    'detail-type': event.type,
    source: 'aperture',
    account: '123456789012',
    time: event.occurredAt,
    region: 'eu-west-1',
    resources: [],
    detail: event,
    ...overrides,
  });

  it('takes the EventBridge envelope of a pipeline event, its detail kept whole', () => {
    const event = deleted('alice');
    const parsed = eventEnvelopeSchema.parse(envelope(event));
    expect(parsed.detail).toEqual(event);
  });

  it('refuses another source, a type it does not know, or a detail-type that is not the detail’s', () => {
    const event = deleted('alice');
    for (const overrides of [
      { source: 'someone.else' },
      { 'detail-type': 'image.ready' },
      { 'detail-type': 'image.exploded', detail: { ...event, type: 'image.exploded' } },
      { detail: { ...event, owner: '' } },
    ]) {
      expect(
        eventEnvelopeSchema.safeParse(envelope(event, overrides)).success,
        JSON.stringify(overrides),
      ).toBe(false);
    }
  });
});
