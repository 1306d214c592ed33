import sharp from 'sharp';
import {
  BASELINE_ENCODERS,
  type EncoderSettings,
  PRODUCTION_ENCODERS,
} from '../../lambdas/core/encoder-settings.js';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from '../../lambdas/core/formats.js';
import { type RenderedObject, renderVariants } from '../../lambdas/core/render/render-variants.js';
import type { VariantSpec } from '../../lambdas/core/variants.js';
import type { BenchImage } from './images.js';
import {
  type PlaneSsim,
  QUALITY_MEASURE,
  type ScoredOutput,
  scoreOutputs,
  worstSsimDelta,
} from './quality.js';
import { interleave, ratio, type Summary, summarise } from './stats.js';

/** One point of the sweep: production's encoders with some of them changed. */
export interface SweepConfiguration {
  name: string;
  encoders: EncoderSettings;
}

const change = (
  name: string,
  from: EncoderSettings,
  parts: { [F in OutputFormat]?: Partial<EncoderSettings[F]> },
): SweepConfiguration => ({
  name,
  encoders: {
    avif: { ...from.avif, ...parts.avif },
    webp: { ...from.webp, ...parts.webp },
    jpeg: { ...from.jpeg, ...parts.jpeg },
  },
});

/**
 * ADR 10's candidate, AVIF at effort 3 with full chroma: a third of today's CPU for 0.2% more bytes
 * and a little quality on the smaller AVIFs. Measured beside production; no render uses it.
 */
export const CANDIDATE_ENCODERS: EncoderSettings = {
  ...BASELINE_ENCODERS,
  avif: { ...BASELINE_ENCODERS.avif, effort: 3 },
};

/**
 * AVIF is nine tenths of today's CPU, so its effort and chroma are swept in full; WebP's and JPEG's
 * options are tried on a fast AVIF, where what they add or save shows.
 */
export const SWEEP: readonly SweepConfiguration[] = [
  { name: 'today', encoders: BASELINE_ENCODERS },
  { name: 'avif e3 4:4:4 (candidate)', encoders: CANDIDATE_ENCODERS },
  change('avif e2 4:4:4', BASELINE_ENCODERS, { avif: { effort: 2 } }),
  change('avif e4 4:2:0', BASELINE_ENCODERS, { avif: { chromaSubsampling: '4:2:0' } }),
  change('avif e3 4:2:0', BASELINE_ENCODERS, { avif: { effort: 3, chromaSubsampling: '4:2:0' } }),
  change('avif e2 4:2:0', BASELINE_ENCODERS, { avif: { effort: 2, chromaSubsampling: '4:2:0' } }),
  change('avif e1 4:2:0', BASELINE_ENCODERS, { avif: { effort: 1, chromaSubsampling: '4:2:0' } }),
  change('avif e2 4:4:4, webp e3', BASELINE_ENCODERS, { avif: { effort: 2 }, webp: { effort: 3 } }),
  change('avif e2 4:4:4, webp e5', BASELINE_ENCODERS, { avif: { effort: 2 }, webp: { effort: 5 } }),
  change('avif e2 4:4:4, webp smart', BASELINE_ENCODERS, {
    avif: { effort: 2 },
    webp: { smartSubsample: true },
  }),
  change('avif e2 4:4:4, jpeg no trellis', BASELINE_ENCODERS, {
    avif: { effort: 2 },
    jpeg: { trellisQuantisation: false },
  }),
  change('avif e2 4:4:4, jpeg baseline scans', BASELINE_ENCODERS, {
    avif: { effort: 2 },
    jpeg: { optimiseScans: false },
  }),
  change('avif e3 4:4:4, jpeg baseline scans', BASELINE_ENCODERS, {
    avif: { effort: 3 },
    jpeg: { optimiseScans: false },
  }),
];

export interface SweepImageResult {
  image: string;
  megapixels: number;
  cpu: Summary;
  wall: Summary;
  /** Summed over the variants, and over everything. */
  bytes: Record<OutputFormat | 'total', number>;
  outputs: ScoredOutput[];
  /** Against `today` on the same image: median CPU and total bytes ratios, and each plane's worst output. */
  versusToday: {
    cpu: number;
    bytes: number;
    /** The smallest (most negative) SSIM change of any one output, per plane. */
    worstSsimDelta: PlaneSsim;
  };
}

export interface SweepResult {
  iterations: number;
  threads: number;
  qualityMeasure: string;
  configurations: { name: string; encoders: EncoderSettings; images: SweepImageResult[] }[];
}

const bytesOf = (objects: readonly RenderedObject[]): Record<OutputFormat | 'total', number> => {
  const sums = { avif: 0, webp: 0, jpeg: 0, total: 0 };
  for (const o of objects) {
    sums[o.format] += o.bytes.length;
    sums.total += o.bytes.length;
  }
  return sums;
};

/**
 * The default set rendered the pipeline's way (`renderVariants`: one decode, then the cascade) under
 * each configuration, on each image: CPU (configurations interleaved within each iteration), bytes,
 * and per-plane SSIM of every output (encoders are deterministic, so quality is measured once).
 */
export async function benchRenderSweep(options: {
  images: readonly BenchImage[];
  variants: readonly VariantSpec[];
  maxInputPixels: number;
  iterations: number;
  threads: number;
  configurations?: readonly SweepConfiguration[];
  log?: (line: string) => void;
}): Promise<SweepResult> {
  const { images, variants, maxInputPixels, iterations } = options;
  const configurations = options.configurations ?? SWEEP;
  const perImage = new Map<string, Map<string, SweepImageResult>>();
  for (const image of images) {
    const last = new Map<string, RenderedObject[]>();
    const runs = Object.fromEntries(
      configurations.map(({ name, encoders }) => [
        name,
        async () => {
          last.set(name, (await renderVariants(image.bytes, variants, { maxInputPixels, encoders })).objects);
        },
      ]),
    );
    options.log?.(`sweep: ${image.name}, ${configurations.length} configurations × ${iterations}`);
    const samples = await interleave(iterations, runs, false);
    const references = new Map<string, Buffer>();
    const scored = new Map<string, ScoredOutput[]>();
    for (const { name } of configurations) {
      const outputs = (last.get(name) ?? []).map((o) => ({ ...o, data: o.bytes }));
      scored.set(name, await scoreOutputs(image.bytes, outputs, variants, maxInputPixels, references));
    }
    const today = scored.get('today') ?? [];
    const todayCpu = summarise(samples.cpu.today ?? []).medianMs;
    const todayBytes = bytesOf(last.get('today') ?? []).total;
    const results = new Map<string, SweepImageResult>();
    for (const { name } of configurations) {
      const cpu = summarise(samples.cpu[name] ?? []);
      const bytes = bytesOf(last.get(name) ?? []);
      const outputs = scored.get(name) ?? [];
      results.set(name, {
        image: image.name,
        megapixels: Number(((image.width * image.height) / 1e6).toFixed(1)),
        cpu,
        wall: summarise(samples.wall[name] ?? []),
        bytes,
        outputs,
        versusToday: {
          cpu: ratio(cpu.medianMs, todayCpu),
          bytes: Number((bytes.total / todayBytes).toFixed(4)),
          worstSsimDelta: worstSsimDelta(outputs, today),
        },
      });
    }
    perImage.set(image.name, results);
  }
  return {
    iterations,
    threads: options.threads,
    qualityMeasure: QUALITY_MEASURE,
    configurations: configurations.map(({ name, encoders }) => ({
      name,
      encoders,
      images: images.flatMap((image) => perImage.get(image.name)?.get(name) ?? []),
    })),
  };
}

export const THREADINGS = {
  oneThread: 'one libvips thread (sharp.concurrency(1)), formats one after another: the pipeline',
  twoThreads: 'two libvips threads (sharp.concurrency(2)), formats one after another',
  formatsInParallel:
    'one thread, the three formats at once: three cascades, one per format, in parallel (one decode and resize more each)',
} as const;
export type Threading = keyof typeof THREADINGS;

export interface ThreadingResult {
  image: string;
  threading: Threading;
  description: string;
  cpu: Summary;
  wall: Summary;
  /** Median over `oneThread`'s median. */
  versusOneThread: { cpu: number; wall: number };
}

/**
 * sharp's concurrency and parallel formats on the production encoders: CPU and wall time of each
 * way, interleaved. Wall time is what they would gain and only means something on an idle machine.
 */
export async function benchThreading(options: {
  images: readonly BenchImage[];
  variants: readonly VariantSpec[];
  maxInputPixels: number;
  iterations: number;
}): Promise<ThreadingResult[]> {
  const { variants, maxInputPixels } = options;
  const before = sharp.concurrency();
  const render = (bytes: Buffer, set: readonly VariantSpec[]) =>
    renderVariants(bytes, set, { maxInputPixels, encoders: PRODUCTION_ENCODERS });
  const results: ThreadingResult[] = [];
  try {
    for (const image of options.images) {
      const sequential = (threads: number) => async () => {
        sharp.concurrency(threads);
        await render(image.bytes, variants);
      };
      const runs: Record<Threading, () => Promise<unknown>> = {
        oneThread: sequential(1),
        twoThreads: sequential(2),
        async formatsInParallel() {
          sharp.concurrency(1);
          const onlyFormat = (format: OutputFormat) =>
            variants.map((v) => ({ ...v, formats: v.formats.filter((e) => e.format === format) }));
          await Promise.all(OUTPUT_FORMAT_NAMES.map((format) => render(image.bytes, onlyFormat(format))));
        },
      };
      const samples = await interleave(options.iterations, runs);
      const base = { cpu: summarise(samples.cpu.oneThread), wall: summarise(samples.wall.oneThread) };
      for (const threading of Object.keys(THREADINGS) as Threading[]) {
        const cpu = summarise(samples.cpu[threading]);
        const wall = summarise(samples.wall[threading]);
        results.push({
          image: image.name,
          threading,
          description: THREADINGS[threading],
          cpu,
          wall,
          versusOneThread: {
            cpu: ratio(cpu.medianMs, base.cpu.medianMs),
            wall: ratio(wall.medianMs, base.wall.medianMs),
          },
        });
      }
    }
  } finally {
    sharp.concurrency(before);
  }
  return results;
}
