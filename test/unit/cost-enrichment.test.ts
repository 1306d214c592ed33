import { describe, expect, it } from 'vitest';
import {
  ASSUMED,
  type CostEstimate,
  costedDeployment,
  estimateCost,
  PRICES,
  type PriceTable,
  S3_VECTORS_FIRST_TIER,
  type Workload,
} from '../../cli/commands/cost-model.js';
import { ENRICHMENT_MEMORY_MB, RENDER_MEMORY_MB } from '../../lambdas/contract.js';
import { ANALYSIS_MAX_EDGE } from '../../lambdas/core/enrichment.js';
import { indexTerms, MIN_SEARCHABLE_COLOUR_SHARE } from '../../lambdas/core/index-terms.js';
import { parseSettings, type SettingsInput } from '../../lambdas/core/settings.js';

const TB = 1024 ** 4;
const GB = 1024 ** 3;
const workload = (fields: Partial<Workload> = {}): Workload => ({
  images: 1000,
  megapixels: 12,
  viewsPerImagePerMonth: 10,
  months: 12,
  ...fields,
});
const on = (enrichment: NonNullable<SettingsInput['enrichment']> = {}, rest: SettingsInput = {}) =>
  costedDeployment(parseSettings({ ...rest, enrichment: { enabled: true, ...enrichment } }));
const estimate = (deployment = on(), fields: Partial<Workload> = {}) =>
  estimateCost(workload(fields), deployment);
const lines = (estimate: CostEstimate) =>
  Object.values(estimate.sections).flatMap((section) => section.items);
const find = (estimate: CostEstimate, name: string) =>
  lines(estimate).find((line) => line.item.startsWith(name));
const item = (estimate: CostEstimate, name: string) => {
  const found = find(estimate, name);
  if (!found) throw new Error(`no line ${name}`);
  return found;
};
/** What `quantity` of `price` costs. */
const at = (price: keyof PriceTable, quantity: number) => (quantity / PRICES[price].per) * PRICES[price].usd;
const gbSeconds = (ms: number, memoryMb: number) => (ms / 1000) * (memoryMb / 1024);

describe('cost model: the enrichment lane', () => {
  it('is not billed when enrichment is off (the default), and near-duplicates still are', () => {
    const off = estimate(costedDeployment(parseSettings()));
    const services = new Set(['Rekognition', 'Bedrock', 'S3 Vectors']);
    expect(lines(off).filter((line) => services.has(line.service))).toEqual([]);
    expect(find(off, 'Lambda compute: enrichment')).toBeUndefined();
    expect(find(off, 'S3 Standard: analysis JPEGs')).toBeUndefined();
    expect(off.sections.enrichment.title).toBe('Near-duplicates');
    expect(item(off, 'DynamoDB writes: near-duplicate entries').quantity).toBe(
      1000 * ASSUMED.nearDuplicateBands,
    );

    const bare = estimate(costedDeployment(parseSettings({ nearDuplicates: false })));
    expect(bare.sections.enrichment.items).toEqual([]);
    expect(bare.sections.enrichmentStorage.items).toEqual([]);
    expect(bare.perMillionImages.enrichmentOnce).toBe(0);
  });

  it('bills tags for every image, and only the capabilities the settings enable', () => {
    const tagsOnly = estimate(on({ captions: { enabled: false }, embeddings: { enabled: false } }));
    expect(item(tagsOnly, 'Rekognition DetectLabels').cost).toBeCloseTo(at('rekognitionLabels', 1000), 12);
    for (const name of ['Rekognition DetectModerationLabels', 'Bedrock', 'S3 Vectors'])
      expect(find(tagsOnly, name), name).toBeUndefined();
    const everything = estimate(on({ moderation: { enabled: true } }));
    for (const name of [
      'Rekognition DetectModerationLabels',
      'Bedrock Nova Lite',
      'Bedrock Titan',
      'S3 Vectors',
    ])
      expect(find(everything, name), name).toBeDefined();
  });

  it('adds exactly the caption for captions: its tokens, its wait, the words it makes searchable', () => {
    const without = estimate(on({ captions: { enabled: false } }));
    const withCaptions = estimate(on({ captions: { enabled: true } }));
    const caption =
      at('novaLiteInput', 1000 * (ASSUMED.captionImageTokens + ASSUMED.captionPromptTokens)) +
      at('novaLiteOutput', 1000 * ASSUMED.captionOutputTokens);
    const waiting = at('lambdaCompute', 1000 * gbSeconds(ASSUMED.modelWaitMs.caption, ENRICHMENT_MEMORY_MB));
    const words = at('dynamoWrites', 1000 * ASSUMED.captionWordsBeyondTags);
    expect(withCaptions.sections.enrichment.total - without.sections.enrichment.total).toBeCloseTo(
      caption + waiting + words,
      10,
    );
    expect(withCaptions.perImage.indexEntriesPerLink.enrichment).toBe(
      without.perImage.indexEntriesPerLink.enrichment + ASSUMED.captionWordsBeyondTags,
    );
  });

  it('adds exactly an image for moderation, and its wait', () => {
    const without = estimate(on());
    const withModeration = estimate(on({ moderation: { enabled: true } }));
    const waiting = at(
      'lambdaCompute',
      1000 * gbSeconds(ASSUMED.modelWaitMs.moderation, ENRICHMENT_MEMORY_MB),
    );
    expect(withModeration.sections.enrichment.total - without.sections.enrichment.total).toBeCloseTo(
      at('rekognitionModeration', 1000) + waiting,
      10,
    );
    expect(withModeration.sections.enrichmentStorage).toEqual(without.sections.enrichmentStorage);
  });

  it('stores one vector per link of 4 bytes a dimension with its key and metadata, and bills its PUT', () => {
    for (const dimensions of [256, 1024] as const) {
      const lane = estimate(on({ embeddings: { enabled: true, dimensions } }), { linksPerImage: 2 });
      const bytes = dimensions * 4 + ASSUMED.vectorKeyBytes + ASSUMED.vectorMetadataBytes;
      expect(lane.perImage.vectorBytes).toBe(bytes);
      expect(item(lane, 'S3 Vectors: the vectors').quantity).toBeCloseTo((2000 * bytes) / GB, 12);
      expect(item(lane, 'S3 Vectors PUT').quantity).toBeCloseTo((2000 * bytes) / GB, 12);
      expect(item(lane, 'Bedrock Titan Multimodal Embeddings: image').quantity).toBe(1000);
    }
    const without = estimate(on({ embeddings: { enabled: false } }));
    expect(without.perImage.vectorBytes).toBeUndefined();
  });

  it('files every link under its owner: entries, vectors and their storage scale with links, the models do not', () => {
    const one = estimate(on(), { linksPerImage: 1 });
    const three = estimate(on(), { linksPerImage: 3 });
    for (const name of [
      'DynamoDB writes: search entries',
      'DynamoDB writes: near-duplicate entries',
      'S3 Vectors PUT',
      'S3 Vectors: the vectors',
    ])
      expect(item(three, name).quantity, name).toBeCloseTo(item(one, name).quantity * 3, 9);
    for (const name of [
      'Rekognition DetectLabels',
      'Bedrock Nova Lite',
      'Bedrock Titan',
      'DynamoDB writes: the enriched',
    ])
      expect(item(three, name).quantity, name).toBe(item(one, name).quantity);
    const { enrichment, nearDuplicates } = one.perImage.indexEntriesPerLink;
    expect(item(one, 'DynamoDB writes: search entries').quantity).toBe(1000 * enrichment);
    expect(item(one, 'DynamoDB writes: near-duplicate entries').quantity).toBe(1000 * nearDuplicates);
    // Every entry is stored and backed up; the upkeep never reads one.
    expect(item(three, 'DynamoDB storage: entries').quantity).toBeGreaterThan(
      item(one, 'DynamoDB storage: entries').quantity * 2,
    );
    expect(three.sections.enrichmentStorage.items.map((line) => line.item)).not.toContainEqual(
      expect.stringMatching(/reads/),
    );
  });

  it('files an enriched image as settled at its enriched size: the record’s update, then the index', () => {
    const plain = estimate(on({ enabled: false }));
    const enriched = estimate(on());
    const recordUnits = item(enriched, 'DynamoDB writes: the enriched record').quantity / 1000;
    expect(recordUnits).toBeGreaterThan(1);
    // The entry's first write, the record's update, the entry's delete and put.
    expect(item(plain, 'DynamoDB writes: upkeep index').quantity).toBe(1000 * (1 + 1 + 2));
    expect(item(enriched, 'DynamoDB writes: upkeep index').quantity).toBe(1000 * (1 + recordUnits + 2));
  });

  it('counts the entries the index terms make: tags, their words, the caption’s other words, colours', () => {
    const { tags } = parseSettings().enrichment;
    const tagNames = Array.from({ length: tags.maxTags }, (_, i) => `label${i}`);
    const captionWords = Array.from({ length: ASSUMED.captionWordsBeyondTags }, (_, i) => `word${i}`);
    const colours = Array.from({ length: ASSUMED.searchableColours }, () => MIN_SEARCHABLE_COLOUR_SHARE);
    const terms = indexTerms({
      enrichment: {
        status: 'done',
        version: 'v',
        tags: tagNames.map((name) => ({ name, confidence: 0.9 })),
        // Stop words and the tags' own words add no term.
        caption: { text: `A ${captionWords.join(' ')} with the ${tagNames[0]}.`, source: 'model' },
        colours: [
          ...colours.map((share, i) => ({
            hex: '#000000',
            name: i === 0 ? ('red' as const) : ('blue' as const),
            share,
          })),
          { hex: '#ffffff', name: 'white', share: MIN_SEARCHABLE_COLOUR_SHARE / 2 },
        ],
      },
    });
    expect(terms).toHaveLength(estimate(on()).perImage.indexEntriesPerLink.enrichment);
    expect(estimate(on({ tags: { maxTags: 5 } })).perImage.indexEntriesPerLink.enrichment).toBe(
      5 * (1 + ASSUMED.searchWordsPerTag) + ASSUMED.captionWordsBeyondTags + ASSUMED.searchableColours,
    );
  });

  it('has the thumbnails job write a JPEG of the analysis size, never enlarged, and the lane read it', () => {
    const twelve = estimate(on());
    expect(twelve.perImage.analysis).toMatchObject({
      width: ANALYSIS_MAX_EDGE,
      height: ANALYSIS_MAX_EDGE * 0.75,
    });
    expect(item(twelve, 'Lambda compute: render thumbnails, the analysis JPEG').item).toContain(
      `(${RENDER_MEMORY_MB.thumbnails} MB)`,
    );
    const small = estimate(on(), { megapixels: 0.3 });
    const { width, height } = small.perImage.original;
    expect(small.perImage.analysis).toMatchObject({ width, height });
    expect(small.perImage.analysis?.bytes).toBeLessThan(twelve.perImage.analysis?.bytes ?? 0);
    for (const name of [
      'S3 PUT: the analysis JPEG',
      'S3 GET: the analysis JPEG',
      'Lambda requests: enrichment',
    ])
      expect(item(twelve, name).quantity, name).toBe(1000);
  });

  it('bills the enrichment function for its waits at its memory', () => {
    const lane = estimate(on({ moderation: { enabled: true } }));
    const waits = ASSUMED.modelWaitMs;
    const ms = ASSUMED.enrichmentWaitMs + waits.tags + waits.moderation + waits.caption + waits.embedding;
    expect(lane.perImage.lambdaSeconds.enrichment).toBeCloseTo(ms / 1000, 12);
    const compute = item(lane, 'Lambda compute: enrichment');
    expect(compute.item).toContain(`(${ENRICHMENT_MEMORY_MB} MB)`);
    expect(compute.quantity).toBeCloseTo(1000 * gbSeconds(ms, ENRICHMENT_MEMORY_MB), 9);
  });
});

describe('cost model: search', () => {
  it('is priced apart from the images: searches change no total of theirs', () => {
    const none = estimate(on(), { searchesPerMonth: 0 });
    const many = estimate(on(), { searchesPerMonth: 1e6 });
    expect(none.sections.search.items).toEqual([]);
    expect(many.totals.searchPerMonth).toBeCloseTo(many.sections.search.total, 12);
    expect(many.totals.searchPerMonth).toBeGreaterThan(0);
    expect({ ...many.totals, searchPerMonth: 0 }).toEqual(none.totals);
    expect(many.perMillionImages).toEqual(none.perMillionImages);
    // Without enrichment there is nothing to search.
    expect(
      estimate(costedDeployment(parseSettings()), { searchesPerMonth: 1e6 }).sections.search.items,
    ).toEqual([]);
  });

  it('reads the index and each result per search, and queries vectors only when semantic', () => {
    const lexical = estimate(on({ embeddings: { enabled: false } }), { searchesPerMonth: 5000 });
    expect(item(lexical, 'DynamoDB reads: a query per term').quantity).toBe(
      5000 * (ASSUMED.searchTerms + 2 * ASSUMED.searchResults),
    );
    expect(item(lexical, 'HTTP API requests: GET /v1/search').quantity).toBe(5000);
    expect(find(lexical, 'S3 Vectors')).toBeUndefined();
    const semantic = estimate(on(), { searchesPerMonth: 5000 });
    expect(item(semantic, 'S3 Vectors queries').quantity).toBe(5000);
    expect(item(semantic, 'Bedrock Titan Multimodal Embeddings: the text').quantity).toBe(
      5000 * ASSUMED.searchTextTokens,
    );
  });

  it.each([
    ['an index inside the first tier', 20_000, 1],
    ['an index past it', 400_000, 1],
    ['shared images, twice the vectors', 400_000, 2],
  ])('processes every vector of the one index per query, tiered at 100,000: %s', (_, images, links) => {
    const searches = 10_000;
    const result = estimateCost(workload({ images, linksPerImage: links, searchesPerMonth: searches }), on());
    const bytes = result.perImage.vectorBytes ?? 0;
    const vectors = images * links;
    const first = Math.min(vectors, S3_VECTORS_FIRST_TIER);
    expect(item(result, 'S3 Vectors query data: first').quantity).toBeCloseTo(
      (searches * first * bytes) / TB,
      12,
    );
    expect(item(result, 'S3 Vectors query data: the other').quantity).toBeCloseTo(
      (searches * (vectors - first) * bytes) / TB,
      12,
    );
    const processed = (searches * vectors * bytes) / TB;
    const cost =
      item(result, 'S3 Vectors query data: first').cost +
      item(result, 'S3 Vectors query data: the other').cost;
    // Between the two rates: all of it at the lower, all of it at the first tier's.
    expect(cost).toBeGreaterThanOrEqual(at('s3VectorsQueryData', processed) - 1e-12);
    expect(cost).toBeLessThanOrEqual(at('s3VectorsQueryDataFirst', processed) + 1e-12);
  });
});
