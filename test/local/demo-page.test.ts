import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EnrichmentView,
  ImageView,
  SimilarImageView as SimilarImage,
} from '../../lambdas/core/image-views.js';
import { buildWebAssets } from '../../local/web/assets.js';
import { openWatchedPage } from '../support/demo-page.js';

/** Debian's package, as the end-to-end test drives it; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
/** What `npm start` serves the page with (`local/runtime/local-pipeline.ts`), minus the other origins. */
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'";
const TOKEN = 'demo-page-token';
/** Only catches a hang: the page waits on a browser and a server, on a machine that may be busy. */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 60_000 });

function view(imageId: string, filename: string, extra: Partial<ImageView> = {}): ImageView {
  return {
    imageId,
    status: 'ready',
    format: 'jpeg',
    contentType: 'image/jpeg',
    width: 800,
    height: 600,
    pages: 1,
    animated: false,
    hasAlpha: false,
    bytes: 123_456,
    createdAt: '2025-01-01T00:00:00.000Z',
    collection: undefined,
    filename,
    uploadId: `upload-${filename}`,
    variants: [],
    ...extra,
  };
}

/** Model output written to get out of its text node. */
const HOSTILE_TAG = '<img src=x onerror="window.injected=1">';
const HOSTILE_CAPTION = 'A bird <b>on</b> a branch <script>window.injected=1</script>';

const enriched: EnrichmentView = {
  status: 'done',
  tags: [
    { name: 'bird', confidence: 0.934 },
    { name: HOSTILE_TAG, confidence: 0.71 },
    { name: 'sky', confidence: 0.65 },
    { name: 'tree', confidence: 0.62 },
  ],
  caption: { text: HOSTILE_CAPTION, source: 'template' },
  colours: [
    { hex: '#3366cc', name: 'blue', share: 0.42 },
    { hex: '#fafafa', name: 'white', share: 0.3 },
  ],
  moderation: { labels: [{ name: 'Violence', confidence: 0.8 }], flagged: true, held: false },
};

const BIRD = view('b'.repeat(64), 'bird.jpg', { enrichment: enriched });
/** The bird re-encoded: not analysed yet, and known to nearly duplicate the bird. */
const COPY = view('c'.repeat(64), 'bird-copy.jpg', {
  enrichment: { status: 'pending' },
  nearDuplicateOf: BIRD.imageId,
});
/** From a deployment that does not enrich. */
const PLAIN = view('d'.repeat(64), 'plain.png', { format: 'png', contentType: 'image/png' });
const BROKEN = view('e'.repeat(64), 'broken.jpg', {
  enrichment: { status: 'failed', reason: 'retries_exhausted', message: 'the tagger timed out' },
});
const IMAGES = [BIRD, COPY, PLAIN, BROKEN];

type Answer = { status: number; body: unknown };
const ok = (body: unknown): Answer => ({ status: 200, body });

/**
 * The API as issue 15 plans it, answering from the images above: the listing, image views, search
 * (page 1 then a cursor to page 2; words containing "meaning" are ranked semantically; "explode" is
 * refused) and similar images (the bird's copy; a 500 for the plain image; a 404, as from an API
 * without the route, for the copy).
 */
function fakeApi(method: string, url: URL): Answer {
  const image = /^\/v1\/images\/([^/]+)(\/similar)?$/.exec(url.pathname);
  if (method === 'GET' && url.pathname === '/v1/images') {
    return ok({
      items: IMAGES.map(({ imageId, filename, uploadId }) => ({
        imageId,
        filename,
        uploadId,
        linkedAt: '2025-01-01T00:00:00.000Z',
      })),
    });
  }
  if (method === 'GET' && image?.[1]) {
    const found = IMAGES.find(({ imageId }) => imageId === image[1]);
    if (!found) return { status: 404, body: { error: { code: 'not_found', message: 'no such image' } } };
    if (!image[2]) return ok(found);
    if (found === BIRD) return ok({ items: [{ ...COPY, distance: 3 } satisfies SimilarImage] });
    if (found === PLAIN)
      return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
    if (found === COPY) return { status: 404, body: { message: 'Not Found' } };
    return ok({ items: [] });
  }
  if (method === 'GET' && url.pathname === '/v1/search') {
    const q = url.searchParams.get('q') ?? '';
    if (q === 'explode') {
      return {
        status: 400,
        body: { error: { code: 'invalid_query', message: 'q is not searchable', field: 'q' } },
      };
    }
    const semantic = q.includes('meaning');
    return url.searchParams.get('cursor') === 'page-2'
      ? ok({ items: [COPY], semantic })
      : ok({ items: [BIRD], cursor: 'page-2', semantic });
  }
  return { status: 404, body: { message: 'Not Found' } };
}

let server: Server;
let origin: string;
let browser: Browser;
/** Every API request the page made, in order. */
const requests: URL[] = [];

beforeAll(async () => {
  const assets = await buildWebAssets();
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://page');
    const asset = request.method === 'GET' ? assets.get(url.pathname) : undefined;
    if (asset) {
      response.writeHead(200, { 'content-type': asset.contentType, 'content-security-policy': CSP });
      response.end(asset.body);
      return;
    }
    requests.push(url);
    const { status, body } =
      url.pathname === '/local/token'
        ? ok({ token: TOKEN })
        : request.headers.authorization === `Bearer ${TOKEN}`
          ? fakeApi(request.method ?? 'GET', url)
          : { status: 401, body: { message: 'Unauthorized' } };
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  }
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/**
 * The page, signed in, its listing painted, collecting what would mean it broke: uncaught errors, CSP
 * refusals, and any sign that model output ran as markup.
 */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await openWatchedPage(browser, `${origin}/`, { width: 1100, height: 900 });
  await eventually(() => page.getByTestId('owner-status').textContent()).toMatch(/^Signed in/);
  await expect
    .poll(() =>
      page.getByTestId('gallery-card').evaluateAll((cards) => cards.map((card) => card.dataset.status)),
    )
    .toEqual(IMAGES.map(() => 'ready'));
  return { page, problems };
}

const cardIds = (page: Page) =>
  page.getByTestId('gallery-card').evaluateAll((cards) => cards.map((card) => card.dataset.imageId));
const lastSearch = () => {
  const search = requests.filter((url) => url.pathname === '/v1/search').at(-1);
  return search ? Object.fromEntries(search.searchParams) : undefined;
};
const injected = (page: Page) => page.evaluate<boolean>("'injected' in window");

describe.runIf(existsSync(CHROMIUM))('the demo page against the enrichment API', () => {
  it('shows tags, caption, colours and moderation as text, and opens similar images and near-duplicates', async () => {
    const { page, problems } = await openPage();
    try {
      const birdCard = page.locator(`[data-testid="gallery-card"][data-image-id="${BIRD.imageId}"]`);
      await expect
        .poll(() => birdCard.getByTestId('tag-chip').allTextContents())
        .toEqual(['bird', HOSTILE_TAG, 'sky']);
      // An image without enrichment has a card without tags.
      const plainCard = page.locator(`[data-testid="gallery-card"][data-image-id="${PLAIN.imageId}"]`);
      expect(await plainCard.getByTestId('tag-chip').count()).toBe(0);

      await birdCard.getByRole('button', { name: 'bird.jpg' }).click();
      const dialog = page.getByTestId('detail-dialog');
      await eventually(() => dialog.getByTestId('caption-source').textContent()).toBe('(written from tags)');
      const content = dialog.getByTestId('image-content');
      expect(await content.getByTestId('caption').locator('q').textContent()).toBe(HOSTILE_CAPTION);
      expect(await content.getByTestId('tag-chip').allTextContents()).toEqual(
        enriched.tags?.map((t) => t.name),
      );
      expect(await content.getByTestId('tag-chip').first().getAttribute('title')).toMatch(/93\s?%/);
      expect(
        await content.getByTestId('colour').evaluateAll((all) => all.map((li) => li.dataset.colour)),
      ).toEqual(['blue', 'white']);
      expect(await content.getByTestId('colour').first().textContent()).toMatch(/blue 42\s?%/);
      expect(await content.getByTestId('moderation').getAttribute('data-flagged')).toBe('true');
      expect(await content.getByTestId('moderation').textContent()).toMatch(/^Flagged: Violence \(80\s?%\)/);
      expect(await content.locator('b, script, img').count()).toBe(0);
      expect(await injected(page)).toBe(false);

      const similar = dialog.getByTestId('similar-card');
      await eventually(() => similar.count()).toBe(1);
      expect(await similar.getAttribute('data-image-id')).toBe(COPY.imageId);
      expect(await similar.textContent()).toContain('distance 3');

      // The similar image opens in the dialog: a near-duplicate still being analysed, whose similar
      // images the API answers 404 for, which shows nothing.
      await similar.getByRole('button').click();
      await eventually(() => page.locator('#detail-title').textContent()).toBe('bird-copy.jpg');
      expect(await dialog.getByTestId('image-content').textContent()).toMatch(/under way/);
      expect(await dialog.getByTestId('image-content').getByTestId('tag-chip').count()).toBe(0);
      // The section is there, hidden.
      await eventually(() => dialog.getByTestId('similar-status').isVisible()).toBe(false);
      expect(await dialog.getByTestId('similar-status').count()).toBe(1);
      const hint = dialog.getByTestId('near-duplicate');
      expect(await hint.textContent()).toContain('looks like an image you already have');

      await hint.getByRole('button', { name: 'Show it' }).click();
      await eventually(() => page.locator('#detail-title').textContent()).toBe('bird.jpg');
      expect(await dialog.getByTestId('near-duplicate').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('searches by a tag chip, words and a colour, pages by cursor, and clears back to the listing', async () => {
    const { page, problems } = await openPage();
    try {
      const birdCard = page.locator(`[data-testid="gallery-card"][data-image-id="${BIRD.imageId}"]`);
      await birdCard
        .getByTestId('tag-chip')
        .filter({ hasText: /^bird$/ })
        .click();
      await eventually(lastSearch).toEqual({ tag: 'bird', limit: '50' });
      await eventually(() => cardIds(page)).toEqual([BIRD.imageId]);
      expect(await page.getByTestId('filter-chip').allTextContents()).toEqual(['tag bird×']);
      expect(await page.getByTestId('gallery-status').textContent()).toBe('1 and more matching images.');
      // No words, so nothing to say about how they were matched.
      expect(await page.getByTestId('search-mode').textContent()).toBe('');

      // Typed words join the chip; a typed `tag:` becomes another chip.
      await page.getByTestId('search-input').fill('red bicycle tag:"Traffic Light"');
      await page.getByTestId('search-input').press('Enter');
      await eventually(lastSearch).toEqual({ q: 'red bicycle', tag: 'bird,traffic light', limit: '50' });
      expect(await page.getByTestId('search-input').inputValue()).toBe('red bicycle');
      await eventually(() => page.getByTestId('search-mode').textContent()).toMatch(/^Word search/);

      const blue = page.getByTestId('colour-filter').locator('[data-colour="blue"]');
      await blue.click();
      await eventually(lastSearch).toEqual({
        q: 'red bicycle',
        tag: 'bird,traffic light',
        colour: 'blue',
        limit: '50',
      });
      expect(await blue.getAttribute('aria-pressed')).toBe('true');

      await page.getByTestId('more-button').click();
      await eventually(lastSearch).toMatchObject({ cursor: 'page-2', colour: 'blue' });
      await eventually(() => cardIds(page)).toEqual([BIRD.imageId, COPY.imageId]);
      expect(await page.getByTestId('more-button').isHidden()).toBe(true);

      await page.getByRole('button', { name: 'Remove tag traffic light' }).click();
      await eventually(lastSearch).toEqual({ q: 'red bicycle', tag: 'bird', colour: 'blue', limit: '50' });

      await page.getByTestId('search-input').fill('the meaning of rain');
      await page.getByTestId('search-input').press('Enter');
      await eventually(() => page.getByTestId('search-mode').textContent()).toMatch(/^Meaning search/);

      // A tag in the detail view narrows the search and closes the dialog on the results.
      await page.getByTestId('gallery-card').first().getByRole('button', { name: 'bird.jpg' }).click();
      await page.getByTestId('image-content').getByTestId('tag-chip').filter({ hasText: /^sky$/ }).click();
      await eventually(lastSearch).toEqual({
        q: 'the meaning of rain',
        tag: 'bird,sky',
        colour: 'blue',
        limit: '50',
      });
      expect(await page.getByTestId('detail-dialog').isVisible()).toBe(false);

      const listings = requests.filter((url) => url.pathname === '/v1/images').length;
      await page.getByTestId('search-clear').click();
      await eventually(() => cardIds(page)).toEqual(IMAGES.map(({ imageId }) => imageId));
      expect(requests.filter((url) => url.pathname === '/v1/images').length).toBe(listings + 1);
      expect(await page.getByTestId('filter-chip').count()).toBe(0);
      expect(await page.getByTestId('search-input').inputValue()).toBe('');
      expect(await blue.getAttribute('aria-pressed')).toBe('false');
      expect(await page.getByTestId('search-mode').textContent()).toBe('');
      expect(await page.getByTestId('search-clear').isHidden()).toBe(true);
      expect(await page.getByTestId('gallery-status').textContent()).toContain('has 4 images');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('keeps working where enrichment is off and where the new routes fail', async () => {
    const { page, problems } = await openPage();
    try {
      const dialog = page.getByTestId('detail-dialog');
      await page.getByRole('button', { name: 'plain.png' }).click();
      await expect
        .poll(() => dialog.getByTestId('similar-status').textContent())
        .toBe('Similar images are unavailable: internal error');
      expect(await dialog.getByTestId('image-content').count()).toBe(0);
      expect(await dialog.getByTestId('near-duplicate').count()).toBe(0);
      expect(await dialog.locator('dd').first().textContent()).toBe('ready');
      await page.getByTestId('close-button').click();

      await page.getByRole('button', { name: 'broken.jpg' }).click();
      await eventually(() => dialog.getByTestId('similar-status').textContent()).toBe('No similar images.');
      expect(await dialog.getByTestId('image-content').textContent()).toContain(
        'Could not be analysed (retries_exhausted: the tagger timed out).',
      );
      await page.getByTestId('close-button').click();

      await page.getByTestId('search-input').fill('explode');
      await page.getByTestId('search-input').press('Enter');
      await expect
        .poll(() => page.getByTestId('gallery-status').textContent())
        .toBe('Could not search your images: q is not searchable');
      await page.getByTestId('search-clear').click();
      await eventually(() => cardIds(page)).toEqual(IMAGES.map(({ imageId }) => imageId));
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
