/**
 * `npm run bench`: measures, side by side in one run, what ingest spends on an upload beyond hashing
 * it, how grouping render work into jobs changes the work per image (ADR 5), and what our render
 * pipeline costs against naive sharp and the vips and ImageMagick CLIs (those where installed), and how
 * fast `aperture ingest DIR` brings a library into the local runtime and how much memory
 * `aperture migrate-json` needs for a large document, and what the offline enrichment models cost per
 * image and a local vector search over 100k images, and what a search costs over 100k images' index
 * entries on DynamoDB Local, and what a phone's HEIC costs to judge, decode and render next to the same
 * pixels as a JPEG, and how long app uploads wait for their first thumbnail while a library is imported.
 * Prints Markdown tables and writes
 * `test/bench/results.json`. Speed targets live here, never in timed tests.
 *
 *   npm run bench -- --iterations 3 --ingest-iterations 15 --concurrency 1 --no-corpus
 *   npm run bench -- --only latency --latency-images 50
 *   npm run bench -- --only bulk --bulk-small 2000 --bulk-large 50 --bulk-concurrency 8
 *   npm run bench -- --only bulk --bulk-small 200 --bulk-large 10 --bulk-drain --bulk-workers 1
 *   npm run bench -- --only migrate --migrate-mb 256
 *   npm run bench -- --only enrichment --enrichment-iterations 3 --vectors 100000
 *   npm run bench -- --only search --search-images 100000 --search-owners 400 --search-queries 30
 *   npm run bench -- --only heic
 *   npm run bench -- --only import-priority --priority-imports 200 --priority-uploads 12
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { OUTPUT_FORMAT_NAMES, type OutputFormat } from '../../lambdas/core/formats.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { CORPUS_DIR } from '../support/corpus.js';
import { adversarialSummaryLine, adversarialTable, benchAdversarial } from './adversarial.js';
import { BULK_CPU_MEASURE, type BulkResult, benchBulkIngest } from './bulk-ingest.js';
import { benchLocalEnrichment, benchVectorSearch } from './enrichment.js';
import { benchHeic, type HeicResult } from './heic.js';
import { corpusImages, generatedImages } from './images.js';
import { benchImportPriority, type ImportPriorityResult } from './import-priority.js';
import { benchIngest, type IngestResult } from './ingest.js';
import { benchLocalLatency, type LatencyResult } from './local-latency.js';
import { benchMigrateLarge, type MigrateLargeResult } from './migrate-large.js';
import { benchRender, verifyRenderers } from './render.js';
import {
  benchRenderCompare,
  CONTENDERS,
  type ContenderResult,
  type RenderCompareResult,
} from './render-compare.js';
import {
  benchRenderSweep,
  benchThreading,
  type SweepResult,
  THREADINGS,
  type ThreadingResult,
} from './render-sweep.js';
import { benchSearch, type SearchBenchResult, searchSummary, searchTable } from './search.js';
import { markdownTable, ms, type Summary } from './stats.js';

/** `median / p95`, the form of every timing cell. */
const pair = (summary: Summary, digits?: number): string =>
  digits === undefined
    ? `${ms(summary.medianMs)} / ${ms(summary.p95Ms)}`
    : `${summary.medianMs.toFixed(digits)} / ${summary.p95Ms.toFixed(digits)}`;

const RENDER_IMAGE = 'generated 12 MP';
/** The corpus's camera photos the encoder sweep and the render comparison measure: 12 and 24 MP. */
const CAMERA_PHOTOS = ['ianare__42_IndexError.jpg', 'immich__craft-beer.jpg'];
const WARM_UP_IMAGE = 'generated 1 MP';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '3' },
    'ingest-iterations': { type: 'string', default: '15' },
    concurrency: { type: 'string' },
    'no-corpus': { type: 'boolean', default: false },
    /** Comma-separated sections to run: ingest, render, sweep, latency, bulk, migrate, adversarial, enrichment, search, heic, import-priority. */
    only: {
      type: 'string',
      default: 'ingest,render,sweep,latency,bulk,migrate,adversarial,enrichment,search,heic,import-priority',
    },
    /** Timed runs of each encoder configuration in the sweep. */
    'sweep-iterations': { type: 'string', default: '2' },
    'latency-images': { type: 'string', default: '50' },
    /** Images in the bulk ingest's small (640x480) and large (4000x3000) libraries. */
    'bulk-small': { type: 'string', default: '2000' },
    'bulk-large': { type: 'string', default: '50' },
    /** Files the CLI has in flight at once (its own default is 8). */
    'bulk-concurrency': { type: 'string', default: '8' },
    /** Render every variant between runs (minutes of sharp per library) instead of dropping the backlog. */
    'bulk-drain': { type: 'boolean', default: false },
    /** `npm start --workers` for the bulk ingest: render invocations at once per lane (default: cores). */
    'bulk-workers': { type: 'string' },
    /** The size of the large JSON document `aperture migrate-json` streams, MB. */
    'migrate-mb': { type: 'string', default: '256' },
    /** Runs of each offline model per analysis image. */
    'enrichment-iterations': { type: 'string', default: '3' },
    /** The large owner's vectors in the vector search (beside 1,000 small owners' 20 each). */
    vectors: { type: 'string', default: '100000' },
    /** The large owner's images in the search bench, and the owners of 50 beside it (the first measured). */
    'search-images': { type: 'string', default: '100000' },
    'search-owners': { type: 'string', default: '400' },
    /** Timed runs of each search. */
    'search-queries': { type: 'string', default: '30' },
    /** BatchWriteItem chunks in flight while seeding the search bench's table. */
    'search-seed-concurrency': { type: 'string', default: '8' },
    /** The library imported while app uploads are timed, its originals; the app uploads, one every interval. */
    'priority-imports': { type: 'string', default: '200' },
    'priority-uploads': { type: 'string', default: '12' },
    'priority-interval-ms': { type: 'string', default: '3000' },
  },
});
const SECTIONS = [
  'ingest',
  'render',
  'sweep',
  'latency',
  'bulk',
  'migrate',
  'adversarial',
  'enrichment',
  'search',
  'heic',
  'import-priority',
] as const;
const sections = new Set(args.only.split(','));
for (const section of sections) {
  if (!SECTIONS.includes(section as (typeof SECTIONS)[number])) {
    throw new RangeError(`--only takes ${SECTIONS.join(', ')}; not ${section}`);
  }
}

const count = (name: string, value: string | undefined): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new RangeError(`--${name} must be a positive integer`);
  return parsed;
};

const renderIterations = count('iterations', args.iterations);
const latencyImages = count('latency-images', args['latency-images']);
const ingestIterations = count('ingest-iterations', args['ingest-iterations']);
const bulkOptions = {
  small: count('bulk-small', args['bulk-small']),
  large: count('bulk-large', args['bulk-large']),
  concurrency: count('bulk-concurrency', args['bulk-concurrency']),
  drain: args['bulk-drain'],
  ...(args['bulk-workers'] === undefined ? {} : { workers: count('bulk-workers', args['bulk-workers']) }),
};
// sharp's default is one libvips thread per pipeline on glibc Linux without jemalloc (Lambda included).
if (args.concurrency !== undefined) sharp.concurrency(count('concurrency', args.concurrency));
// Lambda workers never see the same original twice; the operation cache must not flatter re-decoding.
sharp.cache(false);

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const settings = parseSettings();
const started = performance.now();

console.log(
  `Aperture bench: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, Node ${process.version},` +
    ` sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, sharp concurrency ${sharp.concurrency()}`,
);

const generated = await generatedImages();
const corpus = args['no-corpus'] ? [] : await corpusImages(repoRoot);
const byName = (name: string) => {
  const image = generated.find((candidate) => candidate.name === name);
  if (!image) throw new Error(`no image named ${name}`);
  return image;
};

console.log('\nTimes are median / p95 (nearest rank), CPU time unless marked wall; MB = 10^6 bytes.');
const ingest: IngestResult[] = [];
if (sections.has('ingest')) {
  console.log(`\n## Ingest hash+probe vs raw SHA-256 (${ingestIterations} iterations, 64 KiB chunks)\n`);
  for (const image of [...generated, ...corpus])
    ingest.push(await benchIngest(image, settings, ingestIterations));
  console.log(
    markdownTable(
      [
        'image',
        'MP',
        'MB',
        'SHA-256 ms/MB',
        'ingest ms/MB',
        'ingest ms',
        'ingest wall ms',
        'ingest ÷ SHA-256',
      ],
      ingest.map((r) => [
        r.image,
        r.megapixels.toFixed(1),
        r.mb.toFixed(2),
        pair(r.rawSha256.cpuMsPerMb, 2),
        pair(r.ingest.cpuMsPerMb, 2),
        pair(r.ingest.cpu),
        pair(r.ingest.wall),
        `${r.ratio.toFixed(1)}×`,
      ]),
    ),
  );
}

/** The render comparison's tables: time, bytes, and each output's quality beside today's encoders. */
function printCompare(compare: RenderCompareResult): void {
  const timing = (
    r: ContenderResult,
    summary: Summary | null,
    versus: number | null | undefined,
  ): string[] =>
    r.installed
      ? [summary ? pair(summary) : 'n/a (no /proc)', versus == null ? 'n/a' : `${versus.toFixed(2)}×`]
      : ['not installed', '–'];
  console.log(
    markdownTable(
      ['contender', 'tool', 'outputs', 'CPU ms', '× ours', 'wall ms', '× ours'],
      compare.contenders.map((r) => [
        r.contender,
        r.tool,
        String(r.outputs),
        ...timing(r, r.cpu, r.ratioToPipeline?.cpu),
        ...timing(r, r.wall, r.ratioToPipeline?.wall),
      ]),
    ),
  );
  const perFormat = (r: ContenderResult, text: (format: OutputFormat) => string | undefined) =>
    OUTPUT_FORMAT_NAMES.map((format) => {
      if (!r.installed) return 'not installed';
      return r.bytes?.[format] == null ? 'n/a (no encoder)' : (text(format) ?? 'n/a');
    });
  const delta = (value: number) => (value === 0 ? '0' : value.toFixed(4));
  console.log(
    `\nOutput KB per format (all ${compare.variants.length} variants), and the worst output's SSIM change against our pipeline's (today's encoders):\n`,
  );
  console.log(
    markdownTable(
      [
        'contender',
        ...OUTPUT_FORMAT_NAMES.map((format) => `${format.toUpperCase()} KB (× ours)`),
        'worst ΔSSIM Y / Cb / Cr',
      ],
      compare.contenders.map((r) => [
        r.contender,
        ...perFormat(r, (format) => {
          const bytes = r.bytes?.[format];
          const versus = r.bytesRatioToPipeline?.[format];
          return bytes == null ? undefined : `${(bytes / 1000).toFixed(1)} (${versus?.toFixed(2) ?? '–'}×)`;
        }),
        r.worstSsimDeltaVsToday
          ? [r.worstSsimDeltaVsToday.y, r.worstSsimDeltaVsToday.cb, r.worstSsimDeltaVsToday.cr]
              .map(delta)
              .join(' / ')
          : '–',
      ]),
    ),
  );
  const measured = compare.contenders.filter((r) => r.ssimPerOutput);
  const outputs = measured[0]?.ssimPerOutput ?? [];
  console.log('\nSSIM Y / Cb / Cr of each output:\n');
  console.log(
    markdownTable(
      ['output', ...measured.map((r) => r.contender)],
      outputs.map(({ variant, format }) => [
        `${variant}.${format}`,
        ...measured.map((r) => {
          const ssim = r.ssimPerOutput?.find((o) => o.variant === variant && o.format === format)?.ssim;
          return ssim ? `${ssim.y.toFixed(4)} / ${ssim.cb.toFixed(4)} / ${ssim.cr.toFixed(4)}` : 'n/a';
        }),
      ]),
    ),
  );
  console.log('');
  for (const r of compare.contenders) {
    console.log(
      `- ${r.contender}: ${CONTENDERS[r.contender]}${r.installed ? '' : `; not installed: ${r.install}`}`,
    );
  }
  console.log(`\n${compare.cpuMeasure}\n\nQuality: ${compare.qualityMeasure}`);
  for (const caveat of compare.caveats) console.log(`- ${caveat}`);
  const { pipelinePeakRss } = compare;
  console.log(
    `\nPeak RSS of renderVariants alone on ${compare.image}, in a fresh process: ${pipelinePeakRss.peakRssMb} MB` +
      ` (${pipelinePeakRss.beforeRenderRssMb} MB before rendering: Node, tsx, sharp, the original).`,
  );
}

let render: Awaited<ReturnType<typeof benchRender>> | undefined;
let compare: RenderCompareResult | undefined;
/** The same comparison on the corpus's camera photos. */
const comparePhotos: RenderCompareResult[] = [];
if (sections.has('render')) {
  console.log(`\n## Render job grouping, ${RENDER_IMAGE} JPEG q90 (${renderIterations} iterations)\n`);
  await verifyRenderers(byName(WARM_UP_IMAGE), settings);
  render = await benchRender(byName(RENDER_IMAGE), settings, renderIterations);
  console.log(
    markdownTable(
      ['job per', 'SQS messages / image', 'CPU ms', 'wall ms', '× per lane', 'output KB'],
      render.strategies.map((s) => [
        s.strategy,
        String(s.messagesPerImage),
        pair(s.total.cpu),
        pair(s.total.wall),
        `${s.ratioToPerLane.toFixed(2)}×`,
        (s.outputBytes / 1000).toFixed(0),
      ]),
    ),
  );
  const { timeToThumbnail } = render;
  console.log('\nTime to thumbnail (all three formats of `thumb` written):\n');
  console.log(
    markdownTable(
      ['thumbnail made by', 'wall ms'],
      [
        ['its own thumbnails-lane job (per lane)', pair(timeToThumbnail.perLane)],
        ['one job for every variant (per image)', pair(timeToThumbnail.perImage)],
      ],
    ),
  );

  console.log(
    `\nPer-lane job steps (wall ms, median; resize + AVIF + WebP + JPEG): ${Object.entries(
      render.perLaneSteps,
    )
      .map(([name, step]) => `${name} ${ms(step.medianMs)}`)
      .join(', ')}`,
  );

  // The generated image first (the figures the cost model was derived from), then the camera photos.
  const photos = corpus.filter((image) => CAMERA_PHOTOS.includes(image.name));
  for (const image of [byName(RENDER_IMAGE), ...photos]) {
    console.log(
      `\n## Render per ${image.name} JPEG (${image.width}x${image.height}): default variant set, ${DEFAULT_VARIANTS.length} variants × 3 formats (${renderIterations} iterations)\n`,
    );
    const result = await benchRenderCompare({
      image,
      warmUp: byName(WARM_UP_IMAGE),
      variants: DEFAULT_VARIANTS,
      maxInputPixels: settings.maxInputPixels,
      iterations: renderIterations,
      threads: sharp.concurrency(),
      repoRoot,
    });
    if (image.source === 'generated') compare = result;
    else comparePhotos.push(result);
    printCompare(result);
  }
  if (photos.length === 0)
    console.log('\nNo corpus here: the render comparison on camera photos is skipped.');
}

let sweep: SweepResult | undefined;
let threading: ThreadingResult[] | undefined;
if (sections.has('sweep')) {
  const photos = corpus.filter((image) => CAMERA_PHOTOS.includes(image.name));
  if (photos.length === 0) {
    console.log('\n## Encoder sweep: skipped, no corpus here (its camera photos are the inputs)');
  } else {
    const iterations = count('sweep-iterations', args['sweep-iterations']);
    console.log(
      `\n## Encoder sweep: the default set rendered by \`renderVariants\` under each encoder configuration (${iterations} iterations)\n`,
    );
    sweep = await benchRenderSweep({
      images: photos,
      variants: DEFAULT_VARIANTS,
      maxInputPixels: settings.maxInputPixels,
      iterations,
      threads: sharp.concurrency(),
      log: (line) => console.error(line),
    });
    const delta = (value: number) => (value === 0 ? '0' : value.toFixed(4));
    console.log(
      markdownTable(
        [
          'encoders',
          'image',
          'CPU ms',
          '× today',
          'AVIF / WebP / JPEG KB',
          'bytes × today',
          'worst ΔSSIM Y / Cb / Cr',
        ],
        sweep.configurations.flatMap((c) =>
          c.images.map((r) => [
            c.name,
            `${r.image} (${r.megapixels} MP)`,
            pair(r.cpu),
            `${r.versusToday.cpu.toFixed(2)}×`,
            OUTPUT_FORMAT_NAMES.map((format) => (r.bytes[format] / 1000).toFixed(0)).join(' / '),
            `${r.versusToday.bytes.toFixed(3)}×`,
            [r.versusToday.worstSsimDelta.y, r.versusToday.worstSsimDelta.cb, r.versusToday.worstSsimDelta.cr]
              .map(delta)
              .join(' / '),
          ]),
        ),
      ),
    );
    console.log(
      `\nQuality: ${sweep.qualityMeasure} ΔSSIM: the output that lost most against today's, per plane.`,
    );
    const twelve = photos.slice(0, 1);
    console.log(
      `\n## Threads and parallel formats, production encoders, ${twelve.map((p) => p.name).join(', ')} (${iterations} iterations)\n`,
    );
    threading = await benchThreading({
      images: twelve,
      variants: DEFAULT_VARIANTS,
      maxInputPixels: settings.maxInputPixels,
      iterations,
    });
    console.log(
      markdownTable(
        ['way', 'CPU ms', '× one thread', 'wall ms', '× one thread'],
        threading.map((r) => [
          r.threading,
          pair(r.cpu),
          `${r.versusOneThread.cpu.toFixed(2)}×`,
          pair(r.wall),
          `${r.versusOneThread.wall.toFixed(2)}×`,
        ]),
      ),
    );
    console.log('');
    for (const [way, description] of Object.entries(THREADINGS)) console.log(`- ${way}: ${description}`);
  }
}

let latency: LatencyResult | undefined;
if (sections.has('latency')) {
  const photo = { width: 2400, height: 1800, uploaders: 4 };
  console.log(
    `\n## Upload to thumbnail and to ready on the local runtime: ${latencyImages} photo-like ${photo.width}x${photo.height} JPEGs, ${photo.uploaders} uploaders at once\n`,
  );
  latency = await benchLocalLatency({ images: latencyImages, ...photo });
  console.log(
    markdownTable(
      ['from S3 upload done to', 'wall ms (median / p95)'],
      [
        ['`thumb` ready (first thumbnail)', pair(latency.toFirstThumbnail)],
        ['image `ready` (every variant)', pair(latency.toReady)],
      ],
    ),
  );
  console.log(
    `\n${latency.images} images in ${latency.totalSeconds} s wall, ${latency.workersPerLane} render invocations at once per lane.`,
  );
}

let bulk: BulkResult | undefined;
if (sections.has('bulk')) {
  console.log(
    `\n## Bulk ingest on the local runtime: \`aperture ingest DIR --local --concurrency ${bulkOptions.concurrency}\`` +
      ` against \`npm start\`, ${bulkOptions.small} small and ${bulkOptions.large} large photo-like JPEGs\n`,
  );
  bulk = await benchBulkIngest({ ...bulkOptions, log: (line) => console.error(`bulk: ${line}`) });
  const coreNames = Object.keys(bulk.libraries[0]?.first.cpu?.cores ?? { cpu0: 0, cpu1: 0 });
  const cpuCell = (value: number | undefined) => (value === undefined ? 'n/a (no /proc)' : value.toFixed(1));
  console.log(
    markdownTable(
      [
        'library',
        'images',
        'MB',
        'wall s',
        'images/s',
        'MB/s',
        'CLI CPU s',
        'runtime CPU s',
        'other CPU s',
        ...coreNames.map((core) => `${core} busy %`),
        'rerun files/s',
      ],
      bulk.libraries.map((r) => [
        `${r.name} (${r.width}x${r.height})`,
        String(r.images),
        r.mb.toFixed(1),
        r.first.wallSeconds.toFixed(1),
        r.first.imagesPerSecond.toFixed(1),
        r.first.mbPerSecond.toFixed(1),
        cpuCell(r.first.cpu?.cliSeconds),
        cpuCell(r.first.cpu?.runtimeSeconds),
        cpuCell(r.first.cpu?.otherSeconds),
        ...coreNames.map((core) => cpuCell(r.first.cpu?.cores[core]?.busyPercent)),
        r.rerun.filesPerSecond.toFixed(0),
      ]),
    ),
  );
  console.log('');
  for (const r of bulk.libraries) {
    const cpu = r.first.cpu;
    const byProcess = Object.entries(cpu?.runtimeByProcess ?? {})
      .map(([command, cpuSeconds]) => `${command} ${cpuSeconds.toFixed(1)}`)
      .join(', ');
    const node = cpu?.runtimeNode;
    const backlog = r.renderBacklog;
    console.log(
      `- ${r.name}: runtime CPU s by process: ${byProcess || 'n/a'}` +
        (node
          ? ` (node main thread ${node.mainThreadSeconds.toFixed(1)}, other threads ${node.otherThreadsSeconds.toFixed(1)})`
          : '') +
        `; all cores busy ${cpuCell(cpu?.machineSeconds)} CPU s;` +
        ` CLI's own elapsed ${r.first.cliElapsedSeconds} s. ${backlog.jobsLeft} render jobs left when the CLI finished,` +
        ` ${backlog.handling} in ${backlog.seconds} s (${cpuCell(backlog.runtimeCpuSeconds)} runtime CPU s).` +
        ` Rerun ${r.rerun.wallSeconds} s wall (${r.rerun.cliElapsedSeconds} s the CLI's own), ${cpuCell(r.rerun.cpu?.cliSeconds)} CLI CPU s.`,
    );
  }
  console.log(
    `\nJPEG q${bulk.quality}, generated in ${bulk.generateSeconds} s; ${bulk.workersPerLane} render invocations at once per lane;` +
      ` runtime idle ${cpuCell(bulk.runtimeIdleCpuPercent)} % of a core; section ${bulk.seconds} s.` +
      ' Wall s: CLI spawn to exit (Node and tsx start-up included). Other CPU s: busy time of neither the CLI nor' +
      ' the runtime (this bench, other tenants of the machine). Rerun: the same command on the same checkpoint,' +
      ' every file `unchanged`, once the render backlog is dealt with.',
  );
  console.log(`\n${BULK_CPU_MEASURE}`);
}

let migrate: MigrateLargeResult | undefined;
if (sections.has('migrate')) {
  const largeMb = count('migrate-mb', args['migrate-mb']);
  console.log(
    `\n## \`aperture migrate-json\` on a ${largeMb} MB JSON document against a small one with the same images\n`,
  );
  migrate = await benchMigrateLarge({
    largeMb,
    images: 20,
    log: (line) => console.error(`migrate: ${line}`),
  });
  console.log(
    markdownTable(
      ['document', 'MB', 'data URIs', 'wall s', 'MB/s', 'CLI peak RSS MB', 'MB after'],
      (['small', 'large'] as const).map((name) => {
        const run = migrate?.[name];
        return [
          name,
          String(run?.documentMb),
          String(run?.dataUris),
          String(run?.wallSeconds),
          String(run?.mbPerSecond),
          String(run?.peakRssMb),
          String(run?.bytesAfterMb),
        ];
      }),
    ),
  );
  console.log(
    `\n${migrate.distinctImages} distinct images, one of them a ${migrate.largestDataUriMb} MB data URI. The small run sends and` +
      ' renders every image; the large one finds them all in the library and measures the two streaming passes.' +
      " Peak RSS is the CLI process's VmHWM (Node, tsx, the SDK and sharp included).",
  );
}

let adversarial: Awaited<ReturnType<typeof benchAdversarial>> | undefined;
if (sections.has('adversarial')) {
  console.log('\n## Adversarial inputs: ingest judgement and both render lanes, one fresh process each\n');
  adversarial = await benchAdversarial({
    corpus: !args['no-corpus'],
    threads: sharp.concurrency(),
    log: (line) => console.error(`adversarial: ${line}`),
  });
  console.log(adversarialTable(adversarial));
  console.log(`\n${adversarialSummaryLine(adversarial)}`);
}

let enrichment: Awaited<ReturnType<typeof benchLocalEnrichment>> | undefined;
let vectorSearch: Awaited<ReturnType<typeof benchVectorSearch>> | undefined;
if (sections.has('enrichment')) {
  const iterations = count('enrichment-iterations', args['enrichment-iterations']);
  // The camera photos, or without the corpus the generated ones (nothing there for the tagger to find).
  const images = corpus.length > 0 ? corpus : generated;
  console.log(
    `\n## Local enrichment per image: offline models on a 1024 px analysis JPEG, one fresh process (${iterations} iterations)\n`,
  );
  enrichment = await benchLocalEnrichment({ images, iterations, repoRoot });
  console.log(
    markdownTable(
      [
        'image',
        'analysis px',
        'tag CPU ms',
        'tag wall ms',
        'colours CPU ms',
        'embed CPU ms',
        'tags (before the policy)',
      ],
      enrichment.images.map((r) => [
        r.image,
        `${r.width}x${r.height}`,
        pair(r.tag.cpu),
        pair(r.tag.wall),
        pair(r.colours.cpu),
        pair(r.embed.cpu),
        r.tags.join(', ') || '–',
      ]),
    ),
  );
  console.log(
    `\n${enrichment.modelId}: model load ${enrichment.modelLoadMs} ms; peak RSS of the process ${enrichment.peakRssMb} MB` +
      ` (${enrichment.beforeLoadRssMb} MB before the model: Node, tsx, sharp).`,
  );

  const ownerVectors = count('vectors', args.vectors);
  const search = { ownerVectors, otherOwners: 1000, vectorsPerOtherOwner: 20, queries: 100, topK: 10 };
  console.log(
    `\n## Local vector search (sqlite-vec, exact, cosine): one owner of ${ownerVectors} vectors beside` +
      ` ${search.otherOwners} owners of ${search.vectorsPerOtherOwner}, top ${search.topK}\n`,
  );
  vectorSearch = await benchVectorSearch(search);
  console.log(
    markdownTable(
      ['query for', 'vectors searched', 'wall ms (median / p95)'],
      [
        ['the large owner', String(ownerVectors), pair(vectorSearch.largeOwner)],
        ['a small owner', String(search.vectorsPerOtherOwner), pair(vectorSearch.smallOwner, 2)],
      ],
    ),
  );
  console.log(
    `\n${vectorSearch.dimensions} dimensions (the layout embedder's), ${search.queries} queries each;` +
      ` written in ${vectorSearch.writeSeconds} s (batches of 1,000), file ${vectorSearch.fileMb} MB.`,
  );
}

let search: SearchBenchResult | undefined;
if (sections.has('search')) {
  const options = {
    images: count('search-images', args['search-images']),
    otherOwners: count('search-owners', args['search-owners']),
    imagesPerOtherOwner: 50,
    seedConcurrency: count('search-seed-concurrency', args['search-seed-concurrency']),
    queries: count('search-queries', args['search-queries']),
  };
  console.log(
    `\n## Search on DynamoDB Local: one owner of ${options.images} images beside ${options.otherOwners} other owners of` +
      ` ${options.imagesPerOtherOwner}, a page of 20 (${options.queries} runs each)\n`,
  );
  search = await benchSearch({ ...options, settings, log: (line) => console.error(`search: ${line}`) });
  console.log(searchTable(search));
  console.log(searchSummary(search));
}

let heic: HeicResult[] | undefined;
if (sections.has('heic')) {
  console.log(
    '\n## HEIC: the container judged, HEVC decoded (libheif in WebAssembly), the default set rendered\n',
  );
  heic = await benchHeic({ corpusDir: CORPUS_DIR, repoRoot, maxInputPixels: settings.maxInputPixels });
  if (heic.length === 0)
    console.log('No corpus here: no HEIC to measure (nothing on this machine encodes HEVC).');
  else {
    console.log(
      markdownTable(
        [
          'input',
          'size',
          'container µs',
          'decode CPU ms first / next',
          'JPEG q90 decode ms',
          '× JPEG',
          'decode peak RSS MB',
          'default set CPU ms',
          'from JPEG ms',
          'render peak RSS MB',
        ],
        heic.map((r) => [
          r.name,
          `${r.width}x${r.height}, ${(r.bytes / 1e6).toFixed(1)} MB`,
          (r.containerMs * 1000).toFixed(0),
          `${ms(r.coldDecodeMs)} / ${ms(r.warmDecodeMs)}`,
          ms(r.jpegDecodeMs),
          `${(r.warmDecodeMs / r.jpegDecodeMs).toFixed(1)}×`,
          String(r.decodePeakRssMb),
          ms(r.renderMs),
          ms(r.jpegRenderMs),
          String(r.renderPeakRssMb),
        ]),
      ),
    );
    console.log(
      '\nOne process per input; "first" includes compiling libheif (a Lambda instance pays it once). The render decodes again, from its own bytes.',
    );
  }
}

let importPriority: ImportPriorityResult | undefined;
if (sections.has('import-priority')) {
  const options = {
    imports: count('priority-imports', args['priority-imports']),
    uploads: count('priority-uploads', args['priority-uploads']),
    uploadIntervalMs: count('priority-interval-ms', args['priority-interval-ms']),
  };
  console.log(
    `\n## App uploads' first thumbnail while a library of ${options.imports} is imported, on the local runtime:` +
      ` no import, the import's render jobs on the bulk queue, the same on the app lanes\n`,
  );
  importPriority = await benchImportPriority({
    ...options,
    repoRoot,
    log: (line) => console.error(`import-priority: ${line}`),
  });
  console.log(
    markdownTable(
      [
        'import',
        'first thumbnail wall ms',
        '× idle (median / p95)',
        'library judged',
        'library ready',
        'arm s',
        'load average',
      ],
      importPriority.arms.map((r) => [
        r.arm,
        pair(r.toFirstThumbnail),
        `${r.versusIdle.median.toFixed(2)}× / ${r.versusIdle.p95.toFixed(2)}×`,
        r.arm === 'idle' ? '–' : String(r.libraryJudged),
        r.arm === 'idle' ? '–' : String(r.libraryReady),
        String(r.seconds),
        String(r.loadAverage),
      ]),
    ),
  );
  const { library, photo } = importPriority;
  console.log(
    `\nLibrary: ${library.images} ${library.source} originals (${library.mb} MB; copies of ${library.originals.join(', ')}),` +
      ` imported in batches of ${library.batchSize} one after another. App: ${importPriority.uploads} photo-like ${photo.width}x${photo.height}` +
      ` JPEGs, one every ${importPriority.uploadIntervalMs} ms from when the import's first batch was judged; each timed` +
      ` from its S3 upload done to \`thumb\` ready. ${importPriority.workersPerLane} render invocations at once per app lane,` +
      ` ${importPriority.bulkWorkers} on the bulk queue. Library judged / ready: when the last app thumbnail was ready.` +
      ' Load average: 1-minute, then, of the whole (shared) machine.',
  );
}

const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const seconds = Math.round((performance.now() - started) / 1000);
console.log(`\nPeak RSS ${peakRssMb} MB; ${seconds} s in all.`);

const results = {
  date: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    sharpConcurrency: sharp.concurrency(),
    sharpCache: false,
  },
  iterations: { ingest: ingestIterations, render: renderIterations },
  units: { ms: 'milliseconds', mb: '1,000,000 bytes', p95: 'nearest rank', ratios: 'of median CPU times' },
  ...(sections.has('ingest') ? { ingest } : {}),
  ...(render ? { render, renderCompare: compare, renderComparePhotos: comparePhotos } : {}),
  ...(sweep ? { renderSweep: sweep, renderThreading: threading } : {}),
  ...(latency ? { latency } : {}),
  ...(bulk ? { bulk } : {}),
  ...(migrate ? { migrate } : {}),
  ...(adversarial ? { adversarial } : {}),
  ...(enrichment ? { enrichment, vectorSearch } : {}),
  ...(search ? { search } : {}),
  ...(heic ? { heic } : {}),
  ...(importPriority ? { importPriority } : {}),
  peakRssMb,
  seconds,
};
const output = fileURLToPath(new URL('results.json', import.meta.url));
// A run of some sections keeps the others' last results.
const previous: object = existsSync(output) ? JSON.parse(await readFile(output, 'utf8')) : {};
await writeFile(output, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
console.log(`Results written to ${output.slice(repoRoot.length)}`);
