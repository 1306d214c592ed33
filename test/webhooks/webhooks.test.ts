import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { checkWebhookUrl } from '../../lambdas/adapters/net/webhook-transport.js';
import { API_ROUTES, WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import type { PipelineEvent } from '../../lambdas/core/events.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEPLOYMENT_URL_POLICY, LOCAL_URL_POLICY } from '../../lambdas/core/webhook-urls.js';
import { createdWebhookViewSchema, webhookListSchema } from '../../lambdas/core/webhooks.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { eventEnvelope } from '../../local/runtime/local-event-bus.js';
import { startLocalWebhooks, webhookEventTarget } from '../../local/runtime/webhooks.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { ensureWorkQueue } from '../../local/twin/provision.js';
import { apiEvent } from '../support/api-events.js';
import { uniqueOwner } from '../support/isolation.js';
import { messagesIn } from '../support/queues.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { until } from '../support/until.js';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../support/webhook-receiver.js';

const info = twinInfo();
const clients = createAwsClients(twinEnv());
const { sqs } = clients;
/** Seconds, not hours: three retries a second apart, then the DLQ. */
const settings = parseSettings({ webhooks: { retryScheduleSeconds: [1, 1, 1], maxEndpointsPerOwner: 3 } });
const env = twinFunctionEnvironment(info, settings, 'https://cdn.example');

/** The test's DNS: names resolve as the test says, at registration and at delivery alike. */
const dns = new Map<string, string[]>();
const resolve = async (host: string) => {
  const addresses = dns.get(host);
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses;
};

/** The API as a deployment has it (https, public addresses only), and as `npm start` has it. */
const deployedApi = createApiHandler({
  ...apiDependenciesFromEnvironment(env),
  checkWebhookUrl: (url) => checkWebhookUrl(url, DEPLOYMENT_URL_POLICY, resolve),
});
const localApi = createApiHandler({
  ...apiDependenciesFromEnvironment(env),
  checkWebhookUrl: (url) => checkWebhookUrl(url, LOCAL_URL_POLICY, resolve),
});

async function call(
  api: typeof localApi,
  routeKey: string,
  owner: string,
  request: { body?: unknown; pathParameters?: Record<string, string> } = {},
) {
  const response = await api(apiEvent(routeKey, { owner, ...request }), lambdaContext('aperture-api'));
  return { status: response.statusCode, json: response.body ? JSON.parse(response.body) : undefined };
}

const register = (owner: string, body: unknown, api = localApi) =>
  call(api, API_ROUTES.createWebhook, owner, { body });

let receiver: WebhookReceiver;
let queues: Awaited<ReturnType<typeof privateQueues>>;
let stopWebhooks: () => Promise<void>;

async function privateQueues() {
  const name = `webhooks-${randomUUID().slice(0, 8)}`;
  const [events, deliveries] = await Promise.all([
    ensureWorkQueue(sqs, `${name}-events`, 30),
    ensureWorkQueue(sqs, `${name}-deliveries`, WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS),
  ]);
  return { events, deliveries };
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  queues = await privateQueues();
  const webhooks = await startLocalWebhooks({
    sqs,
    twin: info,
    settings,
    logger: new Logger({ serviceName: 'webhooks-test' }),
    queues,
    resolve,
  });
  stopWebhooks = () => webhooks.stop();
});

afterAll(async () => {
  await stopWebhooks?.();
  await receiver?.close();
  for (const client of Object.values(clients)) client.destroy();
});

let events = 0;
function deletedEvent(owner: string): PipelineEvent {
  events += 1;
  return {
    version: 1,
    type: 'image.deleted',
    id: `${'c'.repeat(64)}:deleted:${randomUUID()}`,
    occurredAt: new Date().toISOString(),
    owner,
    uploadId: randomUUID(),
    collection: undefined,
    imageId: `${events}`.padStart(64, '0'),
  };
}

/** What the local bus hands its webhook target: the EventBridge envelope of the event. */
async function publish(event: PipelineEvent): Promise<void> {
  await webhookEventTarget(sqs, queues.events.url)(eventEnvelope(event, info.region));
}

/** Deliveries in the dead-letter queue. */
const parked = () => messagesIn(sqs, queues.deliveries.deadLetterUrl);
/** Deliveries still to be attempted or settled: none once every one was delivered, dropped or parked. */
const pending = () => messagesIn(sqs, queues.deliveries.url);

const requestsTo = (path: string) => receiver.received.filter((request) => request.path === path);

describe('webhook registration', () => {
  it('shows the secret once, lists without it, and keeps owners apart', async () => {
    const alice = uniqueOwner('alice');
    const bob = uniqueOwner('bob');
    const created = await register(alice, { url: `${receiver.url}/alice`, events: ['image.ready'] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ url: `${receiver.url}/alice`, events: ['image.ready'] });
    expect(created.json.secret).toMatch(/^whsec_/);
    // The answers are what the exported schemas (and so the OpenAPI document) say.
    expect(createdWebhookViewSchema.safeParse(created.json).success).toBe(true);

    const listed = await call(localApi, API_ROUTES.listWebhooks, alice);
    expect(webhookListSchema.safeParse(listed.json).success).toBe(true);
    expect(listed.json.items).toEqual([
      {
        webhookId: created.json.webhookId,
        url: created.json.url,
        events: ['image.ready'],
        createdAt: created.json.createdAt,
      },
    ]);
    expect(JSON.stringify(listed.json)).not.toContain(created.json.secret.slice(6));
    expect((await call(localApi, API_ROUTES.listWebhooks, bob)).json.items).toEqual([]);

    const path = { pathParameters: { webhookId: created.json.webhookId } };
    const unknown = { pathParameters: { webhookId: `wh_${'0'.repeat(24)}` } };
    const bobsTry = await call(localApi, API_ROUTES.deleteWebhook, bob, path);
    expect(bobsTry).toEqual(await call(localApi, API_ROUTES.deleteWebhook, bob, unknown));
    expect(bobsTry.status).toBe(404);
    expect((await call(localApi, API_ROUTES.deleteWebhook, alice, path)).status).toBe(204);
    expect((await call(localApi, API_ROUTES.deleteWebhook, alice, path)).status).toBe(404);
    expect((await call(localApi, API_ROUTES.listWebhooks, alice)).json.items).toEqual([]);
  });

  it('subscribes to every event type by default and caps endpoints per owner', async () => {
    const carol = uniqueOwner('carol');
    const first = await register(carol, { url: `${receiver.url}/carol` });
    expect(first.json.events).toEqual([
      'image.ingested',
      'image.ready',
      'image.failed',
      'image.deleted',
      'upload.rejected',
    ]);
    await register(carol, { url: `${receiver.url}/carol` });
    await register(carol, { url: `${receiver.url}/carol` });
    const fourth = await register(carol, { url: `${receiver.url}/carol` });
    expect(fourth.status).toBe(400);
    expect(fourth.json.error.message).toMatch(/3 webhook endpoints at most/);
  });

  it('refuses the metadata address, localhost, a name resolving to 10.0.0.1, and http, in a deployment', async () => {
    const mallory = uniqueOwner('mallory');
    dns.set('internal.example.com', ['10.0.0.1']);
    dns.set('metadata.example.com', ['169.254.169.254']);
    dns.set('hooks.example.com', ['93.184.215.14']);
    for (const url of [
      'http://169.254.169.254/',
      'https://169.254.169.254/latest/meta-data/',
      'http://localhost',
      'https://localhost/',
      'https://internal.example.com/hook',
      'https://metadata.example.com/hook',
      'https://[::ffff:a9fe:a9fe]/',
      'http://hooks.example.com/hook',
    ]) {
      const refused = await register(mallory, { url }, deployedApi);
      expect(refused, url).toMatchObject({ status: 400, json: { error: { field: 'url' } } });
    }
    expect((await register(mallory, { url: 'https://hooks.example.com/hook' }, deployedApi)).status).toBe(
      201,
    );
    expect((await call(deployedApi, API_ROUTES.listWebhooks, mallory)).json.items).toHaveLength(1);
  });
});

describe('webhook delivery', () => {
  it('delivers each subscribed event, signed as docs/webhooks.md says, to its owner’s endpoints only', async () => {
    const dave = uniqueOwner('dave');
    const erin = uniqueOwner('erin');
    const daves = await register(dave, { url: `${receiver.url}/dave`, events: ['image.deleted'] });
    const davesOther = await register(dave, { url: `${receiver.url}/dave-ready`, events: ['image.ready'] });
    const erins = await register(erin, { url: `${receiver.url}/erin` });
    expect([daves.status, davesOther.status, erins.status]).toEqual([201, 201, 201]);

    const event = deletedEvent(dave);
    await publish(event);
    await until(() => requestsTo('/dave').length === 1);
    const [request] = requestsTo('/dave');
    if (!request) throw new Error('no request');
    expect(verifyWebhook(daves.json.secret, request.headers, request.body)).toBe(true);
    // The wrong secret, a changed body or id: the same check says no.
    expect(verifyWebhook(erins.json.secret, request.headers, request.body)).toBe(false);
    expect(verifyWebhook(daves.json.secret, request.headers, request.body.replace('deleted', 'ready'))).toBe(
      false,
    );
    expect(
      verifyWebhook(daves.json.secret, { ...request.headers, 'webhook-id': 'other' }, request.body),
    ).toBe(false);
    expect(request.headers['webhook-id']).toBe(event.id);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({
      type: 'image.deleted',
      timestamp: event.occurredAt,
      data: event,
    });

    // Nothing for the endpoint not subscribed to the type, nor for another owner's.
    await publish(deletedEvent(erin));
    await until(() => requestsTo('/erin').length === 1);
    expect(requestsTo('/dave-ready')).toEqual([]);
    expect(requestsTo('/dave')).toHaveLength(1);
    const [erinsRequest] = requestsTo('/erin');
    expect(JSON.parse(erinsRequest?.body ?? '{}').data.owner).toBe(erin);
  });

  it('retries an endpoint that answers 500 three times, which gets the delivery once it recovers', async () => {
    const frank = uniqueOwner('frank');
    receiver.answer('/frank', { status: 500 }, { status: 500 }, { status: 500 }, { status: 200 });
    const { json } = await register(frank, { url: `${receiver.url}/frank` });
    const before = await parked();
    const event = deletedEvent(frank);
    await publish(event);
    await until(() => requestsTo('/frank').length === 4);
    const attempts = requestsTo('/frank');
    // Every attempt the same message under the same id, each signed afresh and valid.
    expect(new Set(attempts.map((a) => a.headers['webhook-id']))).toEqual(new Set([event.id]));
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    for (const attempt of attempts)
      expect(verifyWebhook(json.secret, attempt.headers, attempt.body)).toBe(true);
    // Delivered: the message is gone from the queue, not parked, and no fifth attempt came.
    await until(async () => (await pending()) === 0);
    expect(await parked()).toBe(before);
    expect(requestsTo('/frank')).toHaveLength(4);
  });

  it('takes a redirect to the metadata address as a failure, never follows it, and parks the delivery', async () => {
    const grace = uniqueOwner('grace');
    receiver.answer('/grace', {
      status: 302,
      headers: { location: 'http://169.254.169.254/latest/meta-data/' },
    });
    await register(grace, { url: `${receiver.url}/grace` });
    const before = await parked();
    await publish(deletedEvent(grace));
    // The schedule's three waits, four attempts, then the dead-letter queue.
    await until(async () => (await parked()) === before + 1);
    expect(requestsTo('/grace')).toHaveLength(4);
    expect(receiver.received.every((request) => request.path !== '/latest/meta-data/')).toBe(true);
  });

  it('refuses at delivery a name that resolves to a private address by then (DNS rebinding)', async () => {
    const heidi = uniqueOwner('heidi');
    const port = new URL(receiver.url).port;
    dns.set('heidi.test', ['127.0.0.1']);
    const created = await register(heidi, { url: `http://heidi.test:${port}/heidi` });
    expect(created.status).toBe(201);
    dns.set('heidi.test', ['10.0.0.1']);
    const before = await parked();
    await publish(deletedEvent(heidi));
    await until(async () => (await parked()) === before + 1);
    expect(requestsTo('/heidi')).toEqual([]);
  });

  it('drops the deliveries of an endpoint deleted meanwhile, and still delivers to the others', async () => {
    const ivan = uniqueOwner('ivan');
    receiver.answer('/ivan-gone', { status: 503 });
    const doomed = await register(ivan, { url: `${receiver.url}/ivan-gone` });
    await register(ivan, { url: `${receiver.url}/ivan` });
    const before = await parked();
    await publish(deletedEvent(ivan));
    await until(() => requestsTo('/ivan-gone').length === 1 && requestsTo('/ivan').length === 1);
    const deleted = await call(localApi, API_ROUTES.deleteWebhook, ivan, {
      pathParameters: { webhookId: doomed.json.webhookId },
    });
    expect(deleted.status).toBe(204);
    // Its next attempt finds no endpoint and drops the delivery: the queue empties with nothing parked,
    // well before the schedule's four attempts would have been used up.
    const attemptsBeforeDelete = requestsTo('/ivan-gone').length;
    await until(async () => (await pending()) === 0);
    expect(await parked()).toBe(before);
    // An attempt may have been under way while the endpoint was deleted; none came after it.
    expect(requestsTo('/ivan-gone').length).toBeLessThanOrEqual(attemptsBeforeDelete + 1);
    expect(requestsTo('/ivan-gone').length).toBeLessThan(4);
  });
});
