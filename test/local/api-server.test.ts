import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, PUBLIC_API_ROUTES } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { LocalJwt } from '../../local/api/local-jwt.js';
import { LOCAL_TOKEN_PATH, type LocalApi, startLocalApi } from '../../local/api/server.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { uniqueOwner } from '../support/isolation.js';
import { twinInfo } from '../support/twin.js';

let api: LocalApi;
let jwt: LocalJwt;
const CSP = "default-src 'self'";

beforeAll(async () => {
  jwt = await LocalJwt.inDataDir(await mkdtemp(join(tmpdir(), 'aperture-api-')));
  const env = twinFunctionEnvironment(twinInfo(), parseSettings(), 'http://127.0.0.1:9/cdn');
  api = await startLocalApi({
    host: '127.0.0.1',
    port: 0,
    handler: createApiHandler(apiDependenciesFromEnvironment(env)),
    routeKeys: Object.values(API_ROUTES),
    publicRouteKeys: PUBLIC_API_ROUTES,
    jwt,
    staticFiles: new Map([
      ['/', { contentType: 'text/html; charset=utf-8', body: Buffer.from('<h1>hi</h1>') }],
    ]),
    contentSecurityPolicy: CSP,
  });
});
afterAll(() => api.stop());

const call = (path: string, init: RequestInit & { owner?: string } = {}) =>
  fetch(`${api.url}${path}`, {
    ...init,
    headers: {
      ...(init.owner ? { authorization: `Bearer ${jwt.issue(init.owner)}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });

const upload = { contentType: 'image/jpeg', size: 1234, filename: 'cat.jpg' };
const alice = uniqueOwner('alice');
const bob = uniqueOwner('bob');

describe('the local API Gateway', () => {
  it('runs the API handler with the JWT owner: an upload granted, visible to its owner only', async () => {
    const created = await call('/v1/uploads', {
      method: 'POST',
      owner: alice,
      body: JSON.stringify(upload),
    });
    expect(created.status).toBe(201);
    const grant = (await created.json()) as {
      uploadId: string;
      method: string;
      url: string;
      fields: Record<string, string>;
    };
    expect(grant.method).toBe('POST');
    expect(grant.url).toContain(twinInfo().endpoints.s3);
    expect(Object.keys(grant.fields)).toContain('Policy');

    const mine = await call(`/v1/uploads/${grant.uploadId}`, { owner: alice });
    expect(await mine.json()).toMatchObject({ uploadId: grant.uploadId, status: 'pending' });
    expect((await call(`/v1/uploads/${grant.uploadId}`, { owner: bob })).status).toBe(404);
  });

  it('answers what API Gateway refuses itself, without calling the function', async () => {
    const noToken = await call('/v1/images');
    expect([noToken.status, await noToken.json()]).toEqual([401, { message: 'Unauthorized' }]);
    const forged = await call('/v1/images', {
      headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' },
    });
    expect(forged.status).toBe(401);
    const open = await call('/v1/openapi.json');
    expect([open.status, ((await open.json()) as { openapi: string }).openapi]).toEqual([200, '3.1.0']);
    const unknown = await call('/v1/everything', { method: 'DELETE', owner: alice });
    expect([unknown.status, await unknown.json()]).toEqual([404, { message: 'Not Found' }]);
    const huge = await call('/v1/uploads', {
      method: 'POST',
      owner: alice,
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(huge.status).toBe(413);
  });

  it('passes the function’s own errors through as JSON', async () => {
    const response = await call('/v1/uploads', {
      method: 'POST',
      owner: alice,
      body: '{"contentType":"text/html","size":1}',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: 'unsupported_image' } });
  });

  it('answers CORS for the page’s own origins only', async () => {
    const page = api.url;
    const port = new URL(page).port;
    expect(api.origins).toEqual([page, `http://localhost:${port}`]);
    const preflight = (origin: string) =>
      call('/v1/uploads', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });

    for (const origin of api.origins) {
      const granted = await preflight(origin);
      expect(granted.status).toBe(204);
      expect(granted.headers.get('access-control-allow-origin')).toBe(origin);
      expect(granted.headers.get('access-control-allow-methods')?.split(',')).toEqual(
        expect.arrayContaining(['GET', 'POST']),
      );
      expect(granted.headers.get('access-control-allow-headers')).toContain('authorization');
    }
    // Another site, another local server (same host, other port), a name DNS rebinding points here.
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', `http://rebound.example:${port}`]) {
      const refused = await preflight(origin);
      expect(refused.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(refused.headers.get('access-control-allow-methods'), origin).toBeNull();
      const answer = await call('/v1/images', { owner: alice, headers: { origin } });
      expect(answer.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('hands tokens to the page and to tools, never to a page of another origin', async () => {
    const askAs = (headers: Record<string, string>) =>
      call(LOCAL_TOKEN_PATH, { method: 'POST', body: JSON.stringify({ owner: 'mallory' }), headers });

    // What browsers send for the page's own fetch, and what a tool without a browser sends.
    const allowed: Record<string, string>[] = [
      { origin: api.url, 'sec-fetch-site': 'same-origin' },
      { origin: api.origins[1] ?? '', 'sec-fetch-site': 'same-origin' },
      {},
    ];
    for (const headers of allowed) {
      const issued = await askAs(headers);
      expect(issued.status, JSON.stringify(headers)).toBe(200);
      expect(jwt.verify(((await issued.json()) as { token: string }).token)?.sub).toBe('mallory');
    }

    const refusedHeaders: Record<string, string>[] = [
      // A page elsewhere: a form-encoded request needs no preflight, so only the server can stop it.
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      // Another server on this machine is the same site, but not the page.
      { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
      // A sandboxed frame or a file.
      { origin: 'null' },
      // DNS rebinding: the browser takes it for same-origin, but the origin is not the page's.
      { origin: `http://rebound.example:${new URL(api.url).port}`, 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of refusedHeaders) {
      const refused = await askAs(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(await refused.json()).toEqual({
        error: { code: 'forbidden', message: expect.stringContaining('demo page only') },
      });
    }
  });

  it('hands out tokens for printable owners only, and serves the page with its CSP', async () => {
    const issued = await call(LOCAL_TOKEN_PATH, { method: 'POST', body: JSON.stringify({ owner: 'carol' }) });
    const { token } = (await issued.json()) as { token: string };
    expect(jwt.verify(token)?.sub).toBe('carol');
    const refused = await call(LOCAL_TOKEN_PATH, {
      method: 'POST',
      body: JSON.stringify({ owner: 'bad owner\n' }),
    });
    expect(refused.status).toBe(400);

    const page = await call('/');
    expect([page.status, page.headers.get('content-security-policy'), await page.text()]).toEqual([
      200,
      CSP,
      '<h1>hi</h1>',
    ]);
  });
});
