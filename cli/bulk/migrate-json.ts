import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, open, rename, rm, stat } from 'node:fs/promises';
import { INPUT_FORMATS } from '../../lambdas/core/formats.js';
import { notAnImage, SNIFF_BYTES, sniff } from '../../lambdas/core/sniff.js';
import { isDataUri, parseDataUri } from './data-uri.js';
import { formatPath, matchesPath, type PathPattern } from './json-path-pattern.js';
import { type JsonOutput, type JsonPath, rewriteJsonStrings } from './json-strings.js';
import type { ImageStatus, PipelineApi } from './pipeline-api.js';
import { withRetries } from './retry.js';
import { type SendPolicy, sendImage } from './send-image.js';

export interface MigrateProblem {
  /** Where the value sits, as `$.items[3].photo`. */
  path: string;
  reason: string;
  message: string;
}

export interface MigrateProgress {
  /** Of the document, in the pass under way. */
  bytesRead: number;
  bytesTotal: number;
  pass: 'upload' | 'rewrite';
  /** Data URIs met so far, and distinct images among them. */
  dataUris: number;
  images: number;
}

export interface MigrateReport {
  /** Values considered: data URIs and already migrated CDN URLs. */
  total: number;
  /** Data URIs replaced (or, in a dry run, that would be) by CDN URLs. */
  migrated: number;
  /** Values that already are CDN URLs of an image. */
  skipped: number;
  /** Data URIs left as they were: malformed, refused by the pipeline, or not sent. */
  failed: number;
  /** Distinct images among the data URIs, and of those, the ones the pipeline did not have. */
  images: { distinct: number; new: number };
  bytesBefore: number;
  bytesAfter: number;
  /** Where the original went; absent when nothing changed (or in a dry run). */
  backup?: string;
  /** The first `MAX_LISTED` problems. */
  problems: MigrateProblem[];
}

export interface MigrateJsonOptions {
  /** Absolute. */
  file: string;
  api: PipelineApi;
  /** Where to look; everywhere when empty. */
  patterns: readonly PathPattern[];
  /** The variant whose CDN URL replaces each image (a larger one's when the image is too small for it). */
  variant: string;
  collection: string | undefined;
  /** Read and judge every data URI and ask which images are new, but upload and write nothing. */
  dryRun: boolean;
  concurrency: number;
  policy: SendPolicy;
  /** How long to wait for an image's variant to render, so that every URL written serves. */
  renderTimeoutMs: number;
  now: () => Date;
  onProgress: (progress: MigrateProgress) => void;
}

/** The document changed while it was being migrated; nothing was written. */
export class DocumentChangedError extends Error {
  override readonly name = 'DocumentChangedError';
}

const MAX_LISTED = 1000;
/** A content-addressed, format-less CDN URL (`…/ab/cd/{sha256}/{variant}`): a value already migrated. */
const MIGRATED_URL =
  /^https?:\/\/[^/]+(?:\/[^/]*)*?\/([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2[0-9a-f]{60}\/[a-z0-9-]+$/;

/** What a data URI's image came to: its URL, or why there is none. */
type Resolution = { url: string; isNew: boolean } | { problem: Omit<MigrateProblem, 'path'> };

/**
 * Replaces every image embedded in a JSON document as a base64 data URI with the CDN URL of that
 * image, brought in through the API. Two streaming passes: the first sends each distinct image (a
 * few at a time) and waits for its variant to render; the second writes the document again with
 * the URLs, to a temporary file that replaces the original only after the original is backed up and
 * shown unchanged. Neither pass holds more of the document than the string it is reading.
 */
export async function migrateJson(options: MigrateJsonOptions): Promise<MigrateReport> {
  const before = await stat(options.file);
  const report: MigrateReport = {
    total: 0,
    migrated: 0,
    skipped: 0,
    failed: 0,
    images: { distinct: 0, new: 0 },
    bytesBefore: before.size,
    bytesAfter: before.size,
    problems: [],
  };
  const progress: MigrateProgress = {
    bytesRead: 0,
    bytesTotal: before.size,
    pass: 'upload',
    dataUris: 0,
    images: 0,
  };
  const selected = (path: JsonPath) =>
    options.patterns.length === 0 || options.patterns.some((pattern) => matchesPath(pattern, path));
  const select = (path: JsonPath, prefix: string) =>
    (isDataUri(prefix) || /^https?:/i.test(prefix)) && selected(path);
  const problem = (path: JsonPath, found: Omit<MigrateProblem, 'path'>) => {
    report.failed += 1;
    if (report.problems.length < MAX_LISTED) report.problems.push({ path: formatPath(path), ...found });
  };

  // Pass 1: send each distinct image once, a few at a time, while the reader moves on.
  const resolutions = new Map<string, Promise<Resolution>>();
  const slots = new Slots(options.concurrency);
  await rewriteJsonStrings(countingReader(options.file, progress, options.onProgress), {
    select,
    replace: async ({ path, value }) => {
      if (!isDataUri(value)) {
        if (MIGRATED_URL.test(value)) {
          report.total += 1;
          report.skipped += 1;
        }
        return undefined;
      }
      report.total += 1;
      progress.dataUris += 1;
      const image = imageOfDataUri(value);
      if ('problem' in image) {
        problem(path, image.problem);
        return undefined;
      }
      if (resolutions.has(image.sha256)) return undefined;
      progress.images += 1;
      await slots.take();
      const resolution = resolveImage(image, options).finally(() => slots.give());
      resolutions.set(image.sha256, resolution);
      return undefined;
    },
  });
  const urls = new Map<string, string>();
  for (const [sha256, pending] of resolutions) {
    const resolution = await pending;
    if ('url' in resolution) {
      urls.set(sha256, resolution.url);
      if (resolution.isNew) report.images.new += 1;
    }
  }
  report.images.distinct = resolutions.size;

  // Pass 2: the document again, each data URI whose image has a URL replaced by it.
  progress.pass = 'rewrite';
  progress.bytesRead = 0;
  const temporary = `${options.file}.aperture-${process.pid}.tmp`;
  const output = options.dryRun ? undefined : await open(temporary, 'wx', before.mode & 0o777);
  try {
    const writer = output && bufferedWriter(output);
    const rewritten = await rewriteJsonStrings(countingReader(options.file, progress, options.onProgress), {
      select,
      replace: async ({ path, value }) => {
        if (!isDataUri(value)) return undefined;
        const image = imageOfDataUri(value);
        if ('problem' in image) return undefined;
        const url = urls.get(image.sha256);
        if (url) {
          report.migrated += 1;
          return url;
        }
        const resolution = await resolutions.get(image.sha256);
        if (resolution && 'problem' in resolution) problem(path, resolution.problem);
        return undefined;
      },
      ...(writer ? { output: writer } : {}),
    });
    report.bytesAfter = rewritten.bytesOut;
    if (!output || !writer) return report;
    await writer.flush();
    await output.sync();
    await output.close();
    if (report.migrated === 0) {
      await rm(temporary);
      return report;
    }
    const now = await stat(options.file);
    if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
      throw new DocumentChangedError(
        `${options.file} changed while it was being migrated; nothing was written`,
      );
    }
    const backup = `${options.file}.${options.now().toISOString().replace(/[:.]/g, '-')}.bak`;
    await copyFile(options.file, backup, constants.COPYFILE_EXCL);
    await rename(temporary, options.file);
    report.backup = backup;
    return report;
  } finally {
    if (output) await rm(temporary, { force: true });
  }
}

type EmbeddedImage = { sha256: string; bytes: Buffer; contentType: string };

/** A data URI's bytes, judged as ingest judges an upload's: by what they are, not what they claim. */
function imageOfDataUri(value: string): EmbeddedImage | { problem: Omit<MigrateProblem, 'path'> } {
  const parsed = parseDataUri(value);
  if (!parsed.ok) return { problem: { reason: parsed.reason, message: parsed.message } };
  const sniffed = sniff(parsed.bytes.subarray(0, SNIFF_BYTES));
  if (sniffed.kind !== 'image') return { problem: notAnImage(sniffed) };
  return {
    sha256: createHash('sha256').update(parsed.bytes).digest('hex'),
    bytes: parsed.bytes,
    contentType: INPUT_FORMATS[sniffed.format],
  };
}

/** Sends the image (unless the caller has it) and waits until its variant serves; its URL, or why not. */
async function resolveImage(image: EmbeddedImage, options: MigrateJsonOptions): Promise<Resolution> {
  try {
    if (options.dryRun) {
      const owned = await withRetries(options.policy.retry, () => options.api.image(image.sha256));
      return { url: 'dry-run', isNew: !owned };
    }
    const outcome = await sendImage(
      options.api,
      {
        bytes: image.bytes,
        sha256: image.sha256,
        size: image.bytes.length,
        contentType: image.contentType,
        ...(options.collection ? { collection: options.collection } : {}),
      },
      { granted: () => {}, sent: () => {} },
      options.policy,
    );
    if (outcome.kind === 'rejected') return { problem: { reason: outcome.reason, message: outcome.message } };
    const url = await variantUrl(options, outcome.imageId);
    return 'problem' in url ? url : { url: url.url, isNew: outcome.kind === 'new' };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      problem: {
        reason: typeof code === 'string' ? code : (error as Error).name,
        message: (error as Error).message,
      },
    };
  }
}

/**
 * The URL of the image's variant once it is rendered. An image smaller than the variant's box has it
 * `skipped` (its smaller variants are the same pixels), and then the largest rendered variant of the
 * same fit stands in.
 */
async function variantUrl(
  options: MigrateJsonOptions,
  imageId: string,
): Promise<{ url: string } | { problem: Omit<MigrateProblem, 'path'> }> {
  const deadline = options.policy.now() + options.renderTimeoutMs;
  for (let pause = 200; ; pause = Math.min(pause * 2, 2_000)) {
    const image = await withRetries(options.policy.retry, () => options.api.image(imageId));
    if (!image) return { problem: { reason: 'not_found', message: `image ${imageId} is gone` } };
    if (image.status === 'failed') {
      return { problem: { reason: image.reason ?? 'failed', message: image.message ?? 'the image failed' } };
    }
    const wanted = image.variants.find((variant) => variant.name === options.variant);
    if (!wanted) {
      const names = image.variants.map((variant) => variant.name).join(', ');
      return {
        problem: { reason: 'no_such_variant', message: `no variant ${options.variant}; there are ${names}` },
      };
    }
    const chosen = servingVariant(image, wanted);
    if (chosen?.url) return { url: chosen.url };
    if (chosen === undefined) {
      return { problem: { reason: 'no_rendered_variant', message: `no variant of ${imageId} was rendered` } };
    }
    if (options.policy.now() >= deadline) {
      return {
        problem: {
          reason: 'render_timeout',
          message: `${options.variant} of ${imageId} is not rendered yet`,
        },
      };
    }
    await options.policy.sleep(pause);
  }
}

type VariantStatus = ImageStatus['variants'][number];

/** The variant to link: `wanted`, or, if it was skipped, the largest rendered one of its fit; still pending is returned as is. */
function servingVariant(image: ImageStatus, wanted: VariantStatus): VariantStatus | undefined {
  if (wanted.status !== 'skipped') return wanted.status === 'failed' ? undefined : wanted;
  const sameFit = image.variants.filter((variant) => variant.fit === wanted.fit && variant !== wanted);
  if (sameFit.some((variant) => variant.status === 'pending')) return wanted;
  return sameFit
    .filter((variant) => variant.status === 'ready')
    .sort((a, b) => b.width * b.height - a.width * a.height)[0];
}

/** Reads the file in chunks, counting them into `progress` as they go. */
async function* countingReader(
  file: string,
  progress: MigrateProgress,
  onProgress: (progress: MigrateProgress) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    progress.bytesRead += (chunk as Buffer).length;
    onProgress(progress);
    yield chunk as Buffer;
  }
}

const WRITE_BUFFER_BYTES = 1 << 20;

/** Gathers the rewriter's many small writes into writes of about a megabyte. */
function bufferedWriter(handle: Awaited<ReturnType<typeof open>>): JsonOutput & { flush(): Promise<void> } {
  let pending: Buffer[] = [];
  let size = 0;
  const flush = async () => {
    if (size === 0) return;
    const chunk = Buffer.concat(pending, size);
    pending = [];
    size = 0;
    await handle.write(chunk);
  };
  return {
    async write(chunk) {
      // Kept as views until the flush copies them: the reader never reuses a chunk it has yielded.
      const bytes =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      pending.push(bytes);
      size += bytes.length;
      if (size >= WRITE_BUFFER_BYTES) await flush();
    },
    flush,
  };
}

/** At most `count` sends at once: `take` waits for a free one. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(count: number) {
    this.free = count;
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
