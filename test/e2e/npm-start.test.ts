import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_FORMAT_NAMES, INPUT_FORMATS, OUTPUT_FORMATS } from '../../lambdas/core/formats.js';
import { SNIFF_BYTES, sniff } from '../../lambdas/core/sniff.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { ApiClient } from '../support/api-client.js';
import { CORPUS_DIR, readCorpusManifest } from '../support/corpus.js';
import { openWatchedPage, signInAs } from '../support/demo-page.js';
import { IPHONE_HEIC_REFERENCE } from '../support/heic-reference.js';
import { makeImage, nearCopiesOf } from '../support/images.js';
import { isListening, npmStart, type RunningPipeline } from '../support/npm-start.js';

const run = promisify(execFile);
/** Debian's package; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
/** The twin's one account (s3rver checks the key), as the banner tells users to export. */
const AWS_CLI_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_DEFAULT_REGION: 'us-east-1',
};

function commandExists(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
}
const REPOSITORY = resolve(import.meta.dirname, '../..');
/** Corpus files up to this size go through the whole pipeline; the render core takes every file elsewhere. */
const MAX_CORPUS_PIXELS = 2_000_000;
const SETTLE_TIMEOUT_MS = 240_000;

interface Sample {
  name: string;
  bytes: Buffer;
}

/** Generated images of every input format, and the small corpus files plus one 12 MP photo when present. */
async function samples(): Promise<Sample[]> {
  const generated = await Promise.all(
    INPUT_FORMAT_NAMES.map(async (format, seed) => ({
      name: `generated.${format}`,
      bytes: await makeImage(format, { width: 800, height: 600, seed: seed + 100 }),
    })),
  );
  const manifest = readCorpusManifest();
  if (!manifest) return generated;
  const chosen = manifest.filter(
    ({ file, pixels }) => file === 'immich__japanese-shop.jpg' || (pixels > 0 && pixels <= MAX_CORPUS_PIXELS),
  );
  const files = new Set(readdirSync(CORPUS_DIR));
  return [
    ...generated,
    ...chosen
      .map(({ file }) => file)
      .filter((name) => files.has(name))
      .map((name) => ({ name, bytes: readFileSync(join(CORPUS_DIR, name)) })),
  ];
}

/** Three photos for the page: real ones from the corpus when it is there. */
async function pagePhotos(): Promise<Sample[]> {
  const real = ['immich__prairie_falcon.jpg', 'immich__mongolels.jpg', 'recurser__Landscape_6.jpg']
    .map((name) => ({ name, path: join(CORPUS_DIR, name) }))
    .filter(({ path }) => existsSync(path));
  if (real.length === 3) return real.map(({ name, path }) => ({ name, bytes: readFileSync(path) }));
  return Promise.all(
    [1, 2, 3].map(async (seed) => ({
      name: `photo-${seed}.jpg`,
      bytes: await makeImage('jpeg', { width: 1600, height: 1200, seed: 4242 + seed }),
    })),
  );
}

/** What a browser would declare: the type the bytes are, or a guess from nothing when unknown. */
function declaredType(bytes: Buffer): string {
  const sniffed = sniff(bytes.subarray(0, SNIFF_BYTES));
  return sniffed.kind === 'image' && sniffed.format in INPUT_FORMATS
    ? INPUT_FORMATS[sniffed.format as keyof typeof INPUT_FORMATS]
    : 'application/octet-stream';
}

type Subject = Sample & { real: boolean };

/** A corpus photo when the corpus is there, else a generated stand-in (no tags expected of it). */
async function subjectPhoto(name: string, seed: number): Promise<Subject> {
  const path = join(CORPUS_DIR, name);
  return existsSync(path)
    ? { name, bytes: readFileSync(path), real: true }
    : { name, bytes: await makeImage('jpeg', { width: 900, height: 700, seed }), real: false };
}

interface EnrichedView {
  enrichment: {
    tags: Array<{ name: string; confidence: number }>;
    caption: { text: string; source: string };
    colours: Array<{ name: string }>;
  };
}

/** Mean and largest difference between two pictures' cell colours (`IPHONE_HEIC_REFERENCE`). */
function cellDistance(cells: readonly number[], reference: readonly number[]): { mean: number; max: number } {
  const differences = reference.map((value, i) => Math.abs(value - (cells[i] ?? Number.NaN)));
  return {
    mean: differences.reduce((sum, d) => sum + d, 0) / differences.length,
    max: Math.max(...differences),
  };
}

/** Polls the image view until the enrichment lane has finished with it. */
async function enriched(client: ApiClient, imageId: string): Promise<EnrichedView> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const { body } = await client.call('GET', `/v1/images/${imageId}`);
    const status = (body.enrichment as { status?: string } | undefined)?.status;
    if (status === 'done') return body as unknown as EnrichedView;
    if (status === 'failed' || Date.now() > deadline)
      throw new Error(`enrichment of ${imageId}: ${JSON.stringify(body.enrichment)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

let pipeline: RunningPipeline;
let stopped = false;

beforeAll(async () => {
  pipeline = await npmStart(['--fresh']);
});

afterAll(async () => {
  if (!stopped) await pipeline?.interrupt();
});

describe('npm start', () => {
  const settled = new Map<string, Record<string, unknown>>();
  let client: ApiClient;

  it('takes uploads of the corpus through the API, both presigned flows, and settles every one', async () => {
    client = await ApiClient.forOwner(pipeline.apiUrl, 'e2e-owner');
    const all = await samples();
    let index = 0;
    const refusedAtApi: string[] = [];
    // A few uploads at a time, as an app's users would send them.
    const worker = async () => {
      for (let sample = all[index++]; sample; sample = all[index++]) {
        const method = index % 2 === 0 ? 'POST' : 'PUT';
        const answer = await client.upload(sample.bytes, {
          contentType: declaredType(sample.bytes),
          filename: sample.name,
          method,
        });
        if (answer.status !== 201) {
          expect(answer.status, `${sample.name}: ${JSON.stringify(answer.body)}`).toBeGreaterThanOrEqual(400);
          expect(answer.body).toHaveProperty('error.code');
          refusedAtApi.push(sample.name);
          continue;
        }
        expect(answer.s3Status, `${sample.name} ${method}`).toBeLessThan(300);
        settled.set(sample.name, await client.settle(String(answer.body.uploadId), SETTLE_TIMEOUT_MS));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));

    expect(settled.size + refusedAtApi.length).toBe(all.length);
    for (const [name, upload] of settled) {
      expect(['ready', 'rejected', 'failed'], name).toContain(upload.status);
      if (upload.status !== 'ready') expect(upload.reason, `${name} says why`).toEqual(expect.any(String));
    }
    for (const sample of all.filter((s) => s.name.startsWith('generated.'))) {
      expect(settled.get(sample.name)?.status, sample.name).toBe('ready');
    }
    // Most of the corpus is ordinary images: the run must not pass by refusing them.
    const ready = [...settled.values()].filter((upload) => upload.status === 'ready').length;
    expect(ready).toBeGreaterThan(all.length * 0.6);
  }, 600_000);

  it('serves every ready variant from the CDN as CloudFront would', async () => {
    const ready = [...settled.values()].filter((upload) => upload.status === 'ready');
    expect(ready.length).toBeGreaterThan(0);
    for (const upload of ready) {
      const { body: image } = await client.call('GET', `/v1/images/${String(upload.imageId)}`);
      const variants = image.variants as Array<{
        name: string;
        status: string;
        urls?: Record<string, string>;
      }>;
      expect(variants.every((v) => v.status === 'ready' || v.status === 'skipped')).toBe(true);
      for (const variant of variants.filter((v) => v.status === 'ready')) {
        const spec = DEFAULT_VARIANTS.find((v) => v.name === variant.name);
        for (const [format, url] of Object.entries(variant.urls ?? {})) {
          expect(url.startsWith(pipeline.cdnUrl), url).toBe(true);
          const response = await fetch(url);
          expect(response.status, url).toBe(200);
          expect(response.headers.get('content-type')).toBe(
            OUTPUT_FORMATS[format as keyof typeof OUTPUT_FORMATS].mime,
          );
          expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
          const bytes = Buffer.from(await response.arrayBuffer());
          const { width = 0, height = 0, format: decoded } = await sharp(bytes).metadata();
          expect(decoded === 'heif' ? 'avif' : decoded).toBe(format);
          expect(width).toBeLessThanOrEqual(spec?.width ?? 0);
          expect(height).toBeLessThanOrEqual(spec?.height ?? 0);
          const etag = response.headers.get('etag');
          expect(etag).toBeTruthy();
          const revalidated = await fetch(url, { headers: { 'if-none-match': etag ?? '' } });
          expect(revalidated.status, `${url} revalidated`).toBe(304);
          expect((await revalidated.arrayBuffer()).byteLength).toBe(0);
        }
      }
    }
  });

  const iphoneHeic = join(CORPUS_DIR, IPHONE_HEIC_REFERENCE.file);
  (existsSync(iphoneHeic) ? it : it.skip)(
    `renders a real iPhone HEIC upright and in its colours, as another decoder does, served by the CDN${existsSync(iphoneHeic) ? '' : ' (no corpus here)'}`,
    async () => {
      const answer = await client.upload(readFileSync(iphoneHeic), {
        contentType: 'image/heic',
        filename: 'IMG_0001.HEIC',
        method: 'POST',
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      const upload = await client.settle(String(answer.body.uploadId), SETTLE_TIMEOUT_MS);
      expect(upload.status, JSON.stringify(upload)).toBe('ready');
      const { body: image } = await client.call('GET', `/v1/images/${String(upload.imageId)}`);
      // Stored as uploaded, its size as displayed: the container's quarter turn, applied once.
      expect(image).toMatchObject({ format: 'heic', contentType: 'image/heic', width: 3024, height: 4032 });
      const variants = image.variants as Array<{ name: string; urls?: Record<string, string> }>;
      const whole = DEFAULT_VARIANTS.filter((spec) => spec.fit === 'inside').map((spec) => spec.name);
      let compared = 0;
      for (const variant of variants.filter((v) => whole.includes(v.name))) {
        for (const [format, url] of Object.entries(variant.urls ?? {})) {
          const response = await fetch(url);
          expect(response.status, url).toBe(200);
          const bytes = Buffer.from(await response.arrayBuffer());
          const { width = 0, height = 0 } = await sharp(bytes).metadata();
          expect(height / width, `${variant.name}.${format} is upright`).toBeCloseTo(4032 / 3024, 1);
          const { columns, rows } = IPHONE_HEIC_REFERENCE.grid;
          // Decoded whole first: libwebp scales while it decodes, with a coarser filter of its own.
          const { data, info } = await sharp(bytes)
            .toColourspace('srgb')
            .raw()
            .toBuffer({ resolveWithObject: true });
          const cells = [
            ...(await sharp(data, { raw: info }).resize(columns, rows, { fit: 'fill' }).raw().toBuffer()),
          ];
          const fromReference = cellDistance(cells, IPHONE_HEIC_REFERENCE.upright);
          const fromProfileless = cellDistance(cells, IPHONE_HEIC_REFERENCE.withoutProfile);
          const output = `${variant.name}.${format}`;
          // Every format comes within 0.5 on average (3 at most) of the reference; a mirrored or turned
          // picture is 35-50 away, one whose Display P3 numbers were taken for sRGB 3.5 on average
          // and 22 in its reddest cells.
          expect(fromReference.mean, output).toBeLessThan(1.5);
          expect(fromReference.max, output).toBeLessThanOrEqual(6);
          expect(fromReference.max, output).toBeLessThan(fromProfileless.max);
          compared++;
        }
      }
      expect(compared).toBe(whole.length * 3);
    },
    SETTLE_TIMEOUT_MS + 60_000,
  );

  it('knows what is in the photos (offline tags), finds them by tag, word, colour and likeness, for their owner only', async () => {
    const owner = await ApiClient.forOwner(pipeline.apiUrl, 'e2e-finder');
    const stranger = await ApiClient.forOwner(pipeline.apiUrl, 'e2e-stranger');
    const portrait = await subjectPhoto('immich__portrait.jpg', 777);
    const falcon = await subjectPhoto('immich__prairie_falcon.jpg', 778);
    const ids: string[] = [];
    for (const photo of [portrait, falcon]) {
      const answer = await owner.upload(photo.bytes, {
        contentType: 'image/jpeg',
        filename: photo.name,
        method: 'PUT',
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      const upload = await owner.settle(String(answer.body.uploadId), SETTLE_TIMEOUT_MS);
      expect(upload.status).toBe('ready');
      ids.push(String(upload.imageId));
    }
    const [portraitId = '', falconId = ''] = ids;
    const portraitView = await enriched(owner, portraitId);
    const falconView = await enriched(owner, falconId);
    for (const view of [portraitView, falconView]) {
      expect(view.enrichment.caption.source).toBe('template');
      expect(view.enrichment.colours.length).toBeGreaterThan(0);
    }
    const tagsOf = (view: EnrichedView) => view.enrichment.tags.map((tag) => tag.name);
    if (portrait.real) expect(tagsOf(portraitView)).toContain('person');
    if (falcon.real) expect(tagsOf(falconView)).toContain('bird');

    const search = async (client: ApiClient, query: string) => {
      const { status, body } = await client.call('GET', `/v1/search?${query}`);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.semantic).toBe(false);
      return (body.items as Array<{ imageId: string }>).map((item) => item.imageId);
    };
    const colour = falconView.enrichment.colours[0]?.name ?? 'grey';
    const queries = [
      ...tagsOf(falconView)
        .slice(0, 1)
        .map((tag) => `tag=${encodeURIComponent(tag)}`),
      ...tagsOf(falconView)
        .slice(0, 1)
        .map((tag) => `q=${encodeURIComponent(tag)}`),
      `colour=${colour}`,
    ];
    for (const query of queries) {
      expect(await search(owner, query), query).toContain(falconId);
      expect(await search(stranger, query), `a stranger's ${query}`).toEqual([]);
    }
    // The stranger uploads the very same falcon: their search finds their own link, never the owner's.
    const copy = await stranger.upload(falcon.bytes, {
      contentType: 'image/jpeg',
      filename: 'mine.jpg',
      method: 'PUT',
    });
    const theirs = await stranger.settle(String(copy.body.uploadId), SETTLE_TIMEOUT_MS);
    expect(theirs.imageId).toBe(falconId);
    // Their entries are filed just after ingest accepts the upload: search is derived data, a moment behind.
    const theirHits = async () => {
      const { body: found } = await stranger.call('GET', `/v1/search?colour=${colour}`);
      return (found.items as Array<{ uploadId: string }>).map((item) => item.uploadId);
    };
    await expect.poll(theirHits, { timeout: SETTLE_TIMEOUT_MS }).toEqual([copy.body.uploadId]);

    // A re-encoded, half-size copy is other bytes (SHA-256 dedup misses it) but the same picture.
    const { resized } = await nearCopiesOf(falcon.bytes);
    const sent = await owner.upload(resized, {
      contentType: 'image/jpeg',
      filename: 'smaller.jpg',
      method: 'PUT',
    });
    const smaller = await owner.settle(String(sent.body.uploadId), SETTLE_TIMEOUT_MS);
    expect(smaller.imageId).not.toBe(falconId);
    const similarTo = async (client: ApiClient) => {
      const { body } = await client.call('GET', `/v1/images/${falconId}/similar`);
      return ((body.items ?? []) as Array<{ imageId: string }>).map((item) => item.imageId);
    };
    await expect.poll(() => similarTo(owner), { timeout: SETTLE_TIMEOUT_MS }).toContain(smaller.imageId);
    expect(await similarTo(stranger)).not.toContain(smaller.imageId);
  }, 600_000);

  it('gives tokens from `npm run token` that the API accepts', async () => {
    const { stdout } = await run(
      'npm',
      ['run', '--silent', 'token', '--', 'e2e-owner', '--data-dir', pipeline.dataDir],
      {
        cwd: REPOSITORY,
      },
    );
    const viaCli = new ApiClient(pipeline.apiUrl, stdout.trim());
    const { status, body } = await viaCli.call('GET', '/v1/images?limit=1');
    expect(status).toBe(200);
    expect(body.items).toHaveLength(1);
  });

  it.runIf(commandExists('aws'))(
    'lets the AWS CLI list the local buckets, table and queues',
    async () => {
      const aws = (endpoint: string, ...args: string[]) =>
        run('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], {
          env: { ...process.env, ...AWS_CLI_ENV },
        }).then(({ stdout }) => stdout);
      const buckets = await aws(pipeline.emulators.s3, 's3api', 'list-buckets');
      expect(JSON.parse(buckets).Buckets.map((b: { Name: string }) => b.Name)).toEqual(
        expect.arrayContaining(['aperture-uploads', 'aperture-images']),
      );
      const tables = await aws(pipeline.emulators.dynamodb, 'dynamodb', 'list-tables');
      expect(JSON.parse(tables).TableNames).toContain('aperture-catalog');
      const queues = await aws(pipeline.emulators.sqs, 'sqs', 'list-queues');
      expect(JSON.parse(queues).QueueUrls.join(' ')).toMatch(
        /aperture-thumbnails.*aperture-variants|aperture-variants.*aperture-thumbnails/,
      );
    },
    60_000,
  );

  it.runIf(existsSync(CHROMIUM))(
    'lets a browser upload an image through the page and see it in the gallery',
    async () => {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--headless=new'],
      });
      try {
        const { page, problems } = await openWatchedPage(browser, `${pipeline.apiUrl}/`);
        await signInAs(page, 'browser-owner', SETTLE_TIMEOUT_MS);

        const photos = await pagePhotos();
        await page
          .getByTestId('file-input')
          .setInputFiles(photos.map(({ name, bytes }) => ({ name, mimeType: 'image/jpeg', buffer: bytes })));
        const rows = page.getByTestId('upload-row');
        await expect.poll(() => rows.count(), { timeout: SETTLE_TIMEOUT_MS }).toBe(photos.length);
        await expect
          .poll(() => rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-status'))), {
            timeout: SETTLE_TIMEOUT_MS,
          })
          .toEqual(photos.map(() => 'ready'));

        for (const { bytes } of photos) {
          const imageId = createHash('sha256').update(bytes).digest('hex');
          const card = page.locator(`[data-testid="gallery-card"][data-image-id="${imageId}"]`);
          await expect
            .poll(() => card.getAttribute('data-status'), { timeout: SETTLE_TIMEOUT_MS })
            .toBe('ready');
          // The picture itself loaded from the CDN, not just its placeholder.
          const picture = () =>
            card.locator('img').evaluate((element) => {
              const img = element as unknown as {
                complete: boolean;
                naturalWidth: number;
                currentSrc: string;
              };
              return img.complete && img.naturalWidth > 0 ? img.currentSrc : '';
            });
          await expect.poll(picture, { timeout: SETTLE_TIMEOUT_MS }).toContain(new URL(pipeline.cdnUrl).host);
        }

        // Searching from the page: the falcon by its tag, once the enrichment lane has seen it.
        const falcon = photos.find(({ name }) => name === 'immich__prairie_falcon.jpg');
        if (falcon) {
          const falconId = createHash('sha256').update(falcon.bytes).digest('hex');
          const browserOwner = await ApiClient.forOwner(pipeline.apiUrl, 'browser-owner');
          expect((await enriched(browserOwner, falconId)).enrichment.tags.map((tag) => tag.name)).toContain(
            'bird',
          );
          await page.getByTestId('search-input').fill('tag:bird');
          await page.getByTestId('search-input').press('Enter');
          const cards = () =>
            page
              .getByTestId('gallery-card')
              .evaluateAll((all) => all.map((card) => card.getAttribute('data-image-id')));
          await expect.poll(cards, { timeout: SETTLE_TIMEOUT_MS }).toEqual([falconId]);
        }
        expect(problems).toEqual([]);

        // A page of another origin (the CDN's: another server on this machine) cannot get a token,
        // not even with a request simple enough to need no preflight.
        const elsewhere = await browser.newPage();
        await elsewhere.goto(`${pipeline.cdnUrl}/`);
        const stolen = await elsewhere.evaluate(async (api) => {
          try {
            const response = await fetch(`${api}/local/token`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain' },
              body: JSON.stringify({ owner: 'browser-owner' }),
            });
            return `answered ${response.status}: ${await response.text()}`;
          } catch (error) {
            return `refused: ${(error as Error).name}`;
          }
        }, pipeline.apiUrl);
        expect(stolen).toBe('refused: TypeError');
        await page.screenshot({
          path: process.env.APERTURE_SCREENSHOT ?? join(pipeline.dataDir, 'demo-page.png'),
        });
      } finally {
        await browser.close();
      }
    },
    300_000,
  );

  it('stops everything on Ctrl-C, leaving nothing listening', async () => {
    const urls = [pipeline.apiUrl, pipeline.cdnUrl, ...Object.values(pipeline.emulators)];
    for (const url of urls) expect(await isListening(url), url).toBe(true);
    const exit = await pipeline.interrupt();
    stopped = true;
    // npm passes Ctrl-C on to the runtime and then ends by the same signal, as a shell's Ctrl-C would.
    expect([0, 'SIGINT'], pipeline.output().slice(-2000)).toContain(exit);
    expect(pipeline.output()).toContain('SIGINT: stopping');
    expect(pipeline.output()).not.toMatch(/stop failed|Error:/);
    for (const url of urls) expect(await isListening(url), url).toBe(false);
  });
});
