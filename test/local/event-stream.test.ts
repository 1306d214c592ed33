import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lambdas/contract.js';
import { EVENT_SCHEMA_VERSION, eventId, type PipelineEvent } from '../../lambdas/core/events.js';
import { LocalJwt } from '../../local/api/local-jwt.js';
import { LOCAL_EVENTS_PATH, type LocalApi, startLocalApi } from '../../local/api/server.js';
import { LocalEventBus } from '../../local/runtime/local-event-bus.js';
import { type SseMessage, SseParser } from '../../web/sse.js';
import { uniqueOwner } from '../support/isolation.js';

/** Only catches a hang: a busy machine may take a while to pass a write through a socket. */
const eventually = <T>(read: () => T) => expect.poll(read, { timeout: 30_000 });

let dir: string;
let jwt: LocalJwt;
let api: LocalApi;
let bus: LocalEventBus;
/** How many listeners the API holds on the bus right now. */
let listening = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aperture-event-stream-'));
  jwt = await LocalJwt.inDataDir(dir);
  bus = new LocalEventBus('us-east-1', new Logger({ logLevel: 'SILENT' }));
  api = await startLocalApi({
    host: '127.0.0.1',
    port: 0,
    handler: async () => ({ statusCode: 500 }),
    routeKeys: Object.values(API_ROUTES),
    jwt,
    events: {
      listen: (listener) => {
        listening++;
        const stop = bus.listen(listener);
        return () => {
          listening--;
          stop();
        };
      },
    },
  });
});

// Each test closes its streams; the next starts once the server has let go of them.
afterEach(async () => {
  await eventually(() => listening).toBe(0);
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface OpenStream {
  response: Response;
  messages: SseMessage[];
  /** Raw text, comments included. */
  text: string[];
  close(): void;
}

/** `LOCAL_EVENTS_PATH` as `owner`, read in the background into `messages` until closed. */
async function openStream(owner: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(`${api.url}${LOCAL_EVENTS_PATH}`, {
    headers: { authorization: `Bearer ${jwt.issue(owner)}`, ...headers },
    signal: controller.signal,
  });
  const stream: OpenStream = { response, messages: [], text: [], close: () => controller.abort() };
  const parser = new SseParser();
  const decoder = new TextDecoder();
  void (async () => {
    if (!response.body) return;
    for await (const chunk of response.body) {
      const text = decoder.decode(chunk, { stream: true });
      stream.text.push(text);
      stream.messages.push(...parser.push(text));
    }
  })().catch(() => {});
  return stream;
}

const rejected = (owner: string, uploadId: string): PipelineEvent => ({
  version: EVENT_SCHEMA_VERSION,
  type: 'upload.rejected',
  id: eventId.rejected(uploadId),
  occurredAt: new Date().toISOString(),
  owner,
  uploadId,
  collection: undefined,
  reason: 'unsupported_format',
  message: 'not an image',
});

const deleted = (owner: string, imageId: string, uploadId: string): PipelineEvent => ({
  version: EVENT_SCHEMA_VERSION,
  type: 'image.deleted',
  id: eventId.deleted(imageId, uploadId),
  occurredAt: new Date().toISOString(),
  owner,
  uploadId,
  collection: 'holidays',
  imageId,
});

describe('the local event stream', () => {
  it('streams each owner their own events, and nothing of another owner’s', async () => {
    const [alice, bob, carol] = [uniqueOwner('alice'), uniqueOwner('bob'), uniqueOwner('carol')];
    const [toAlice, toBob] = await Promise.all([openStream(alice), openStream(bob)]);
    try {
      for (const stream of [toAlice, toBob]) {
        expect(stream.response.status).toBe(200);
        expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      }
      const events = [
        rejected(alice, 'upload-a1'),
        deleted(bob, 'b'.repeat(64), 'upload-b1'),
        rejected(carol, 'upload-c1'),
        deleted(alice, 'a'.repeat(64), 'upload-a2'),
        rejected(bob, 'upload-b2'),
      ];
      await bus.publish(events);
      const heardBy = (owner: string) =>
        events
          .filter((event) => event.owner === owner)
          .map((event) => ({ id: event.id, event: event.type, data: JSON.stringify(event) }));
      // Each owner's last event came last on their connection: nothing else can still be on its way.
      await eventually(() => toAlice.messages.length).toBe(2);
      await eventually(() => toBob.messages.length).toBe(2);
      expect(toAlice.messages).toEqual(heardBy(alice));
      expect(toBob.messages).toEqual(heardBy(bob));
      expect(JSON.parse(toAlice.messages[0]?.data ?? '')).toEqual(events[0]);
      const raw = [...toAlice.text, ...toBob.text].join('');
      expect(raw).not.toContain(carol);
    } finally {
      toAlice.close();
      toBob.close();
    }
  });

  it('answers 401 to a request without a valid token, as the API does, and listens to nothing for it', async () => {
    const url = `${api.url}${LOCAL_EVENTS_PATH}`;
    const forged = `${jwt.issue('mallory').slice(0, -4)}AAAA`;
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer not-a-token' },
      { authorization: `Bearer ${forged}` },
    ]) {
      const answer = await fetch(url, { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(await answer.json()).toEqual({ message: 'Unauthorized' });
    }
    // A token in the URL is no token.
    expect((await fetch(`${url}?token=${jwt.issue('mallory')}`)).status).toBe(401);
    expect(listening).toBe(0);
  });

  it('stops listening when the client goes', async () => {
    const stream = await openStream(uniqueOwner('leaver'));
    expect(stream.response.status).toBe(200);
    expect(listening).toBe(1);
    stream.close();
    await eventually(() => listening).toBe(0);
    // The bus publishes on without it.
    await expect(bus.publish([rejected(uniqueOwner('other'), 'upload-x')])).resolves.toEqual({ refused: [] });
  });

  it('admits the page’s own origins by CORS, as the API’s routes do, and no other', async () => {
    const owner = uniqueOwner('cors');
    for (const origin of api.origins) {
      const stream = await openStream(owner, { origin });
      stream.close();
      expect(stream.response.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const foreign = await openStream(owner, { origin: 'https://evil.example' });
    foreign.close();
    expect(foreign.response.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${api.url}${LOCAL_EVENTS_PATH}`, {
      method: 'OPTIONS',
      headers: {
        origin: api.origins[0] ?? '',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
  });
});
