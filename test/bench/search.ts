import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { holderToItem, imageToItem, linkToItem } from '../../lambdas/adapters/aws/catalog-items.js';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { DynamoOwnerIndex } from '../../lambdas/adapters/aws/dynamo-owner-index.js';
import { DynamoTable } from '../../lambdas/adapters/aws/dynamo-table.js';
import type { DominantColour, Tag } from '../../lambdas/core/enrichment.js';
import { indexTerm, indexTerms } from '../../lambdas/core/index-terms.js';
import { PALETTE, type PaletteColour } from '../../lambdas/core/palette.js';
import type { Settings } from '../../lambdas/core/settings.js';
import type { ImageLink, ImageRecord } from '../../lambdas/ports/catalog.js';
import {
  MAX_CANDIDATES_PER_SEARCH,
  type SearchDependencies,
  type SearchQuery,
  searchImages,
} from '../../lambdas/services/search-images.js';
import { TemplateCaptioner } from '../../local/enrichment/template-captioner.js';
import { startTwin, twinEnvironment } from '../../local/twin/index.js';
import { imageRecord } from '../support/catalog-records.js';
import { seededRandom } from './images.js';
import { interleave, markdownTable, ms, type Summary, summarise } from './stats.js';

/** Tags in the vocabulary, drawn by Zipf's law (weight 1/rank): a few on most images, most on few. */
const TAG_VOCABULARY = 500;
/** Images in one BatchWriteItem of records: an image, its link and its holder each (25 writes at most). */
const IMAGES_PER_RECORD_BATCH = 8;
/** The page every search asks for: the API's default. */
const PAGE = 20;
/** The page whose latency shows what following a cursor costs. */
const DEEP_PAGE = 5;

/** How often the colours come up as an image's dominant ones: neutrals, blue and green before purple. */
const COLOUR_WEIGHTS: Record<PaletteColour, number> = {
  grey: 16,
  black: 12,
  white: 12,
  blue: 14,
  green: 12,
  brown: 10,
  teal: 4,
  yellow: 5,
  orange: 5,
  red: 5,
  pink: 3,
  purple: 2,
};

export interface SearchBenchOptions {
  settings: Settings;
  /** The large owner's library. */
  images: number;
  /** Owners of a small library each beside it; the first is the small owner measured. */
  otherOwners: number;
  imagesPerOtherOwner: number;
  /** BatchWriteItem chunks (of `IMAGES_PER_RECORD_BATCH` images) written at once while seeding. */
  seedConcurrency: number;
  /** Timed runs of each search. */
  queries: number;
  log: (line: string) => void;
}

/** DynamoDB requests of one search, and the index entries its queries returned. */
export interface SearchRequests {
  query: number;
  getItem: number;
  candidates: number;
}

export interface SearchCaseResult {
  name: string;
  /** The query string of `GET /v1/search` that asks this. */
  query: string;
  /** The owner's entries under the term walked, and the owner's images meeting every criterion. */
  walkedEntries: number;
  matching: number;
  /** Hits on the page, and whether it came with a cursor. */
  hits: number;
  cursor: boolean;
  requests: SearchRequests;
  /** Wall ms of one `searchImages` call against DynamoDB Local. */
  wall: Summary;
}

export interface SearchOwnerResult {
  label: string;
  images: number;
  cases: SearchCaseResult[];
}

export interface SearchBenchResult {
  tagVocabulary: number;
  /** Images (with a link and a holder each) and index entries written, all owners. */
  seeded: { images: number; entries: number; items: number; requests: number };
  seedSeconds: number;
  otherOwners: number;
  imagesPerOtherOwner: number;
  queries: number;
  page: number;
  maxCandidates: number;
  /** Wall ms of one strongly consistent GetItem on DynamoDB Local: the unit the searches are made of. */
  getItem: Summary;
  owners: SearchOwnerResult[];
}

/** The tag of each Zipf rank: a made-up word of two syllables, unique, never a stop word. */
function tagName(rank: number): string {
  const syllables = [...'bdfgklmnprstvz'].flatMap((consonant) => [...'aeiou'].map((v) => consonant + v));
  const at = (index: number) => syllables[(index * 37) % syllables.length] ?? '';
  return at(rank % syllables.length) + at(Math.floor(rank / syllables.length) + 11);
}

/** Draws one of `weights`' indices, each as likely as its weight. */
function weightedDraw(weights: readonly number[]): (random: () => number) => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const weight of weights) {
    total += weight;
    cumulative.push(total);
  }
  return (random) => {
    const target = random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] ?? 0) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}

const TAGS = Array.from({ length: TAG_VOCABULARY }, (_, rank) => tagName(rank));
const drawTag = weightedDraw(TAGS.map((_, rank) => 1 / (rank + 1)));
const COLOURS = Object.keys(COLOUR_WEIGHTS) as PaletteColour[];
const drawColour = weightedDraw(COLOURS.map((name) => COLOUR_WEIGHTS[name]));
const captioner = new TemplateCaptioner();
const hex = (name: PaletteColour) =>
  `#${PALETTE[name].map((channel) => channel.toString(16).padStart(2, '0')).join('')}`;

/** `count` distinct draws. */
function distinct(count: number, draw: () => number): number[] {
  const drawn = new Set<number>();
  while (drawn.size < count) drawn.add(draw());
  return [...drawn];
}

interface SeedImage {
  record: ImageRecord;
  link: ImageLink;
  terms: string[];
}

/**
 * The owner's `index`th image, the same on every run: 5–10 tags, a template caption (as the local
 * runtime writes one), 1–3 dominant colours, enriched as the lane would record it.
 */
async function seedImage(settings: Settings, owner: string, index: number): Promise<SeedImage> {
  const imageId = createHash('sha256').update(`search-bench/${owner}/${index}`).digest('hex');
  const random = seededRandom(Number.parseInt(imageId.slice(0, 8), 16));
  const tags: Tag[] = distinct(5 + Math.floor(random() * 6), () => drawTag(random)).map((rank, i) => ({
    name: TAGS[rank] ?? '',
    confidence: Math.round((0.95 - 0.04 * i - 0.03 * random()) * 1000) / 1000,
  }));
  const shares = [0.3 + 0.4 * random(), 0.1 + 0.25 * random(), 0.05 + 0.15 * random()];
  const colours: DominantColour[] = distinct(1 + Math.floor(random() * 3), () => drawColour(random)).map(
    (colour, i) => {
      const name = COLOURS[colour] as PaletteColour;
      return { name, hex: hex(name), share: Math.round((shares[i] ?? 0) * 1000) / 1000 };
    },
  );
  const linkedAt = new Date(Date.UTC(2024, 0, 1) + index * 60_000);
  const record = imageRecord(imageId, settings, {
    createdAt: linkedAt,
    enrichment: {
      status: 'done',
      version: 'search-bench',
      enrichedAt: linkedAt,
      tags,
      caption: await captioner.caption(Buffer.alloc(0), tags),
      colours,
    },
  });
  const link: ImageLink = {
    owner,
    imageId,
    uploadId: imageId.slice(0, 32),
    collection: undefined,
    filename: `IMG_${String(index).padStart(6, '0')}.jpg`,
    linkedAt,
  };
  return { record, link, terms: indexTerms(record) };
}

interface Library {
  label: string;
  owner: string;
  images: number;
}

/**
 * Writes every library's images, links, holders and index entries straight through the adapters, in
 * BatchWriteItem requests, `concurrency` chunks at once: what ingest and enrichment would leave in
 * the table, without the hours they would take for 100k images.
 */
async function seed(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  settings: Settings,
  libraries: readonly Library[],
  concurrency: number,
  log: (line: string) => void,
): Promise<{ entries: number; items: number }> {
  const table = new DynamoTable(dynamo, tableName);
  const ownerIndex = new DynamoOwnerIndex(dynamo, tableName);
  const chunks = libraries.flatMap((library) =>
    Array.from({ length: Math.ceil(library.images / IMAGES_PER_RECORD_BATCH) }, (_, chunk) => {
      const from = chunk * IMAGES_PER_RECORD_BATCH;
      return { owner: library.owner, from, to: Math.min(library.images, from + IMAGES_PER_RECORD_BATCH) };
    }),
  );
  const total = libraries.reduce((sum, library) => sum + library.images, 0);
  let next = 0;
  let written = 0;
  let entries = 0;
  const writer = async () => {
    for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) {
      const { owner, from, to } = chunk;
      const images = await Promise.all(
        Array.from({ length: to - from }, (_, i) => seedImage(settings, owner, from + i)),
      );
      await Promise.all([
        table.batchWrite(
          'seed records',
          { owner },
          images.flatMap(({ record, link }) => [
            { put: imageToItem(record) },
            { put: linkToItem(link) },
            { put: holderToItem(link) },
          ]),
        ),
        ...images.map(({ link, terms }) => ownerIndex.put(owner, link.imageId, terms)),
      ]);
      for (const image of images) entries += image.terms.length;
      const before = written;
      written += images.length;
      if (Math.floor(written / 20_000) > Math.floor(before / 20_000))
        log(`seeded ${written} / ${total} images`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
  return { entries, items: entries + 3 * total };
}

/** Counts the requests a client sends by command (each call, before retries), and the entries its queries return. */
function countRequests(dynamo: DynamoDBDocumentClient): {
  take(): { sent: Map<string, number>; queried: number };
} {
  let sent = new Map<string, number>();
  let queried = 0;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      sent.set(name, (sent.get(name) ?? 0) + 1);
      const result = await next(args);
      queried += Number((result.output as { Count?: number }).Count ?? 0);
      return result;
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return {
    take() {
      const taken = { sent, queried };
      sent = new Map();
      queried = 0;
      return taken;
    },
  };
}

interface SearchCase {
  name: string;
  query: Omit<SearchQuery, 'limit'>;
  /** The term `searchImages` walks (the first of tags, words, colour), and every term required. */
  walked: string;
  required: string[];
}

const queryString = (query: SearchCase['query']): string =>
  [
    query.tags.length > 0 ? `tag=${query.tags.join(',')}` : '',
    query.text ? `q=${query.text}` : '',
    query.colour ? `colour=${query.colour}` : '',
    query.cursor ? `cursor=(page ${DEEP_PAGE})` : '',
  ]
    .filter(Boolean)
    .join('&');

/**
 * The searches measured for one owner, picked from what the owner's library holds: its most and least
 * common tags alone and together (in both orders: the first tag is the one walked), a word alone and
 * after `photo` (every template caption's word), a colour, and the common tag's fifth page.
 */
function searchCases(tally: ReadonlyMap<string, number>): SearchCase[] {
  const byCount = (prefix: string) =>
    [...tally]
      .filter(([term]) => term.startsWith(prefix))
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([term]) => term.slice(prefix.length));
  const tags = byCount(indexTerm.tag(''));
  const common = tags[0] ?? '';
  const rare = tags.at(-1) ?? '';
  // The tenth most common tag's name: tag names are one word each, and every caption word is a tag's.
  const word = tags[Math.min(9, tags.length - 1)] ?? '';
  const colour = (byCount(indexTerm.colour(''))[0] ?? 'grey') as PaletteColour;
  const tagCase = (name: string, names: string[]): SearchCase => ({
    name,
    query: { tags: names },
    walked: indexTerm.tag(names[0] ?? ''),
    required: names.map(indexTerm.tag),
  });
  const wordCase = (name: string, words: string[]): SearchCase => ({
    name,
    query: { tags: [], text: words.join(' ') },
    walked: indexTerm.word(words[0] ?? ''),
    required: words.map(indexTerm.word),
  });
  return [
    tagCase('common tag', [common]),
    tagCase('rare tag', [rare]),
    tagCase('common + rare tag', [common, rare]),
    tagCase('rare + common tag', [rare, common]),
    wordCase('word', [word]),
    wordCase('`photo` + rare word', ['photo', rare]),
    {
      name: 'colour',
      query: { tags: [], colour },
      walked: indexTerm.colour(colour),
      required: [indexTerm.colour(colour)],
    },
    tagCase(`common tag, page ${DEEP_PAGE}`, [common]),
  ];
}

/** The owner's images filed under each term, and how many meet each case's terms together. */
async function tallyTerms(
  settings: Settings,
  library: Library,
  cases?: readonly SearchCase[],
): Promise<{ tally: Map<string, number>; matching: number[] }> {
  const tally = new Map<string, number>();
  const matching = (cases ?? []).map(() => 0);
  for (let index = 0; index < library.images; index++) {
    const { terms } = await seedImage(settings, library.owner, index);
    for (const term of terms) tally.set(term, (tally.get(term) ?? 0) + 1);
    const filed = new Set(terms);
    cases?.forEach((searchCase, i) => {
      if (searchCase.required.every((term) => filed.has(term))) matching[i] = (matching[i] ?? 0) + 1;
    });
  }
  return { tally, matching };
}

/**
 * Search latency over a large library on DynamoDB Local: one owner of `images` images (100,000 by
 * default) beside many owners of a few dozen, seeded straight into the twin's catalog table, then the
 * real `searchImages` timed for a few kinds of query, for the large owner and for a small one, with
 * the DynamoDB requests each search sends.
 */
export async function benchSearch(options: SearchBenchOptions): Promise<SearchBenchResult> {
  const { settings, log } = options;
  const twin = await startTwin();
  const seeding = createAwsClients(twinEnvironment(twin));
  const searching = createAwsClients(twinEnvironment(twin));
  try {
    const large: Library = { label: 'large', owner: 'search-bench-large', images: options.images };
    const others: Library[] = Array.from({ length: options.otherOwners }, (_, i) => ({
      label: 'small',
      owner: `search-bench-${i}`,
      images: options.imagesPerOtherOwner,
    }));
    // The first of them stands for them all: each is a partition of its own, as is the large owner.
    const small = others[0];
    const libraries = [large, ...others];
    const images = libraries.reduce((sum, library) => sum + library.images, 0);

    log(`seeding ${images} images, ${options.seedConcurrency} chunks of ${IMAGES_PER_RECORD_BATCH} at once`);
    const seedRequests = countRequests(seeding.dynamo);
    const started = performance.now();
    const written = await seed(
      seeding.dynamo,
      twin.resources.table,
      settings,
      libraries,
      options.seedConcurrency,
      log,
    );
    const seedSeconds = Math.round((performance.now() - started) / 100) / 10;
    const batches = seedRequests.take().sent.get('BatchWriteItemCommand') ?? 0;
    log(`seeded ${written.items} items in ${seedSeconds} s, ${batches} BatchWriteItem requests`);

    const counter = countRequests(searching.dynamo);
    const deps: SearchDependencies = {
      catalog: new DynamoCatalog(searching.dynamo, twin.resources.table),
      ownerIndex: new DynamoOwnerIndex(searching.dynamo, twin.resources.table),
    };
    const probe = await seedImage(settings, large.owner, 0);
    const getItem = summarise(
      (
        await interleave(options.queries, {
          getItem: () => deps.catalog.findLink(large.owner, probe.link.imageId),
        })
      ).wall.getItem,
    );
    counter.take();

    const owners: SearchOwnerResult[] = [];
    for (const library of small ? [large, small] : [large]) {
      const { tally } = await tallyTerms(settings, library);
      const cases = searchCases(tally);
      const deep = cases.at(-1) as SearchCase;
      const deepCursor = await cursorTo(deps, library.owner, deep.query);
      // A library too small for that many pages has no deep page to time.
      if (deepCursor === undefined) cases.pop();
      else deep.query = { ...deep.query, cursor: deepCursor };
      const { matching } = await tallyTerms(settings, library, cases);
      const search = (searchCase: SearchCase) => () =>
        searchImages(deps, library.owner, { ...searchCase.query, limit: PAGE });
      counter.take();
      const counted: Array<Pick<SearchCaseResult, 'hits' | 'cursor' | 'requests'>> = [];
      for (const searchCase of cases) {
        const { hits, cursor } = await search(searchCase)();
        const { sent, queried } = counter.take();
        const requests = {
          query: sent.get('QueryCommand') ?? 0,
          getItem: sent.get('GetItemCommand') ?? 0,
          candidates: queried,
        };
        counted.push({ hits: hits.length, cursor: cursor !== undefined, requests });
      }
      log(`timing ${cases.length} searches for the ${library.label} owner, ${options.queries} runs each`);
      const samples = await interleave(
        options.queries,
        Object.fromEntries(cases.map((searchCase) => [searchCase.name, search(searchCase)])),
      );
      counter.take();
      owners.push({
        label: library.label,
        images: library.images,
        cases: cases.map((searchCase, i) => ({
          name: searchCase.name,
          query: queryString(searchCase.query),
          walkedEntries: tally.get(searchCase.walked) ?? 0,
          matching: matching[i] ?? 0,
          ...(counted[i] as (typeof counted)[number]),
          wall: summarise(samples.wall[searchCase.name] ?? []),
        })),
      });
    }
    return {
      tagVocabulary: TAG_VOCABULARY,
      seeded: { images, ...written, requests: batches },
      seedSeconds,
      otherOwners: options.otherOwners,
      imagesPerOtherOwner: options.imagesPerOtherOwner,
      queries: options.queries,
      page: PAGE,
      maxCandidates: MAX_CANDIDATES_PER_SEARCH,
      getItem,
      owners,
    };
  } finally {
    for (const clients of [seeding, searching]) clients.dynamo.destroy();
    await twin.stop();
  }
}

/** The cursor of the `DEEP_PAGE`th page, followed from the first as a client would. */
async function cursorTo(
  deps: SearchDependencies,
  owner: string,
  query: SearchCase['query'],
): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let page = 1; page < DEEP_PAGE; page++) {
    cursor = (await searchImages(deps, owner, { ...query, cursor, limit: PAGE })).cursor;
    if (cursor === undefined) break;
  }
  return cursor;
}

/** The large and the small owner's searches side by side, one row a kind of search. */
export function searchTable(result: SearchBenchResult): string {
  const [large, small] = result.owners;
  const columns = (owner: SearchOwnerResult | undefined, name: string): string[] => {
    const found = owner?.cases.find((searchCase) => searchCase.name === name);
    if (!found) return ['–', '–', '–', '–'];
    const { requests, wall } = found;
    return [
      `${found.walkedEntries.toLocaleString('en')} / ${found.matching.toLocaleString('en')}`,
      `${found.hits}${found.cursor ? ' +cursor' : ''}`,
      `${requests.query} + ${requests.getItem} (${requests.candidates})`,
      `${ms(wall.medianMs)} / ${ms(wall.p95Ms)}`,
    ];
  };
  const header = (owner: SearchOwnerResult | undefined) => {
    const who = `${owner?.label ?? ''} (${owner?.images.toLocaleString('en') ?? 0})`;
    return [`${who} walked / matching`, 'hits', 'Query + GetItem (candidates)', 'wall ms'];
  };
  return markdownTable(
    ['search', ...header(large), ...header(small)],
    (large?.cases ?? []).map((searchCase) => [
      `${searchCase.name}: \`${searchCase.query}\``,
      ...columns(large, searchCase.name),
      ...columns(small, searchCase.name),
    ]),
  );
}

export function searchSummary(result: SearchBenchResult): string {
  const { seeded } = result;
  return (
    `\nWalked: the owner's entries under the term walked (the first tag, else the first word, else the colour);` +
    ` matching: the owner's images meeting every term. Wall ms median / p95 of one \`searchImages\` call;` +
    ` a search checks at most ${result.maxCandidates} candidates, two GetItems each.` +
    ` One GetItem on DynamoDB Local: ${ms(result.getItem.medianMs)} / ${ms(result.getItem.p95Ms)} ms.` +
    `\nSeeded ${seeded.images.toLocaleString('en')} images (image, link and holder items) and` +
    ` ${seeded.entries.toLocaleString('en')} index entries, ${seeded.items.toLocaleString('en')} items in` +
    ` ${seeded.requests.toLocaleString('en')} BatchWriteItem requests, in ${result.seedSeconds} s` +
    ` (${Math.round(seeded.items / result.seedSeconds).toLocaleString('en')} items/s); ${result.tagVocabulary} tags.`
  );
}
