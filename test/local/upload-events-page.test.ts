import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_EVENTS_PATH } from '../../local/api/server.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { ApiClient } from '../support/api-client.js';
import { openWatchedPage, signInAs } from '../support/demo-page.js';
import { makeImage } from '../support/images.js';
import { firstSeed, uniqueOwner } from '../support/isolation.js';

/** Debian's package, as the end-to-end test drives it; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
/** Each wait only catches a hang: ingest and rendering on a busy two-core machine. */
const SETTLE_TIMEOUT_MS = 180_000;

let pipeline: LocalPipeline;
let browser: Browser;
let dir: string;
let seed = firstSeed();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aperture-events-page-'));
  pipeline = await startLocalPipeline({
    dataDir: join(dir, 'data'),
    apiPort: 0,
    cdnPort: 0,
    workers: 1,
    settings: { enrichment: { enabled: false } },
  });
  if (existsSync(CHROMIUM))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
});

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every request the page sends, and what became of it, as the browser's network events tell. */
interface Seen {
  request: Request;
  method: string;
  path: string;
  /** Headers arrived (for the event stream: it is open). */
  answered: boolean;
  failed: boolean;
}

function watchNetwork(page: Page): Seen[] {
  const seen: Seen[] = [];
  const find = (request: Request) => seen.find((entry) => entry.request === request);
  page.on('request', (request) =>
    seen.push({
      request,
      method: request.method(),
      path: new URL(request.url()).pathname,
      answered: false,
      failed: false,
    }),
  );
  page.on('response', (response) => {
    const entry = find(response.request());
    if (entry) entry.answered = true;
  });
  page.on('requestfailed', (request) => {
    const entry = find(request);
    if (entry) entry.failed = true;
  });
  return seen;
}

/**
 * The event streams the page opened for `owner` (whose token they carry). The page signs in as the
 * owner it remembers first, whose stream may or may not have started before the test's own owner.
 */
const streams = (seen: Seen[], owner: string) =>
  seen.filter((entry) => entry.path === LOCAL_EVENTS_PATH && tokenOwner(entry.request) === owner);

function tokenOwner(request: Request): string | undefined {
  const token = (request.headers().authorization ?? '').replace(/^Bearer /, '');
  const claims = token.split('.')[1];
  return claims
    ? (JSON.parse(Buffer.from(claims, 'base64url').toString()) as { sub: string }).sub
    : undefined;
}
/** The page's reads of an upload: what polling would be. */
const uploadReads = (seen: Seen[]) =>
  seen.filter((entry) => entry.method === 'GET' && entry.path.startsWith('/v1/uploads/'));

/** The API's answers to the page's `POST /v1/uploads`: the upload ids it was granted. */
function grantedUploads(page: Page): string[] {
  const ids: string[] = [];
  page.on('response', async (response) => {
    if (response.request().method() === 'POST' && new URL(response.url()).pathname === '/v1/uploads')
      ids.push(((await response.json()) as { uploadId: string }).uploadId);
  });
  return ids;
}

const rowStatuses = (page: Page) =>
  page.getByTestId('upload-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')));

async function pickImage(page: Page, name: string): Promise<void> {
  const buffer = await makeImage('png', { seed: seed++ });
  await page.getByTestId('file-input').setInputFiles({ name, mimeType: 'image/png', buffer });
}

describe.runIf(existsSync(CHROMIUM))('the demo page hearing its uploads on the event stream', () => {
  it('shows an upload turning ready without reading the upload once, on one stream per owner', async () => {
    const { page, problems } = await openWatchedPage(browser, `${pipeline.apiUrl}/`);
    try {
      const seen = watchNetwork(page);
      const granted = grantedUploads(page);
      const owner = uniqueOwner('stream');
      await signInAs(page, owner, SETTLE_TIMEOUT_MS);
      await expect
        .poll(() => streams(seen, owner).some((entry) => entry.answered), { timeout: SETTLE_TIMEOUT_MS })
        .toBe(true);

      await pickImage(page, 'heard.png');
      await expect.poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS }).toEqual(['ready']);
      expect(granted).toHaveLength(1);
      // The gallery heard it too: the card is painted from the image's ready view.
      const cards = page.getByTestId('gallery-card');
      await expect
        .poll(() => cards.evaluateAll((all) => all.map((card) => card.getAttribute('data-status'))), {
          timeout: SETTLE_TIMEOUT_MS,
        })
        .toEqual(['ready']);

      // The stream was open before the file was added: not one read of the upload, and the stream
      // the page opened at sign-in is the only one.
      expect(uploadReads(seen).map((entry) => entry.path)).toEqual([]);
      expect(streams(seen, owner).map((entry) => [entry.method, entry.failed])).toEqual([['GET', false]]);
      expect(streams(seen, owner)[0]?.request.url()).not.toContain('token');

      // Another owner: the first owner's stream is closed, and the new owner's opened.
      const next = uniqueOwner('next');
      await signInAs(page, next, SETTLE_TIMEOUT_MS);
      const states = (who: string) => streams(seen, who).map((entry) => [entry.answered, entry.failed]);
      await expect.poll(() => states(owner), { timeout: SETTLE_TIMEOUT_MS }).toEqual([[true, true]]);
      await expect.poll(() => states(next), { timeout: SETTLE_TIMEOUT_MS }).toEqual([[true, false]]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('catches up once through the API when the stream comes back after the upload settled', async () => {
    const { page, problems } = await openWatchedPage(browser, `${pipeline.apiUrl}/`);
    try {
      let streamDown = true;
      await page.route(`**${LOCAL_EVENTS_PATH}`, (route) => (streamDown ? route.abort() : route.continue()));
      const seen = watchNetwork(page);
      const granted = grantedUploads(page);
      const owner = uniqueOwner('catch-up');
      await signInAs(page, owner, SETTLE_TIMEOUT_MS);

      await pickImage(page, 'missed.png');
      await expect.poll(() => granted.length, { timeout: SETTLE_TIMEOUT_MS }).toBe(1);
      const uploadId = granted[0] ?? '';
      // The pipeline finishes the upload while the page cannot hear it.
      const api = await ApiClient.forOwner(pipeline.apiUrl, owner);
      await expect
        .poll(async () => (await api.call('GET', `/v1/uploads/${uploadId}`)).body.status, {
          timeout: SETTLE_TIMEOUT_MS,
        })
        .toBe('ready');
      await expect.poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS }).toEqual(['pending']);
      expect(uploadReads(seen)).toEqual([]);

      streamDown = false;
      await expect.poll(() => rowStatuses(page), { timeout: SETTLE_TIMEOUT_MS }).toEqual(['ready']);
      expect(uploadReads(seen).map((entry) => entry.path)).toEqual([`/v1/uploads/${uploadId}`]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);
});
