import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { MULTIPART_THRESHOLD_BYTES } from '../../web/multipart-threshold.js';
import { ApiClient } from '../support/api-client.js';
import { openWatchedPage, signInAs } from '../support/demo-page.js';
import { gradient } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';
import { type CabledRequest, type NetworkCable, startNetworkCable } from '../support/network-cable.js';

/** Debian's package, as the end-to-end test drives it; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
const MIB = 1024 * 1024;
/** Each wait only catches a hang: ingest and rendering of a 100 MB image on a busy two-core machine. */
const SETTLE_TIMEOUT_MS = 300_000;
/** How long the network is gone: a train in a tunnel. */
const OUTAGE_MS = 15_000;

let pipeline: LocalPipeline;
let cable: NetworkCable;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aperture-multipart-page-'));
  cable = await startNetworkCable();
  pipeline = await startLocalPipeline({
    dataDir: join(dir, 'data'),
    apiPort: 0,
    cdnPort: 0,
    workers: 1,
  });
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Everything the page sends goes through the cable, loopback included.
      args: [
        '--no-sandbox',
        '--headless=new',
        `--proxy-server=${cable.proxyUrl}`,
        '--proxy-bypass-list=<-loopback>',
      ],
    });
  }
});

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
  await cable?.close();
  await rm(dir, { recursive: true, force: true });
});

/** An uncompressed RGB TIFF: `side`² × 3 bytes and a little. */
async function tiffFile(name: string, side: number): Promise<{ path: string; bytes: Buffer }> {
  const path = join(dir, name);
  await sharp(gradient(side, side, firstSeed()), { raw: { width: side, height: side, channels: 3 } })
    .tiff({ compression: 'none' })
    .toFile(path);
  return { path, bytes: await readFile(path) };
}

/** The demo page signed in as `owner`, collecting uncaught errors and CSP refusals. */
async function openPage(owner: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await openWatchedPage(browser, `${pipeline.apiUrl}/`);
  await signInAs(opened.page, owner, SETTLE_TIMEOUT_MS);
  return opened;
}

const rowStatuses = (page: Page) =>
  page.getByTestId('upload-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')));

/** The part PUTs to the object at `key` that reached S3, in order, with the number each was for. */
function partRequests(key: string): Array<CabledRequest & { partNumber: number }> {
  return cable.requests.flatMap((request) => {
    const partNumber = Number(request.url.searchParams.get('partNumber'));
    const forKey = decodeURIComponent(request.url.pathname).endsWith(`/${key}`);
    return request.method === 'PUT' && forKey && partNumber > 0 ? [{ ...request, partNumber }] : [];
  });
}

/** The page's calls about one upload of Aperture's, e.g. `POST …/parts/3`, `GET …/parts`. */
function apiCalls(uploadId: string): CabledRequest[] {
  return cable.requests.filter((request) => request.url.pathname.startsWith(`/v1/uploads/${uploadId}`));
}

interface Grant {
  uploadId: string;
  method: string;
  key: string;
  partSize: number;
  partCount: number;
}

/** The API's answers to the page's `POST /v1/uploads`, as they come. */
function grantsSeenBy(page: Page): Grant[] {
  const grants: Grant[] = [];
  page.on('response', async (response) => {
    if (response.request().method() === 'POST' && new URL(response.url()).pathname === '/v1/uploads')
      grants.push(await response.json());
  });
  return grants;
}

/** Part numbers 1 to `count`. */
const numbered = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

const creates = (since: number) =>
  cable.requests.slice(since).filter((r) => r.method === 'POST' && r.url.pathname === '/v1/uploads');

describe.runIf(existsSync(CHROMIUM))('the demo page sending large files in parts', () => {
  it('uploads a file above the threshold in parts, and finds the same bytes a duplicate next time', async () => {
    const owner = uniqueOwner('parts');
    const { page, problems } = await openPage(owner);
    try {
      const file = await tiffFile('parts.tif', 2600);
      expect(file.bytes.length).toBeGreaterThan(MULTIPART_THRESHOLD_BYTES);
      const grants = grantsSeenBy(page);
      const requestsBefore = cable.requests.length;

      await page.getByTestId('file-input').setInputFiles(file.path);
      await expect.poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS }).toEqual(['ready']);

      expect(creates(requestsBefore)).toHaveLength(1);
      const [grant] = grants;
      expect(grant?.method).toBe('MULTIPART');
      const { uploadId = '', key = '', partSize = 0, partCount = 0 } = grant ?? {};
      expect(partCount).toBe(Math.ceil(file.bytes.length / partSize));
      expect(partCount).toBeGreaterThan(1);
      expect(partRequests(key).map((part) => [part.partNumber, part.status])).toEqual(
        numbered(partCount).map((partNumber) => [partNumber, 200]),
      );
      expect(apiCalls(uploadId).filter((call) => call.url.pathname.endsWith('/complete'))).toHaveLength(1);

      const imageId = createHash('sha256').update(file.bytes).digest('hex');
      const api = await ApiClient.forOwner(pipeline.apiUrl, owner);
      expect((await api.call('GET', `/v1/uploads/${uploadId}`)).body).toMatchObject({
        status: 'ready',
        imageId,
      });
      const card = page.locator(`[data-testid="gallery-card"][data-image-id="${imageId}"]`);
      await expect.poll(() => card.getAttribute('data-status'), { timeout: SETTLE_TIMEOUT_MS }).toBe('ready');

      // The same bytes again: the multipart create answers "duplicate", and nothing is sent.
      const partsBefore = cable.requests.filter((r) => r.url.searchParams.has('partNumber')).length;
      await page.getByTestId('file-input').setInputFiles(file.path);
      await expect
        .poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS })
        .toEqual(['duplicate', 'ready']);
      expect(cable.requests.filter((r) => r.url.searchParams.has('partNumber')).length).toBe(partsBefore);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 900_000);

  it('goes on with a 100 MB upload after the network drops mid-part, and it becomes one image', async () => {
    const owner = uniqueOwner('resume');
    const { page, problems } = await openPage(owner);
    try {
      // 5800 x 5800 RGB, uncompressed: 100.9 MB, 33.6 MP (under the default pixel limit).
      const file = await tiffFile('large.tif', 5800);
      const requestsBefore = cable.requests.length;
      const cdp = await page.context().newCDPSession(page);
      const network = (offline: boolean) =>
        cdp.send('Network.emulateNetworkConditions', {
          offline,
          latency: 0,
          downloadThroughput: -1,
          uploadThroughput: -1,
        });
      const grants = grantsSeenBy(page);

      // The network goes (the connection breaks and the browser knows it is offline) with part 3
      // 2 MiB on its way, and comes back OUTAGE_MS later.
      const pulled = cable.pullWhen(
        (request) =>
          request.method === 'PUT' &&
          request.url.searchParams.get('partNumber') === '3' &&
          request.bytesSent >= 2 * MIB,
      );
      await page.getByTestId('file-input').setInputFiles(file.path);
      await pulled;
      const cutAt = cable.requests.length;
      await network(true);
      await expect.poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS }).toEqual(['interrupted']);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      cable.plugIn();
      await network(false);

      await expect.poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS }).toEqual(['ready']);

      // One upload, and one image of it.
      expect(creates(requestsBefore).map((create) => create.status)).toEqual([201]);
      const { uploadId = '', key = '', partCount = 0 } = grants[0] ?? {};
      const api = await ApiClient.forOwner(pipeline.apiUrl, owner);
      const imageId = createHash('sha256').update(file.bytes).digest('hex');
      expect((await api.call('GET', '/v1/images')).body.items).toEqual([
        expect.objectContaining({ imageId, uploadId }),
      ]);
      expect((await api.call('GET', `/v1/uploads/${uploadId}`)).body).toMatchObject({
        status: 'ready',
        imageId,
      });
      expect((await api.call('GET', `/v1/images/${imageId}`)).body).toMatchObject({
        status: 'ready',
        width: 5800,
        height: 5800,
        bytes: file.bytes.length,
      });

      // Every planned part reached S3 once; the one cut off was sent again, and no other.
      const parts = partRequests(key);
      const arrived = parts.filter((part) => part.status === 200).map((part) => part.partNumber);
      expect(arrived).toEqual(numbered(partCount));
      expect(parts.filter((part) => part.status !== 200).map((part) => [part.partNumber, part.cut])).toEqual([
        [3, true],
      ]);
      // The page resumed by asking which parts S3 holds, and completed once.
      const after = apiCalls(uploadId).filter((call) => cable.requests.indexOf(call) >= cutAt);
      expect(
        after.find((call) => call.method === 'GET' && call.url.pathname.endsWith('/parts'))?.status,
      ).toBe(200);
      expect(
        apiCalls(uploadId)
          .filter((call) => call.url.pathname.endsWith('/complete'))
          .map((call) => call.status),
      ).toEqual([200]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 900_000);
});
