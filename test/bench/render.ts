import { createHash } from 'node:crypto';
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { PRODUCTION_ENCODERS } from '../../lambdas/core/encoder-settings.js';
import type { OutputFormat } from '../../lambdas/core/formats.js';
import { encoder } from '../../lambdas/core/render/encode.js';
import { planRenderJobs } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import type { VariantEncoding, VariantSpec } from '../../lambdas/core/variants.js';
import type { BenchImage } from './images.js';
import { interleave, ratio, type Summary, summarise } from './stats.js';

/**
 * Ways to group an image's render work into jobs (one SQS message each). Every job runs its steps one
 * after another, as a Lambda with about one vCPU would; all of them make the same outputs with the
 * same encoder settings, and every run's outputs are checked for their dimensions (a thrown error).
 */
export const STRATEGIES = {
  perVariantFormat: 'one job per variant and format: decode the original for each output',
  perVariant: 'one job per variant: decode once per variant, encode every format from its pixels',
  perLane: 'one job per lane (the pipeline): thumbnails alone; large → medium → small cascade',
  perImage: 'one job per image: a single cascade over every variant, the thumbnail last',
} as const;
export type Strategy = keyof typeof STRATEGIES;

interface Output {
  variant: string;
  format: OutputFormat;
  width: number;
  height: number;
  size: number;
}

interface Rendered {
  outputs: Output[];
  messages: number;
  /** From the start of the job that makes the thumbnail until its last format is encoded. */
  thumbnailMs?: number;
  /** Per variant: its resize and its encodes, wall clock. */
  stepMs?: Map<string, number>;
}

interface Raw {
  data: Buffer;
  info: OutputInfo;
}

const THUMBNAIL = 'thumb';

const box = (variant: VariantSpec) =>
  ({ width: variant.width, height: variant.height, fit: variant.fit, withoutEnlargement: true }) as const;

const fromRaw = ({ data, info }: Raw): Sharp =>
  sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });

async function encode(image: Sharp, variant: VariantSpec, encoding: VariantEncoding): Promise<Output> {
  // The pipeline's encoders, so the job groupings differ in their decodes and resizes alone.
  const { info } = await encoder(image, encoding, undefined, PRODUCTION_ENCODERS).toBuffer({
    resolveWithObject: true,
  });
  const { width, height, size } = info;
  return { variant: variant.name, format: encoding.format, width, height, size };
}

const edge = (variant: VariantSpec): number => Math.max(variant.width, variant.height);

/**
 * One job: decode the original once (JPEG shrinks on load), then each variant from the raw pixels of
 * the one before it while that one still holds the whole frame (`inside`), largest first. A job of one
 * variant is the per-variant strategy; a job of a lane's variants is what the render worker does.
 */
async function cascadeJob(
  original: Buffer,
  variants: readonly VariantSpec[],
  settings: Settings,
): Promise<{ outputs: Output[]; finishedMs: Map<string, number>; stepMs: Map<string, number> }> {
  const started = performance.now();
  const outputs: Output[] = [];
  const finishedMs = new Map<string, number>();
  const stepMs = new Map<string, number>();
  let previous: { raw: Raw; fit: VariantSpec['fit'] } | undefined;
  for (const variant of [...variants].sort((a, b) => edge(b) - edge(a))) {
    const step = performance.now();
    const source =
      previous?.fit === 'inside'
        ? fromRaw(previous.raw)
        : sharp(original, { limitInputPixels: settings.maxInputPixels }).autoOrient();
    const raw = await source.resize(box(variant)).raw().toBuffer({ resolveWithObject: true });
    for (const encoding of variant.formats) outputs.push(await encode(fromRaw(raw), variant, encoding));
    finishedMs.set(variant.name, performance.now() - started);
    stepMs.set(variant.name, performance.now() - step);
    previous = { raw, fit: variant.fit };
  }
  return { outputs, finishedMs, stepMs };
}

function thumbnailMs(finishedMs: Map<string, number>): number {
  const ms = finishedMs.get(THUMBNAIL);
  if (ms === undefined) throw new Error(`the job made no ${THUMBNAIL} variant`);
  return ms;
}

export const RENDERERS: Readonly<
  Record<Strategy, (original: Buffer, settings: Settings) => Promise<Rendered>>
> = {
  async perVariantFormat(original, settings) {
    const outputs: Output[] = [];
    for (const variant of settings.variants) {
      for (const encoding of variant.formats) {
        const image = sharp(original, { limitInputPixels: settings.maxInputPixels })
          .autoOrient()
          .resize(box(variant));
        outputs.push(await encode(image, variant, encoding));
      }
    }
    return { outputs, messages: outputs.length };
  },

  async perVariant(original, settings) {
    const outputs: Output[] = [];
    for (const variant of settings.variants) {
      outputs.push(...(await cascadeJob(original, [variant], settings)).outputs);
    }
    return { outputs, messages: settings.variants.length };
  },

  async perLane(original, settings) {
    // The jobs ingest plans, lane by lane; each lane has its own queue and function.
    const imageId = createHash('sha256').update(original).digest('hex');
    const jobs = planRenderJobs(imageId, settings);
    const outputs: Output[] = [];
    const stepMs = new Map<string, number>();
    let thumbnail: number | undefined;
    for (const job of jobs) {
      const variants = settings.variants.filter((variant) => job.variants.includes(variant.name));
      const done = await cascadeJob(original, variants, settings);
      outputs.push(...done.outputs);
      for (const [name, ms] of done.stepMs) stepMs.set(name, ms);
      if (job.variants.includes(THUMBNAIL)) thumbnail = thumbnailMs(done.finishedMs);
    }
    return { outputs, messages: jobs.length, thumbnailMs: thumbnail, stepMs };
  },

  async perImage(original, settings) {
    const job = await cascadeJob(original, settings.variants, settings);
    return { outputs: job.outputs, messages: 1, thumbnailMs: thumbnailMs(job.finishedMs) };
  },
};

/** The size `resize` must give each variant of a `width`x`height` original. */
export function expectedSize(
  variant: VariantSpec,
  width: number,
  height: number,
): { width: number; height: number } {
  if (variant.fit === 'cover') return { width: variant.width, height: variant.height };
  if (width <= variant.width && height <= variant.height) return { width, height };
  const scale = Math.min(variant.width / width, variant.height / height);
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** Throws unless a strategy made every variant in every format, each at the expected size. */
function assertOutputs(strategy: Strategy, image: BenchImage, rendered: Rendered, settings: Settings): void {
  const wanted = settings.variants.flatMap((variant) =>
    variant.formats.map((encoding) => ({ variant, format: encoding.format })),
  );
  if (rendered.outputs.length !== wanted.length) {
    throw new Error(
      `${strategy} made ${rendered.outputs.length} outputs of ${image.name}, not ${wanted.length}`,
    );
  }
  for (const { variant, format } of wanted) {
    const output = rendered.outputs.find((o) => o.variant === variant.name && o.format === format);
    const expected = expectedSize(variant, image.width, image.height);
    if (!output || output.width !== expected.width || output.height !== expected.height) {
      const got = output ? `${output.width}x${output.height}` : 'nothing';
      throw new Error(
        `${strategy}: ${variant.name}.${format} of ${image.name} is ${got}, not ${expected.width}x${expected.height}`,
      );
    }
  }
}

export interface StrategyResult {
  strategy: Strategy;
  description: string;
  messagesPerImage: number;
  /** All of an image's jobs, run one after another. */
  total: { wall: Summary; cpu: Summary };
  /** Median CPU time over the per-lane strategy's. */
  ratioToPerLane: number;
  /** Bytes of all outputs together: equal across strategies up to rounding of the resampled pixels. */
  outputBytes: number;
}

export interface RenderResult {
  image: string;
  megapixels: number;
  strategies: StrategyResult[];
  /** Wall clock from the start of the job that makes the thumbnail. */
  timeToThumbnail: {
    /** The thumbnails lane's own job (the pipeline). */
    perLane: Summary;
    /** The thumbnail made inside one job for every variant, after the larger sizes. */
    perImage: Summary;
    ratio: number;
  };
  /** The pipeline's jobs step by step: each variant's resize and its three encodes, wall clock. */
  perLaneSteps: Record<string, Summary>;
}

/** Checks every strategy's outputs on `image`, untimed: run on a small image, it is the warm-up. */
export async function verifyRenderers(image: BenchImage, settings: Settings): Promise<void> {
  for (const strategy of Object.keys(RENDERERS) as Strategy[]) {
    assertOutputs(strategy, image, await RENDERERS[strategy](image.bytes, settings), settings);
  }
}

export async function benchRender(
  image: BenchImage,
  settings: Settings,
  iterations: number,
): Promise<RenderResult> {
  const thumbnails: Record<Strategy, number[]> = {
    perVariantFormat: [],
    perVariant: [],
    perLane: [],
    perImage: [],
  };
  const steps = new Map<string, number[]>();
  const last = {} as Record<Strategy, Rendered>;
  const contender = (strategy: Strategy) => async () => {
    const rendered = await RENDERERS[strategy](image.bytes, settings);
    // Comparing a dozen numbers: nothing next to the encodes it follows.
    assertOutputs(strategy, image, rendered, settings);
    if (rendered.thumbnailMs !== undefined) thumbnails[strategy].push(rendered.thumbnailMs);
    if (strategy === 'perLane') {
      for (const [name, ms] of rendered.stepMs ?? []) steps.set(name, [...(steps.get(name) ?? []), ms]);
    }
    last[strategy] = rendered;
  };
  const samples = await interleave(
    iterations,
    {
      perVariantFormat: contender('perVariantFormat'),
      perVariant: contender('perVariant'),
      perLane: contender('perLane'),
      perImage: contender('perImage'),
    },
    false,
  );
  const perLane = summarise(samples.cpu.perLane);
  const strategies = (Object.keys(STRATEGIES) as Strategy[]).map((strategy): StrategyResult => {
    const cpu = summarise(samples.cpu[strategy]);
    return {
      strategy,
      description: STRATEGIES[strategy],
      messagesPerImage: last[strategy].messages,
      total: { wall: summarise(samples.wall[strategy]), cpu },
      ratioToPerLane: ratio(cpu.medianMs, perLane.medianMs),
      outputBytes: last[strategy].outputs.reduce((sum, output) => sum + output.size, 0),
    };
  });
  const thumbLane = summarise(thumbnails.perLane);
  const thumbImage = summarise(thumbnails.perImage);
  return {
    image: image.name,
    megapixels: Number(((image.width * image.height) / 1e6).toFixed(1)),
    strategies,
    timeToThumbnail: {
      perLane: thumbLane,
      perImage: thumbImage,
      ratio: ratio(thumbImage.medianMs, thumbLane.medianMs),
    },
    perLaneSteps: Object.fromEntries(
      settings.variants.map((variant) => [variant.name, summarise(steps.get(variant.name) ?? [])]),
    ),
  };
}
