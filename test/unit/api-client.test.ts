import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApertureClient, ApiError, bearer } from '../../lib/api-client.js';

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** Stands in for the API: answers every request with `status` and `body`, and records what was sent. */
function answering(status: number, body?: unknown, raw?: string): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
    sent.push({
      method: String(init.method),
      url: String(url),
      headers: init.headers as Record<string, string>,
      body: (init.body as string | null) ?? null,
    });
    const text = raw ?? (body === undefined ? '' : JSON.stringify(body));
    return new Response(status === 204 ? null : text, { status });
  });
  return sent;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const client = new ApertureClient({ baseUrl: 'https://api.example/', auth: bearer('t0ken') });

describe('the typed API client', () => {
  it('sends each operation to its route: path parameters escaped, the body as JSON, the identity as auth says', async () => {
    const sent = answering(200, { uploadId: 'u1' });
    await client.completeUpload('a/b', { parts: [{ PartNumber: 1, ETag: '"e"' }] });
    await client.signUploadPart('u1', 3);
    expect(sent).toEqual([
      {
        method: 'POST',
        url: 'https://api.example/v1/uploads/a%2Fb/complete',
        headers: { 'content-type': 'application/json', authorization: 'Bearer t0ken' },
        body: JSON.stringify({ parts: [{ PartNumber: 1, ETag: '"e"' }] }),
      },
      {
        method: 'POST',
        url: 'https://api.example/v1/uploads/u1/parts/3',
        headers: { authorization: 'Bearer t0ken' },
        body: null,
      },
    ]);
  });

  it('writes a query with spaces as %20, never +, and leaves out what is not given', async () => {
    const sent = answering(200, { items: [], semantic: false });
    await client.search({ q: 'a+b & c=d', tag: 'teddy bear', cursor: undefined, limit: '10' });
    const url = sent[0]?.url ?? '';
    expect(url).toBe('https://api.example/v1/search?q=a%2Bb%20%26%20c%3Dd&tag=teddy%20bear&limit=10');
    expect(Object.fromEntries(new URL(url).searchParams)).toEqual({
      q: 'a+b & c=d',
      tag: 'teddy bear',
      limit: '10',
    });
  });

  it('registers, lists and removes webhook endpoints at their routes', async () => {
    const sent = answering(200, { items: [] });
    await client.createWebhook({ url: 'https://hooks.example/in', events: ['image.ready'] });
    await client.listWebhooks();
    await client.deleteWebhook('wh_1');
    expect(sent.map(({ method, url, body }) => [method, url, body])).toEqual([
      [
        'POST',
        'https://api.example/v1/webhooks',
        JSON.stringify({ url: 'https://hooks.example/in', events: ['image.ready'] }),
      ],
      ['GET', 'https://api.example/v1/webhooks', null],
      ['DELETE', 'https://api.example/v1/webhooks/wh_1', null],
    ]);
  });

  it('answers a 204 with nothing', async () => {
    answering(204);
    await expect(client.deleteImage('abc')).resolves.toBeUndefined();
  });

  it.each([
    [
      "the API's own error",
      409,
      { error: { code: 'conflict', message: 'not in progress', reason: 'upload_not_in_progress' } },
      {
        status: 409,
        code: 'conflict',
        reason: 'upload_not_in_progress',
        field: undefined,
        transient: false,
        message: 'not in progress',
      },
    ],
    [
      'a refused field',
      400,
      { error: { code: 'invalid_request', message: 'size: required', field: 'size' } },
      {
        status: 400,
        code: 'invalid_request',
        field: 'size',
        reason: undefined,
        transient: false,
        message: 'size: required',
      },
    ],
    [
      "API Gateway's own refusal",
      429,
      { message: 'Too Many Requests' },
      {
        status: 429,
        code: 'http_429',
        field: undefined,
        reason: undefined,
        transient: true,
        message: 'Too Many Requests',
      },
    ],
  ])('turns %s into an ApiError with its status and code', async (_case, status, body, expected) => {
    answering(status, body);
    const error = await client.getUpload('u1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    const { code, field, reason, transient } = error as ApiError;
    const { message, ...rest } = expected;
    expect({ status: (error as ApiError).status, code, field, reason, transient }).toEqual(rest);
    expect((error as ApiError).request).toBe('GET /v1/uploads/u1');
    expect((error as ApiError).message).toBe(message);
  });

  it('takes an answer that is not JSON (an edge 502) by its status alone', async () => {
    answering(502, undefined, '<html>Bad Gateway</html>');
    await expect(client.getImage('abc')).rejects.toMatchObject({
      status: 502,
      code: 'http_502',
      transient: true,
    });
  });

  it('fails a request that gets no answer as a transient network error, but lets an abort through as it is', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('fetch failed');
    });
    await expect(client.listImages()).rejects.toMatchObject({ status: 0, code: 'network', transient: true });

    const controller = new AbortController();
    controller.abort();
    vi.stubGlobal('fetch', async (_url: URL, init: RequestInit) => {
      init.signal?.throwIfAborted();
      return new Response('{}');
    });
    const aborted = new ApertureClient({ baseUrl: 'https://api.example', signal: controller.signal });
    const error = await aborted.listImages().catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(ApiError);
    expect((error as Error).name).toBe('AbortError');
  });
});
