import { existsSync } from 'node:fs';
import sharp, { type Metadata } from 'sharp';
import { describe, expect, it } from 'vitest';
import type { OutputFormat } from '../../lambdas/core/formats.js';
import { countJpegScans, MAX_JPEG_SCANS } from '../../lambdas/core/input-bounds.js';
import { orientedSize } from '../../lambdas/core/render/geometry.js';
import { MAX_RENDERED_FRAMES, openOriginal } from '../../lambdas/core/render/original.js';
import { MAX_RENDERED_PAGES } from '../../lambdas/core/render/pages.js';
import type { RenderedObject } from '../../lambdas/core/render/render-variants.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { SNIFF_BYTES, sniff } from '../../lambdas/core/sniff.js';
import {
  type AcceptedExpectation,
  adversarialInputs,
  CORPUS_DIR,
  CORPUS_HOSTILE,
  corpusHostileInputs,
  type PipelineRun,
  type RenderedLanes,
  runPipeline,
  SMUGGLED_MARKER,
} from '../support/adversarial-inputs.js';

/**
 * Every adversarial input through the real ingest judgement (`assessUpload`, default settings) and,
 * when accepted, the real render of both lanes (`renderVariants`, placeholder, technical metadata),
 * without AWS. Timeouts are hang guards only: speed and memory are measured by the bench
 * (`test/bench/adversarial.ts`), never asserted here.
 */
const settings = parseSettings();
const inputs = await adversarialInputs();
const HANG_GUARD_MS = 180_000;

const SHARP_FORMAT: Readonly<Record<OutputFormat, string>> = { avif: 'heif', webp: 'webp', jpeg: 'jpeg' };
const ZIP_LOCAL_HEADER = Buffer.from('PK\x03\x04', 'latin1');

const rendered = (run: PipelineRun): RenderedLanes => {
  if (!run.render) throw new Error('the input was not rendered');
  if ('failed' in run.render) throw run.render.failed;
  return run.render.rendered;
};

/** Decodes every frame of an output for real, and reads what it says of itself. */
async function decodeOutput(object: RenderedObject): Promise<Metadata> {
  const metadata = await sharp(object.bytes, { animated: true }).metadata();
  const { info } = await sharp(object.bytes, { animated: true }).raw().toBuffer({ resolveWithObject: true });
  expect(info.width).toBe(object.width);
  expect(info.height).toBe(object.height * (metadata.pages ?? 1));
  return metadata;
}

async function expectRendered(expected: AcceptedExpectation, run: PipelineRun) {
  const { objects, skipped, placeholder, technicalMetadata } = rendered(run);
  const facts = run.assessment.accepted ? run.assessment.facts : undefined;
  const upright = orientedSize(expected.facts, facts?.orientation);
  const pages = expected.pagesRendered ?? 1;

  for (const variant of settings.variants) {
    const outcome = expected.variants[variant.name];
    const made = objects.filter((o) => o.variant === variant.name);
    if (outcome === 'skipped') {
      expect(made, `${variant.name} is skipped`).toEqual([]);
      expect(skipped.map((s) => s.variant)).toContain(variant.name);
      continue;
    }
    const perPage = variant.fit === 'inside' ? pages : 1;
    expect(made, `${variant.name}: one object per format and page`).toHaveLength(
      variant.formats.length * perPage,
    );
    for (const object of made) {
      expect([object.width, object.height], `${variant.name}.${object.format}`).toEqual(outcome);
      // Never enlarged, never empty: within the box and the (upright) original on both axes.
      expect(object.width).toBeGreaterThanOrEqual(1);
      expect(object.height).toBeGreaterThanOrEqual(1);
      expect(object.width).toBeLessThanOrEqual(Math.min(variant.width, upright.width));
      expect(object.height).toBeLessThanOrEqual(Math.min(variant.height, upright.height));
    }
  }

  for (const object of objects) {
    const label = `${object.variant}.${object.format}${object.page ? ` page ${object.page}` : ''}`;
    const metadata = await decodeOutput(object);
    expect(metadata.format, label).toBe(SHARP_FORMAT[object.format]);
    expect([metadata.space, metadata.depth], label).toEqual(['srgb', 'uchar']);
    // Nothing of the original's metadata, and no profile: the pixels are sRGB already.
    expect(
      {
        exif: metadata.exif,
        xmp: metadata.xmp,
        iptc: metadata.iptc,
        icc: metadata.icc,
        photoshop: metadata.tifftagPhotoshop,
        comments: metadata.comments?.length ? metadata.comments : undefined,
        orientation: metadata.orientation,
      },
      label,
    ).toEqual({
      exif: undefined,
      xmp: undefined,
      iptc: undefined,
      icc: undefined,
      photoshop: undefined,
      comments: undefined,
      orientation: undefined,
    });
    // Animations stay animated in WebP only, and never longer than the render cap.
    const frames = object.format === 'webp' && expected.frames ? expected.frames : 1;
    expect(metadata.pages ?? 1, `${label} frames`).toBe(frames);
    // No foreign bytes ride along: no ZIP, no marker text, nothing of the smuggled payload.
    expect(object.bytes.includes(ZIP_LOCAL_HEADER), `${label} carries a ZIP header`).toBe(false);
    expect(object.bytes.includes(SMUGGLED_MARKER), `${label} carries the marker`).toBe(false);
    if (expected.payload) {
      expect(object.bytes.includes(expected.payload), `${label} carries the payload`).toBe(false);
      // An appended archive is far larger than a re-encoded 320x240 picture: none of it came along.
      if (expected.payload.length > 10_000)
        expect(object.bytes.length).toBeLessThan(expected.payload.length / 4);
    }
  }

  expect(placeholder.thumbHash).toMatch(/^[A-Za-z0-9+/=]{10,}$/);
  expect(placeholder.dominantColour).toMatch(/^#[0-9a-f]{6}$/);
  // Camera facts are short, printable text and numbers: nothing from hostile EXIF survives as markup.
  for (const [field, value] of Object.entries(technicalMetadata)) {
    if (typeof value === 'number') continue;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not appear
    expect(value, field).toMatch(/^[^<>\u0000-\u001f]{1,100}$/);
  }
}

describe('adversarial uploads, judged by ingest and rendered by the workers', () => {
  it.each(inputs.map((input) => [input.name, input] as const))(
    '%s',
    async (_, input) => {
      const run = await runPipeline(input, settings);
      const { expected } = input;
      if (expected.outcome === 'rejected') {
        expect(run.assessment).toEqual({
          accepted: false,
          rejection: { reason: expected.reason, message: expect.stringMatching(/\S/) },
        });
        expect(run.render).toBeUndefined();
        return;
      }
      expect(run.assessment).toMatchObject({ accepted: true, facts: expected.facts });
      await expectRendered(expected, run);
    },
    HANG_GUARD_MS,
  );

  it.each([
    ['png-ihdr-100000x100000', 1_000],
    ['png-flood-20000x20000', 64_000],
    ['jpeg-sof-65500x65500', 4_000],
    ['jpeg-flood-12000x12000', 300_000],
    ['gif-flood-12000x12000', 128_000],
    ['gif-3000-frames-over-budget', 128_000],
    ['webp-vp8l-12000x12000', 100],
    ['webp-animated-canvas-8192', 200],
    ['tiff-header-100000x100000', 200],
    ['avif-ispe-65535x65535', 1_000],
  ] as const)('%s is a small file whose header claims more than the budget', async (name, maxBytes) => {
    const input = inputs.find((candidate) => candidate.name === name);
    if (!input) throw new Error(`no input ${name}`);
    expect(input.bytes.length).toBeLessThan(maxBytes);
    // What the header claims, read with no limit at all (nothing is decoded).
    const claimed = await sharp(input.bytes, { limitInputPixels: false }).metadata();
    expect(claimed.width * claimed.height * (claimed.pages ?? 1)).toBeGreaterThan(settings.maxInputPixels);
    expect(input.expected).toEqual({ outcome: 'rejected', reason: 'too_many_pixels' });
  });

  it('never accepts markup, whatever it is declared or named', () => {
    const markup = inputs.filter((input) => sniff(input.bytes.subarray(0, SNIFF_BYTES)).kind === 'markup');
    expect(markup.map((input) => input.name)).toEqual([
      'svg-with-script',
      'svg-bom-comment-first',
      'html-as-jpg',
    ]);
    for (const input of markup) {
      expect(input.expected).toEqual({ outcome: 'rejected', reason: 'markup_not_allowed' });
    }
  });

  it('bounds every accepted animation and document by the settings and the render caps', () => {
    const many = inputs.filter(
      (input) => input.expected.outcome === 'accepted' && input.expected.facts.pages > 1,
    );
    expect(many.length).toBeGreaterThanOrEqual(4);
    for (const { name, expected } of many) {
      if (expected.outcome !== 'accepted') continue;
      const { width, height, pages } = expected.facts;
      expect(width * height * pages, name).toBeLessThanOrEqual(settings.maxInputPixels);
      if (expected.frames !== undefined)
        expect(expected.frames, name).toBe(Math.min(pages, MAX_RENDERED_FRAMES));
      if (expected.pagesRendered !== undefined) {
        expect(expected.pagesRendered, name).toBe(Math.min(pages, MAX_RENDERED_PAGES));
      }
    }
    const overBudget = inputs.find((input) => input.name === 'gif-3000-frames-over-budget');
    expect(overBudget?.expected).toEqual({ outcome: 'rejected', reason: 'too_many_pixels' });
  });
});

describe('the renderers, handed bytes ingest refused for the work they would take', () => {
  // What ingest judges from the header and the bytes, before decoding: a renderer reading an original
  // that never passed ingest (written to the bucket by other means) applies the very same bounds.
  const bounded = inputs.filter(
    (input) =>
      input.expected.outcome === 'rejected' &&
      (input.expected.reason === 'too_many_pixels' || input.name === 'jpeg-progressive-scan-flood'),
  );

  it.each(bounded.map((input) => [input.name, input] as const))(
    '%s: refuse it as ingest does',
    async (_, input) => {
      const reason = input.expected.outcome === 'rejected' ? input.expected.reason : undefined;
      await expect(
        openOriginal(input.bytes, { maxInputPixels: settings.maxInputPixels }),
      ).rejects.toMatchObject({
        name: 'UnrenderableImageError',
        reason,
      });
    },
  );
});

describe('counting the scans of a JPEG', () => {
  const jpeg = (options: { progressive?: boolean } = {}) =>
    sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
      .jpeg(options)
      .toBuffer();
  const segment = (marker: number, body: Buffer) =>
    Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);

  it('counts a baseline and a progressive JPEG as their encoder wrote them', async () => {
    expect(countJpegScans(await jpeg())).toBe(1);
    expect(countJpegScans(await jpeg({ progressive: true }))).toBe(10);
  });

  it("counts only the image's own scans: not a JPEG inside a segment, nor one after the end", async () => {
    const [outer, inner] = await Promise.all([jpeg(), jpeg({ progressive: true })]);
    const embedded = Buffer.concat([outer.subarray(0, 2), segment(0xef, inner), outer.subarray(2)]);
    expect(countJpegScans(embedded)).toBe(1);
    expect(countJpegScans(Buffer.concat([outer, inner]))).toBe(1);
  });

  it('stops counting where it is told to', () => {
    const flood = inputs.find((input) => input.name === 'jpeg-progressive-scan-flood');
    expect(countJpegScans(flood?.bytes ?? Buffer.alloc(0), MAX_JPEG_SCANS + 1)).toBe(MAX_JPEG_SCANS + 1);
    expect(countJpegScans(flood?.bytes ?? Buffer.alloc(0))).toBe(2001);
  });
});

describe.skipIf(!existsSync(CORPUS_DIR))('hostile files of the shared corpus', () => {
  const present = new Set(corpusHostileInputs().map((input) => input.name));
  it.each(CORPUS_HOSTILE)('rejects %s as %s', async (file, reason) => {
    const input = corpusHostileInputs().find((candidate) => candidate.name === `corpus:${file}`);
    if (!input) return; // not every copy of the corpus has every file
    expect(present.has(input.name)).toBe(true);
    const { assessment } = await runPipeline(input, settings);
    expect(assessment).toMatchObject({ accepted: false, rejection: { reason } });
  });
});
