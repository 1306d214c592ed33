import { parseSettings, type Settings } from '../../lambdas/core/settings.js';
import { parsePositiveInteger } from '../arguments.js';
import type { OfflineCommand, OptionValues } from '../command.js';
import { count, table } from '../format.js';
import { UsageError } from '../usage-error.js';
import {
  type CostEstimate,
  type CostedSettings,
  type CostSection,
  type CostSectionName,
  costedDeployment,
  type Deployment,
  decimalBytes,
  estimateCost,
  LATENCY_GOALS_MS,
  type LaneSizing,
  type LineItem,
  ORIGINAL_BYTES_PER_MEGAPIXEL,
} from './cost-model.js';

const DEFAULT_VIEWS = 10;
const DEFAULT_MONTHS = 12;

export const costCommand: OfflineCommand = {
  target: 'offline',
  summary: 'estimate what ingesting, storing and serving images costs on AWS, line by line',
  usage: `  --images N              images ingested, each new (required; 1000000 or 1e6)
  --avg-mp M              their average size in megapixels (required)
  --views V               views of each image a month (default ${DEFAULT_VIEWS}); a view is one variant
  --months K              months the images are kept and viewed (default ${DEFAULT_MONTHS})
  --original-mb MB        an original's average size (default ${decimalBytes(ORIGINAL_BYTES_PER_MEGAPIXEL)} per megapixel)
  --view-kb KB            bytes a view sends (default: one variant, each as likely, in the format
                          the CDN prefers)
  --settings FILE         the pipeline's settings as JSON (default: the defaults): the variant set
                          decides the derivatives and the render work, \`enrichment\` and
                          \`nearDuplicates\` what is derived from every image
  --enrichment            bill the enrichment lane as if the settings enabled it (with their
                          captions, embeddings and moderation choices)
  --links-per-image L     owners linking each image (default 1): each link gets its own search
                          entries and vector
  --searches S            searches a month over all the images (default 0), priced apart
  Prices are us-east-1 list prices (see docs/cost.md); every assumption is printed with the estimate.`,
  options: {
    images: { type: 'string' },
    'avg-mp': { type: 'string' },
    views: { type: 'string' },
    months: { type: 'string' },
    'original-mb': { type: 'string' },
    'view-kb': { type: 'string' },
    settings: { type: 'string' },
    enrichment: { type: 'boolean', default: false },
    'links-per-image': { type: 'string' },
    searches: { type: 'string' },
  },
  async run(context, values) {
    const images = parsePositiveInteger(required(values, 'images'), '--images');
    const read =
      typeof values.settings === 'string'
        ? await readSettings(values.settings, context.readFile)
        : parseSettings();
    const settings = values.enrichment
      ? { ...read, enrichment: { ...read.enrichment, enabled: true } }
      : read;
    const megapixels = parseAmount(required(values, 'avg-mp'), '--avg-mp', true);
    const maxMegapixels = settings.maxInputPixels / 1e6;
    if (megapixels > maxMegapixels) {
      throw new UsageError(`--avg-mp ${megapixels} is over the settings' pixel limit (${maxMegapixels} MP)`);
    }
    const originalMb = optionalAmount(values, 'original-mb', true);
    const viewKb = optionalAmount(values, 'view-kb', false);
    const links = values['links-per-image'];
    const searches = values.searches;
    const deployment = costedDeployment(settings);
    const estimate = estimateCost(
      {
        images,
        megapixels,
        viewsPerImagePerMonth: optionalAmount(values, 'views', false) ?? DEFAULT_VIEWS,
        months: optionalAmount(values, 'months', false) ?? DEFAULT_MONTHS,
        ...(originalMb === undefined ? {} : { originalBytes: Math.round(originalMb * 1e6) }),
        ...(viewKb === undefined ? {} : { bytesPerView: viewKb * 1000 }),
        ...(typeof links === 'string'
          ? { linksPerImage: parsePositiveInteger(links, '--links-per-image') }
          : {}),
        ...(typeof searches === 'string' ? { searchesPerMonth: parseSearches(searches) } : {}),
      },
      deployment,
    );
    return { text: describeEstimate(estimate, deployment), json: estimate };
  },
};

function required(values: OptionValues, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string') throw new UsageError(`cost needs --${flag}`);
  return value;
}

/** `text` as a number over 0 (`positive`), or of 0 or more. */
function parseAmount(text: string, flag: string, positive: boolean): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!(Number.isFinite(value) && (positive ? value > 0 : value >= 0))) {
    throw new UsageError(`${flag} takes a number ${positive ? 'over 0' : 'of 0 or more'}, not "${text}"`);
  }
  return value;
}

/** An optional flag's number; undefined when the flag is not given. */
function optionalAmount(values: OptionValues, flag: string, positive: boolean): number | undefined {
  const text = values[flag];
  return typeof text === 'string' ? parseAmount(text, `--${flag}`, positive) : undefined;
}

/** A whole number of searches, 0 or more (`1e6` as well as `1000000`). */
function parseSearches(text: string): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!(Number.isInteger(value) && value >= 0))
    throw new UsageError(`--searches takes a whole number of 0 or more, not "${text}"`);
  return value;
}

async function readSettings(path: string, readFile: (path: string) => Promise<string>): Promise<Settings> {
  try {
    return parseSettings(JSON.parse(await readFile(path)));
  } catch (error) {
    throw new UsageError(`--settings ${path}: ${(error as Error).message}`);
  }
}

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const unitPrices = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 10 });

/** `$1,234.57`; amounts under a cent with two significant digits (`$0.0042`), so none reads as nothing. */
function usd(value: number): string {
  return value > 0 && value < 0.005 ? `$${Number(value.toPrecision(2))}` : dollars.format(value);
}

/** `12,000,000`, `430`, `7.5`, `0.42`: whole above 100, as precise as helps below. */
function amount(value: number): string {
  if (value >= 100 || Number.isInteger(value)) return count(Math.round(value));
  return value >= 1 ? value.toFixed(1) : String(Number(value.toPrecision(2)));
}

function unitPrice(item: LineItem): string {
  const per = item.per === 1 ? '' : item.per === 1_000_000 ? '1M ' : `${count(item.per)} `;
  return `$${unitPrices.format(item.unitPrice)} / ${per}${item.unit}`;
}

function sectionRows(section: CostSection): string[][] {
  return [
    [`${section.title}, ${section.period === 'once' ? 'once' : 'a month'}`, 'quantity', 'unit price', 'cost'],
    ...section.items.map((item) => [
      `  ${item.item}`,
      `${amount(item.quantity)} ${item.unit}`,
      unitPrice(item),
      usd(item.cost),
    ]),
    ['  total', '', '', usd(section.total)],
    [],
  ];
}

/** The sections in the order they are printed; a section with no lines is left out. */
const PRINTED: readonly CostSectionName[] = [
  'ingest',
  'enrichment',
  'storage',
  'enrichmentStorage',
  'delivery',
  'search',
];

function describeEstimate(estimate: CostEstimate, deployment: Deployment): string {
  const { settings } = deployment;
  const { workload, perImage, sections, totals, perMillionImages: million } = estimate;
  const { original } = perImage;
  const views = `${count(workload.viewsPerImagePerMonth)} view${workload.viewsPerImagePerMonth === 1 ? '' : 's'}`;
  const printed = PRINTED.filter((name) => sections[name].items.length > 0);
  const { enrichment, storage, enrichmentStorage, delivery, search } = sections;
  const derived = enrichment.items.length > 0;
  return [
    `${count(workload.images)} images of ${workload.megapixels} MP (${original.width}×${original.height}, ${decimalBytes(original.bytes)}), ` +
      `each rendered to ${perImage.derivatives.length} derivatives (${decimalBytes(perImage.derivativeBytes)});`,
    `${views} of each a month (${decimalBytes(workload.bytesPerView)} a view), kept ${count(workload.months)} months` +
      (search.items.length > 0 ? `; ${count(workload.searchesPerMonth)} searches a month.` : '.'),
    derivedFromImages(settings),
    `Prices: ${estimate.prices.region} list prices of ${estimate.prices.takenOn} (enrichment's: ${estimate.prices.enrichmentTakenOn}); check them against aws.amazon.com/pricing.`,
    '',
    table(
      printed.flatMap((name) => sectionRows(sections[name])),
      '',
    ),
    table([
      ['', 'total', 'per million images'],
      ['once: ingest and render', usd(sections.ingest.total), usd(million.ingestOnce)],
      ...(derived
        ? [[`once: ${lowerFirst(enrichment.title)}`, usd(enrichment.total), usd(million.enrichmentOnce)]]
        : []),
      ['a month: storage', usd(storage.total), usd(million.storagePerMonth)],
      ...(derived
        ? [
            [
              `a month: ${lowerFirst(enrichmentStorage.title)}`,
              usd(enrichmentStorage.total),
              usd(million.enrichmentStoragePerMonth),
            ],
          ]
        : []),
      ['a month: delivery', usd(delivery.total), usd(million.deliveryPerMonth)],
      [`over ${count(workload.months)} months`, usd(totals.overMonths), usd(million.overMonths)],
      ...(search.items.length > 0 ? [['a month: search, apart', usd(search.total), '']] : []),
    ]),
    ...(derived
      ? [
          '',
          `${enrichment.title}: ${usd(million.enrichmentOnce / 1000)} per 1,000 images once, ` +
            `${usd(million.enrichmentStoragePerMonth / 1000)} per 1,000 images a month.`,
        ]
      : []),
    '',
    laneSizing(perImage.laneSizing, deployment),
    '',
    'Assumptions:',
    ...estimate.assumptions.map(bullet),
    '',
    'Left out:',
    ...estimate.excluded.map(bullet),
  ].join('\n');
}

/**
 * Each render lane's job at each memory size: its billed time, the latency it gives against issue 17's
 * goal, what it costs per 1,000 images; the model's choice and the deployment's size marked.
 */
function laneSizing(sizings: readonly LaneSizing[], { memoryMb }: Deployment): string {
  const goals = `first thumbnail < ${seconds(LATENCY_GOALS_MS.firstThumbnail)}, ready < ${seconds(LATENCY_GOALS_MS.ready)}`;
  return [
    `Render lanes by memory size (goals, p50 at 12 MP: ${goals}; * the cheapest that meets it, or the fastest; = deployed):`,
    table(
      sizings.flatMap(({ lane, goal, cpuMs, sizes, chosenMb }) => [
        [`${lane} (${count(Math.round(cpuMs))} ms CPU)`, 'job', goal, 'GB-s', 'per 1,000 images'],
        ...sizes.map((size) => [
          `  ${size.memoryMb} MB${size.memoryMb === chosenMb ? ' *' : ''}${size.memoryMb === memoryMb[lane] ? ' =' : ''}${size.holdsOriginals ? '' : ' (too small for the largest originals)'}`,
          seconds(size.jobMs),
          `${seconds(size.latencyMs)}${size.meetsGoal ? '' : ' (missed)'}`,
          size.gbSeconds.toFixed(2),
          `$${size.usdPerThousand.toFixed(4)}`,
        ]),
      ]),
    ),
  ].join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const WRAP_AT = 100;

/** `  - text`, wrapped at word boundaries with the continuation lines under the text. */
function bullet(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > WRAP_AT - 4) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((text, i) => `${i === 0 ? '  - ' : '    '}${text}`).join('\n');
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/** What the settings derive from every image beyond its derivatives, in a line. */
function derivedFromImages({ enrichment, nearDuplicates }: CostedSettings): string {
  const capabilities = [
    'tags, colours',
    enrichment.captions.enabled && 'captions',
    enrichment.embeddings.enabled && `${enrichment.embeddings.dimensions}-d embeddings`,
    enrichment.moderation.enabled && 'moderation',
  ].filter(Boolean);
  const lane = enrichment.enabled ? `Enrichment: ${capabilities.join(', ')}` : 'Enrichment: off';
  return `${lane}; near-duplicates: ${nearDuplicates ? 'on' : 'off'}.`;
}
