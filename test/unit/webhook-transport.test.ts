import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhookUrl, HttpWebhookTransport } from '../../lambdas/adapters/net/webhook-transport.js';
import { ValidationError } from '../../lambdas/core/errors.js';
import { DEPLOYMENT_URL_POLICY, LOCAL_URL_POLICY } from '../../lambdas/core/webhook-urls.js';
import type { HostResolver } from '../../lambdas/ports/webhooks.js';

/** A receiver on loopback whose answer each test picks by path. */
let server: Server;
let base: string;
const hits: string[] = [];

const ANSWERS: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
  '/ok': (_, response) => response.writeHead(204).end(),
  '/fail': (_, response) => response.writeHead(500).end('down'),
  '/redirect': (_, response) =>
    response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
  '/big': (_, response) => {
    response.writeHead(200);
    response.end(Buffer.alloc(4 * 1024 * 1024, 0x61));
  },
  '/silent': () => {},
};

beforeAll(async () => {
  server = createServer((request, response) => {
    hits.push(request.url ?? '');
    request.resume();
    request.on('end', () => ANSWERS[request.url ?? '']?.(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Names resolved by a table, as a test's DNS; every name asked is recorded. */
function fakeDns(table: Record<string, string[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  return Object.assign(resolve, { asked });
}

const local = (resolve?: HostResolver) =>
  new HttpWebhookTransport({ policy: LOCAL_URL_POLICY, timeoutMs: 2000, ...(resolve ? { resolve } : {}) });

describe('HttpWebhookTransport', () => {
  it('delivers on a 2xx and sends the headers and body it is given', async () => {
    const attempt = await local().post(`${base}/ok`, { 'webhook-id': 'x' }, '{"a":1}');
    expect(attempt).toEqual({ outcome: 'delivered', status: 204 });
  });

  it('fails on a 5xx', async () => {
    expect(await local().post(`${base}/fail`, {}, '{}')).toMatchObject({
      outcome: 'failed',
      reason: 'status',
      status: 500,
    });
  });

  it('takes a redirect as a failed attempt and never follows it to the metadata address', async () => {
    const dns = fakeDns({});
    const before = hits.length;
    const attempt = await local(dns).post(`${base}/redirect`, {}, '{}');
    expect(attempt).toMatchObject({ outcome: 'failed', reason: 'redirect', status: 302 });
    expect(hits.slice(before)).toEqual(['/redirect']);
    expect(dns.asked).toEqual([]);
  });

  it('refuses, before connecting, a name that resolves to a private address', async () => {
    const dns = fakeDns({ 'hooks.example.com': ['10.0.0.1'] });
    const transport = new HttpWebhookTransport({ policy: DEPLOYMENT_URL_POLICY, resolve: dns });
    const attempt = await transport.post('https://hooks.example.com/x', {}, '{}');
    expect(attempt).toMatchObject({ outcome: 'failed', reason: 'address_refused' });
    expect(attempt.outcome === 'failed' && attempt.detail).toMatch(/private/);
    expect(dns.asked).toEqual(['hooks.example.com']);
  });

  it('refuses a name with one private address among public ones', async () => {
    const dns = fakeDns({ 'mixed.example.com': ['93.184.215.14', '169.254.169.254'] });
    const transport = new HttpWebhookTransport({ policy: DEPLOYMENT_URL_POLICY, resolve: dns });
    expect(await transport.post('https://mixed.example.com/', {}, '{}')).toMatchObject({
      reason: 'address_refused',
    });
  });

  it('connects to the address it checked: a name resolving to loopback reaches the receiver locally only', async () => {
    const port = new URL(base).port;
    const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] });
    expect(await local(dns).post(`http://receiver.test:${port}/ok`, {}, '{}')).toEqual({
      outcome: 'delivered',
      status: 204,
    });
    const deployed = new HttpWebhookTransport({
      policy: { ...DEPLOYMENT_URL_POLICY, allowHttp: true },
      resolve: dns,
    });
    const before = hits.length;
    expect(await deployed.post(`http://receiver.test:${port}/ok`, {}, '{}')).toMatchObject({
      reason: 'address_refused',
    });
    expect(hits.length).toBe(before);
  });

  it('refuses the metadata address and localhost as literals under the deployment policy', async () => {
    const transport = new HttpWebhookTransport({ policy: DEPLOYMENT_URL_POLICY, resolve: fakeDns({}) });
    for (const url of [
      'http://169.254.169.254/',
      'https://169.254.169.254/',
      'https://localhost/',
      `${base}/ok`,
    ]) {
      expect(await transport.post(url, {}, '{}')).toMatchObject({
        outcome: 'failed',
        reason: 'address_refused',
      });
    }
  });

  it('gives up on an endpoint that never answers, as a timeout', async () => {
    const transport = new HttpWebhookTransport({ policy: LOCAL_URL_POLICY, timeoutMs: 300 });
    expect(await transport.post(`${base}/silent`, {}, '{}')).toMatchObject({
      outcome: 'failed',
      reason: 'timeout',
    });
  });

  it('reads no more of an answer than its cap', async () => {
    const transport = new HttpWebhookTransport({ policy: LOCAL_URL_POLICY, maxResponseBytes: 1024 });
    expect(await transport.post(`${base}/big`, {}, '{}')).toEqual({ outcome: 'delivered', status: 200 });
  });

  it('fails on a name that does not resolve, as a network failure', async () => {
    expect(await local(fakeDns({})).post('http://nowhere.test/', {}, '{}')).toMatchObject({
      reason: 'network',
    });
  });
});

describe('checkWebhookUrl', () => {
  it('refuses a name resolving to 10.0.0.1, a name that does not resolve, and takes a public one', async () => {
    const dns = fakeDns({ 'internal.example.com': ['10.0.0.1'], 'hooks.example.com': ['93.184.215.14'] });
    await expect(
      checkWebhookUrl('https://internal.example.com/', DEPLOYMENT_URL_POLICY, dns),
    ).rejects.toThrow(/private/);
    await expect(checkWebhookUrl('https://gone.example.com/', DEPLOYMENT_URL_POLICY, dns)).rejects.toThrow(
      ValidationError,
    );
    expect((await checkWebhookUrl('https://hooks.example.com/h', DEPLOYMENT_URL_POLICY, dns)).href).toBe(
      'https://hooks.example.com/h',
    );
  });
});
