import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { API_ROUTES } from '../../lambdas/handlers/api-routes.js';
import { LocalJwt } from '../../local/api/local-jwt.js';
import { LOCAL_TOKEN_PATH, type LocalApi, startLocalApi } from '../../local/api/server.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
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

describe('the local API Gateway', () => {
  it('runs the API handler with the JWT owner: an upload granted, visible to its owner only', async () => {
    const created = await call('/v1/uploads', {
      method: 'POST',
      owner: 'alice',
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

    const mine = await call(`/v1/uploads/${grant.uploadId}`, { owner: 'alice' });
    expect(await mine.json()).toMatchObject({ uploadId: grant.uploadId, status: 'pending' });
    expect((await call(`/v1/uploads/${grant.uploadId}`, { owner: 'bob' })).status).toBe(404);
  });

  it('answers what API Gateway refuses itself, without calling the function', async () => {
    const noToken = await call('/v1/images');
    expect([noToken.status, await noToken.json()]).toEqual([401, { message: 'Unauthorized' }]);
    const forged = await call('/v1/images', {
      headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' },
    });
    expect(forged.status).toBe(401);
    const unknown = await call('/v1/everything', { method: 'DELETE', owner: 'alice' });
    expect([unknown.status, await unknown.json()]).toEqual([404, { message: 'Not Found' }]);
    const huge = await call('/v1/uploads', {
      method: 'POST',
      owner: 'alice',
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(huge.status).toBe(413);
  });

  it('passes the function’s own errors through as JSON', async () => {
    const response = await call('/v1/uploads', {
      method: 'POST',
      owner: 'alice',
      body: '{"contentType":"text/html","size":1}',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: 'unsupported_image' } });
  });

  it('answers CORS preflights for the API’s methods and headers', async () => {
    const response = await call('/v1/uploads', {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')?.split(',')).toEqual(
      expect.arrayContaining(['GET', 'POST']),
    );
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
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
