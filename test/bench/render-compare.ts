import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { type EncoderSettings, PRODUCTION_ENCODERS } from '../../lambdas/core/encoder-settings.js';
import { OUTPUT_FORMAT_NAMES, OUTPUT_FORMATS, type OutputFormat } from '../../lambdas/core/formats.js';
import { encoder } from '../../lambdas/core/render/encode.js';
import { renderVariants } from '../../lambdas/core/render/render-variants.js';
import type { VariantEncoding, VariantSpec } from '../../lambdas/core/variants.js';
import type { BenchImage } from './images.js';
import {
  type PlaneSsim,
  QUALITY_MEASURE,
  type ScoredOutput,
  scoreOutputs,
  worstSsimDelta,
} from './quality.js';
import { expectedSize } from './render.js';
import { CANDIDATE_ENCODERS } from './render-sweep.js';
import { childCpuMs, interleave, ratio, type Summary, summarise } from './stats.js';

const exec = promisify(execFile);

/**
 * Ways to make the default variant set's twelve outputs from one JPEG: our pipeline, the obvious
 * sharp code, and the two command-line tools a shell script would reach for. Each contender gets the
 * same encoder settings as far as its tool allows (see `CAVEATS`); every output's size is checked.
 */
export const CONTENDERS = {
  pipeline: 'our pipeline: `renderVariants` on the original buffer (one decode, then a cascade)',
  pipelineCandidate: 'our pipeline with ADR 10’s candidate encoders (AVIF effort 3; not adopted)',
  naiveSharp: 'naive sharp: each output resized from the original on its own (12 decodes)',
  vipsCli: 'vips CLI: `vipsthumbnail` once per output, from the file (12 processes)',
  imagemagick: 'ImageMagick: `convert` once per output, from the file (12 processes)',
} as const;
export type Contender = keyof typeof CONTENDERS;
type CliContender = Extract<Contender, 'vipsCli' | 'imagemagick'>;

/** Where the contenders' outputs differ beyond the nominal settings, printed under the table. */
export const CAVEATS = [
  'Our pipeline and naive sharp share one encoder build (sharp’s libvips, libheif/aom, mozjpeg); the ' +
    'CLIs use the system’s: their JPEGs are libjpeg-turbo (no trellis quantisation), and the same ' +
    'nominal AVIF quality gives other bytes in another libheif/aom.',
  'AVIF: sharp and the vips CLI at the production effort and chroma (`PRODUCTION_ENCODERS`); ' +
    'ImageMagick 6 writes 4:2:0 at libheif’s default speed, as it has no option for either.',
  'Thumbnail crop: attention (sharp, vipsthumbnail -m attention); ImageMagick crops the centre.',
  'vipsthumbnail shrinks the JPEG while decoding it, as sharp does; convert decodes all 12 MP for ' +
    'each output (without a -define jpeg:size= hint, which the plain command does not give).',
  'The CLIs get sharp’s thread count (VIPS_CONCURRENCY, MAGICK_THREAD_LIMIT).',
] as const;

interface Produced {
  variant: string;
  format: OutputFormat;
  width: number;
  height: number;
  size: number;
  data: Buffer;
}

/** One contender on one input: `run` makes the outputs (timed), `outputs` reads what it made. */
interface Runner {
  run(): Promise<void>;
  outputs(): Promise<Produced[]>;
}

interface Input {
  image: BenchImage;
  /** The same bytes in a file, for the CLIs. */
  file: string;
  /** A directory of the contender's own for its outputs. */
  outDir: string;
  variants: readonly VariantSpec[];
  maxInputPixels: number;
}

const outputsOf = (variants: readonly VariantSpec[], formats: readonly OutputFormat[]) =>
  variants.flatMap((variant) =>
    variant.formats
      .filter((encoding) => formats.includes(encoding.format))
      .map((encoding) => ({ variant, encoding })),
  );

function pipelineRunner({ image, variants, maxInputPixels }: Input, encoders: EncoderSettings): Runner {
  let last: Produced[] = [];
  return {
    async run() {
      const { objects } = await renderVariants(image.bytes, variants, { maxInputPixels, encoders });
      last = objects.map(({ variant, format, width, height, bytes }) => ({
        variant,
        format,
        width,
        height,
        size: bytes.length,
        data: bytes,
      }));
    },
    async outputs() {
      return last;
    },
  };
}

function naiveSharpRunner({ image, variants, maxInputPixels }: Input): Runner {
  let last: Produced[] = [];
  return {
    async run() {
      const made: Produced[] = [];
      for (const { variant, encoding } of outputsOf(variants, OUTPUT_FORMAT_NAMES)) {
        const resized = sharp(image.bytes, { limitInputPixels: maxInputPixels })
          .autoOrient()
          .resize({
            width: variant.width,
            height: variant.height,
            fit: variant.fit,
            ...(variant.fit === 'cover' ? { position: sharp.strategy.attention } : {}),
            withoutEnlargement: true,
          });
        const { data, info } = await encoder(resized, encoding, undefined, PRODUCTION_ENCODERS).toBuffer({
          resolveWithObject: true,
        });
        const { width, height, size } = info;
        made.push({ variant: variant.name, format: encoding.format, width, height, size, data });
      }
      last = made;
    },
    async outputs() {
      return last;
    },
  };
}

/** A command-line tool, found on PATH or not. */
export interface CliTool {
  contender: CliContender;
  /** The binary the bench runs once per output. */
  command: string;
  install: string;
  installed: boolean;
  /** As the tool reports it, when installed. */
  version: string | undefined;
  /** Formats it wrote in a smoke test; the others are "n/a". */
  formats: OutputFormat[];
  threads: number;
}

interface CliSpec {
  command: string;
  install: string;
  version: (stdout: string) => string;
  versionArgs: string[];
  env: (threads: number) => NodeJS.ProcessEnv;
  args: (input: string, output: string, variant: VariantSpec, encoding: VariantEncoding) => string[];
}

const CLI: Readonly<Record<CliContender, CliSpec>> = {
  vipsCli: {
    command: 'vipsthumbnail',
    install: 'apt-get install libvips-tools (Debian/Ubuntu), brew install vips (macOS)',
    versionArgs: ['--vips-version'],
    version: (stdout) => stdout.trim(),
    env(threads) {
      // libvips sets VIPSHOME to its own prefix when it starts (sharp's too, in this process): inherited,
      // it sends the system's vips to look for its modules (the HEIF/AVIF saver) under sharp's prefix.
      const { VIPSHOME: _sharpsPrefix, ...env } = process.env;
      return { ...env, VIPS_CONCURRENCY: String(threads) };
    },
    args(input, output, variant, encoding) {
      const size =
        variant.fit === 'cover' ? ['-s', box(variant), '-m', 'attention'] : ['-s', `${box(variant)}>`];
      const { avif, webp } = PRODUCTION_ENCODERS;
      const subsample = avif.chromaSubsampling === '4:4:4' ? 'off' : 'on';
      const options = {
        avif: `Q=${encoding.quality},effort=${avif.effort},subsample_mode=${subsample},strip`,
        webp: `Q=${encoding.quality},effort=${webp.effort},smart_subsample=${webp.smartSubsample},strip`,
        jpeg: `Q=${encoding.quality},interlace,optimize_coding,strip`,
      }[encoding.format];
      return [input, ...size, '-o', `${output}[${options}]`];
    },
  },
  imagemagick: {
    command: 'convert',
    install: 'apt-get install imagemagick (Debian/Ubuntu), brew install imagemagick (macOS)',
    versionArgs: ['-version'],
    version: (stdout) => /ImageMagick [^\s]+/.exec(stdout)?.[0] ?? stdout.split('\n')[0] ?? '',
    env: (threads) => ({ ...process.env, MAGICK_THREAD_LIMIT: String(threads) }),
    args(input, output, variant, encoding) {
      const size =
        variant.fit === 'cover'
          ? ['-resize', `${box(variant)}^`, '-gravity', 'center', '-extent', box(variant)]
          : ['-resize', `${box(variant)}>`];
      const progressive = encoding.format === 'jpeg' ? ['-interlace', 'Plane'] : [];
      return [
        input,
        '-auto-orient',
        ...size,
        '-strip',
        '-quality',
        String(encoding.quality),
        ...progressive,
        output,
      ];
    },
  },
};

const box = (variant: VariantSpec): string => `${variant.width}x${variant.height}`;

const outputFile = (dir: string, variant: VariantSpec, format: OutputFormat): string =>
  path.join(dir, `${variant.name}.${OUTPUT_FORMATS[format].extension}`);

async function onPath(command: string): Promise<boolean> {
  try {
    await exec('sh', ['-c', 'command -v "$1"', 'sh', command]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds each CLI and which formats it can write: each format is tried on a small JPEG, so a tool
 * built without an AVIF encoder (libheif without aom) says so here rather than halfway through.
 */
export async function detectTools(
  variants: readonly VariantSpec[],
  threads: number,
  workDir: string,
): Promise<CliTool[]> {
  const probeDir = path.join(workDir, 'probe');
  await mkdir(probeDir, { recursive: true });
  const probe = path.join(probeDir, 'probe.jpg');
  await writeFile(
    probe,
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
      .jpeg()
      .toBuffer(),
  );
  const thumb = variants.find((variant) => variant.fit === 'cover') ?? variants[0];
  const tools: CliTool[] = [];
  for (const contender of Object.keys(CLI) as CliContender[]) {
    const spec = CLI[contender];
    const tool: CliTool = {
      contender,
      command: spec.command,
      install: spec.install,
      installed: await onPath(spec.command),
      version: undefined,
      formats: [],
      threads,
    };
    if (tool.installed && thumb) {
      try {
        tool.version = spec.version((await exec(spec.command, spec.versionArgs)).stdout);
      } catch {
        // A stand-in of that name (it fails to say its version): no tool, as below.
      }
      for (const format of OUTPUT_FORMAT_NAMES) {
        const output = outputFile(probeDir, thumb, format);
        try {
          await exec(spec.command, spec.args(probe, output, thumb, { format, quality: 80 }), {
            env: spec.env(threads),
          });
          if ((await stat(output)).size > 0) tool.formats.push(format);
        } catch {
          // Not writable by this build: reported as n/a.
        }
      }
    }
    // A stand-in of the same name that writes none of the formats is no tool for this bench.
    if (tool.formats.length === 0) tool.installed = false;
    tools.push(tool);
  }
  return tools;
}

function cliRunner(tool: CliTool, { file, outDir, variants }: Input): Runner {
  const spec = CLI[tool.contender];
  const env = spec.env(tool.threads);
  const jobs = outputsOf(variants, tool.formats).map(({ variant, encoding }) => ({
    variant,
    encoding,
    output: outputFile(outDir, variant, encoding.format),
  }));
  return {
    async run() {
      for (const { variant, encoding, output } of jobs) {
        await exec(spec.command, spec.args(file, output, variant, encoding), { env });
      }
    },
    async outputs() {
      const made: Produced[] = [];
      for (const { variant, encoding, output } of jobs) {
        const data = await readFile(output);
        const { width = 0, height = 0 } = await sharp(data).metadata();
        made.push({ variant: variant.name, format: encoding.format, width, height, size: data.length, data });
      }
      return made;
    },
  };
}

/**
 * Throws unless a contender made every output its tool can write, each at the size `resize` gives
 * (to a pixel: tools round a scaled edge differently).
 */
function assertOutputs(
  contender: Contender,
  image: BenchImage,
  variants: readonly VariantSpec[],
  formats: readonly OutputFormat[],
  made: readonly Produced[],
): void {
  const wanted = outputsOf(variants, formats);
  if (made.length !== wanted.length) {
    throw new Error(`${contender} made ${made.length} outputs of ${image.name}, not ${wanted.length}`);
  }
  for (const { variant, encoding } of wanted) {
    const output = made.find((o) => o.variant === variant.name && o.format === encoding.format);
    const expected = expectedSize(variant, image.width, image.height);
    const near = (a: number, b: number) => Math.abs(a - b) <= 1;
    if (!output || !near(output.width, expected.width) || !near(output.height, expected.height)) {
      const got = output ? `${output.width}x${output.height}` : 'nothing';
      throw new Error(
        `${contender}: ${variant.name}.${encoding.format} of ${image.name} is ${got}, not ${expected.width}x${expected.height}`,
      );
    }
  }
}

export interface ContenderResult {
  contender: Contender;
  description: string;
  /** Library or tool and version. */
  tool: string;
  installed: boolean;
  /** How to install it, when it is not. */
  install: string | null;
  /** Outputs made per run (fewer than the set's when a format is n/a). */
  outputs: number;
  /** Formats the tool cannot write here. */
  unavailableFormats: OutputFormat[];
  wall: Summary | null;
  /** Null where the CPU time of child processes cannot be read (no `/proc`). */
  cpu: Summary | null;
  /** Median over our pipeline's median. */
  ratioToPipeline: { cpu: number | null; wall: number } | null;
  /** Bytes of each format's outputs, summed over the variants; null when n/a. */
  bytes: Record<OutputFormat, number | null> | null;
  bytesRatioToPipeline: Record<OutputFormat, number | null> | null;
  /** Per-plane SSIM of each output (see `qualityMeasure`); null when not installed. */
  ssimPerOutput: ScoredOutput[] | null;
  /** Per plane, the output that lost most against the same output of `pipeline` (today's encoders). */
  worstSsimDeltaVsToday: PlaneSsim | null;
}

export interface RenderCompareResult {
  image: string;
  megapixels: number;
  variants: string[];
  iterations: number;
  /** libvips threads of sharp, and the CLIs' thread limit. */
  threads: number;
  cpuMeasure: string;
  caveats: readonly string[];
  contenders: ContenderResult[];
  qualityMeasure: string;
  /** `renderVariants` of the same image alone in a fresh process (`render-rss.ts`). */
  pipelinePeakRss: { peakRssMb: number; beforeRenderRssMb: number };
}

export const CPU_MEASURE =
  'CPU = user + system time of the bench process (all its threads: sharp and our pipeline) plus that ' +
  'of the CLI processes it waited for (getrusage RUSAGE_CHILDREN, read from /proc/self/stat, 10 ms ' +
  'ticks); process.cpuUsage() alone would leave the CLIs out.';

const RSS_SCRIPT = fileURLToPath(new URL('render-rss.ts', import.meta.url));

/** Peak RSS of `renderVariants` on `file`, run alone in a fresh Node process (with tsx). */
async function pipelineRss(
  file: string,
  variants: readonly VariantSpec[],
  maxInputPixels: number,
  threads: number,
  repoRoot: string,
): Promise<{ peakRssMb: number; beforeRenderRssMb: number }> {
  const { stdout } = await exec(
    process.execPath,
    ['--import', 'tsx', RSS_SCRIPT, file, JSON.stringify(variants), String(maxInputPixels), String(threads)],
    { cwd: repoRoot },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const { peakRssMb, beforeRenderRssMb } = JSON.parse(line) as {
    peakRssMb: number;
    beforeRenderRssMb: number;
  };
  return { peakRssMb, beforeRenderRssMb };
}

function sumBytes(
  made: readonly Produced[],
  formats: readonly OutputFormat[],
): Record<OutputFormat, number | null> {
  const sums = Object.fromEntries(OUTPUT_FORMAT_NAMES.map((format) => [format, null])) as Record<
    OutputFormat,
    number | null
  >;
  for (const format of formats) {
    sums[format] = made.filter((o) => o.format === format).reduce((sum, o) => sum + o.size, 0);
  }
  return sums;
}

/**
 * The four contenders side by side on `image`, rotated within each iteration. One untimed round on
 * `warmUp` first (loads every library and binary, and proves each command on a real photo).
 */
export async function benchRenderCompare(options: {
  image: BenchImage;
  warmUp: BenchImage;
  variants: readonly VariantSpec[];
  maxInputPixels: number;
  iterations: number;
  threads: number;
  repoRoot: string;
}): Promise<RenderCompareResult> {
  const { image, variants, maxInputPixels, iterations, threads, repoRoot } = options;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'aperture-bench-'));
  try {
    const tools = await detectTools(variants, threads, workDir);
    const installed = tools.filter((tool) => tool.installed);
    const runnersFor = async (bench: BenchImage, label: string) => {
      const file = path.join(workDir, `${label}.jpg`);
      await writeFile(file, bench.bytes);
      const input = async (contender: Contender): Promise<Input> => {
        const outDir = path.join(workDir, label, contender);
        await mkdir(outDir, { recursive: true });
        return { image: bench, file, outDir, variants, maxInputPixels };
      };
      const runners: Partial<Record<Contender, Runner>> = {
        pipeline: pipelineRunner(await input('pipeline'), PRODUCTION_ENCODERS),
        pipelineCandidate: pipelineRunner(await input('pipelineCandidate'), CANDIDATE_ENCODERS),
        naiveSharp: naiveSharpRunner(await input('naiveSharp')),
      };
      for (const tool of installed) runners[tool.contender] = cliRunner(tool, await input(tool.contender));
      return { file, runners };
    };

    const warm = await runnersFor(options.warmUp, 'warm-up');
    for (const runner of Object.values(warm.runners)) await runner.run();

    const timed = await runnersFor(image, 'image');
    const contenders = Object.fromEntries(
      Object.entries(timed.runners).map(([name, runner]) => [name, () => runner.run()]),
    ) as Record<Contender, () => Promise<void>>;
    const children = childCpuMs() !== undefined;
    const samples = await interleave(iterations, contenders, false);

    const formatsOf = (contender: Contender): OutputFormat[] =>
      tools.find((tool) => tool.contender === contender)?.formats ?? [...OUTPUT_FORMAT_NAMES];
    const made = new Map<Contender, Produced[]>();
    for (const [name, runner] of Object.entries(timed.runners) as [Contender, Runner][]) {
      const outputs = await runner.outputs();
      assertOutputs(name, image, variants, formatsOf(name), outputs);
      made.set(name, outputs);
    }
    const pipelineBytes = sumBytes(made.get('pipeline') ?? [], OUTPUT_FORMAT_NAMES);
    const references = new Map<string, Buffer>();
    const quality = new Map<Contender, ScoredOutput[]>();
    for (const [contender, outputs] of made) {
      quality.set(contender, await scoreOutputs(image.bytes, outputs, variants, maxInputPixels, references));
    }
    const today = quality.get('pipeline') ?? [];
    const pipelineCpu = summarise(samples.cpu.pipeline);
    const pipelineWall = summarise(samples.wall.pipeline);
    const libraries = `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}`;

    const results = (Object.keys(CONTENDERS) as Contender[]).map((contender): ContenderResult => {
      const tool = tools.find((t) => t.contender === contender);
      const base = {
        contender,
        description: CONTENDERS[contender],
        tool: tool ? `${tool.command} (${tool.version ?? 'not installed'})` : libraries,
      };
      const outputs = made.get(contender);
      if (tool && !tool.installed) {
        return {
          ...base,
          installed: false,
          install: tool.install,
          outputs: 0,
          unavailableFormats: [],
          wall: null,
          cpu: null,
          ratioToPipeline: null,
          bytes: null,
          bytesRatioToPipeline: null,
          ssimPerOutput: null,
          worstSsimDeltaVsToday: null,
        };
      }
      if (!outputs) throw new Error(`${contender} was not measured`);
      const formats = formatsOf(contender);
      const wall = summarise(samples.wall[contender]);
      // In-process contenders need no child accounting; the CLIs' CPU is unknown without /proc.
      const cpu = tool && !children ? null : summarise(samples.cpu[contender]);
      const bytes = sumBytes(outputs, formats);
      return {
        ...base,
        installed: true,
        install: null,
        outputs: outputs.length,
        unavailableFormats: OUTPUT_FORMAT_NAMES.filter((format) => !formats.includes(format)),
        wall,
        cpu,
        ratioToPipeline: {
          cpu: cpu ? ratio(cpu.medianMs, pipelineCpu.medianMs) : null,
          wall: ratio(wall.medianMs, pipelineWall.medianMs),
        },
        bytes,
        bytesRatioToPipeline: Object.fromEntries(
          OUTPUT_FORMAT_NAMES.map((format) => {
            const own = bytes[format];
            const ours = pipelineBytes[format];
            return [format, own === null || !ours ? null : ratio(own, ours)];
          }),
        ) as Record<OutputFormat, number | null>,
        ssimPerOutput: quality.get(contender) ?? null,
        worstSsimDeltaVsToday: worstSsimDelta(quality.get(contender) ?? [], today),
      };
    });

    const pipelinePeakRss = await pipelineRss(timed.file, variants, maxInputPixels, threads, repoRoot);
    return {
      image: image.name,
      megapixels: Number(((image.width * image.height) / 1e6).toFixed(1)),
      variants: variants.map((variant) => variant.name),
      iterations,
      threads,
      cpuMeasure: children
        ? CPU_MEASURE
        : 'CPU of this process only (no /proc): the CLIs are timed by wall clock alone.',
      caveats: CAVEATS,
      contenders: results,
      qualityMeasure: QUALITY_MEASURE,
      pipelinePeakRss,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
