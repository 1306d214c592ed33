import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CostEstimate,
  costedDeployment,
  decimalBytes,
  estimateCost,
} from '../../cli/commands/cost-model.js';
import { RENDER_MEMORY_MB } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, watermarkedPreview } from '../../lambdas/core/variants.js';
import { aperture } from '../support/operations.js';

const dirs: string[] = [];
const money = (usd: number) =>
  `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('aperture cost', () => {
  it('prints the line items, the totals per million images and the assumptions, with no pipeline', async () => {
    // No environment at all: cost needs neither a deployment nor credentials.
    const run = await aperture(['cost', '--images', '1e6', '--avg-mp', '12'], {});
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const expected = estimateCost(
      { images: 1e6, megapixels: 12, viewsPerImagePerMonth: 10, months: 12 },
      costedDeployment(parseSettings()),
    );
    const { original, derivativeBytes } = expected.perImage;
    expect(run.stdout).toMatch(
      new RegExp(
        `^1,000,000 images of 12 MP \\(4000×3000, ${decimalBytes(original.bytes)}\\), each rendered to 12 derivatives \\(${decimalBytes(derivativeBytes)}\\);\n10 views of each a month`,
      ),
    );
    for (const heading of ['Ingest and render, once', 'Storage, a month', 'Delivery, a month'])
      expect(run.stdout).toContain(heading);
    // Each lane's sizes, the model's choice marked with a star (and `=` where the contract has it).
    expect(run.stdout).toContain('Render lanes by memory size');
    for (const { lane, chosenMb } of expected.perImage.laneSizing) {
      const deployed = RENDER_MEMORY_MB[lane] === chosenMb ? ' =' : '';
      expect(run.stdout, lane).toMatch(new RegExp(`\\n {4}${chosenMb} MB \\*${deployed} `));
    }
    expect(run.stdout).toMatch(
      new RegExp(
        `Lambda compute: render variants \\(${RENDER_MEMORY_MB.variants} MB\\) +[\\d,]+ GB-s +\\$0\\.0000133334 / GB-s`,
      ),
    );
    expect(run.stdout).toMatch(
      /S3 PUT\/COPY: upload, original, derivatives +14,000,000 requests +\$0\.005 \/ 1,000/,
    );
    expect(run.stdout).toMatch(
      new RegExp(
        `once: ingest and render +\\${money(expected.sections.ingest.total)} +\\${money(expected.perMillionImages.ingestOnce)}`,
      ),
    );
    expect(run.stdout).toContain(`over 12 months`);
    expect(run.stdout).toContain(money(expected.totals.overMonths));
    expect(run.stdout).toContain('Assumptions:\n  - Prices: us-east-1');
    expect(run.stdout).toContain('Left out:');
  });

  it('answers --json with the whole estimate', async () => {
    const run = await aperture(
      [
        'cost',
        '--json',
        '--images',
        '2000',
        '--avg-mp',
        '2',
        '--views',
        '0',
        '--months',
        '3',
        '--view-kb',
        '50',
      ],
      {},
    );
    expect(run.status).toBe(0);
    const estimate = JSON.parse(run.stdout) as CostEstimate;
    expect(estimate.workload).toEqual({
      images: 2000,
      megapixels: 2,
      originalBytes: expect.any(Number),
      viewsPerImagePerMonth: 0,
      bytesPerView: 50_000,
      months: 3,
      linksPerImage: 1,
      searchesPerMonth: 0,
    });
    expect(estimate.sections.delivery.total).toBe(0);
    expect(estimate.totals.overMonths).toBeCloseTo(estimate.totals.once + 3 * estimate.totals.perMonth, 10);
    expect(estimate.perMillionImages.once).toBeCloseTo(estimate.totals.once * 500, 8);
    expect(estimate.assumptions.length).toBeGreaterThan(0);
  });

  it('counts the variant set of --settings, and the original size of --original-mb', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aperture-cost-'));
    dirs.push(dir);
    const file = join(dir, 'settings.json');
    await writeFile(file, JSON.stringify({ variants: [...DEFAULT_VARIANTS, watermarkedPreview()] }));
    const run = await aperture(
      ['cost', '--json', '--images', '10', '--avg-mp', '12', '--settings', file, '--original-mb', '3'],
      {},
    );
    expect(run.status).toBe(0);
    const estimate = JSON.parse(run.stdout) as CostEstimate;
    expect(estimate.perImage.derivatives).toHaveLength(14);
    expect(estimate.workload.originalBytes).toBe(3_000_000);
  });

  it('bills the enrichment lane with --enrichment, for what the settings enable, per 1,000 images', async () => {
    const off = await aperture(['cost', '--images', '1e6', '--avg-mp', '12'], {});
    expect(off.status).toBe(0);
    expect(off.stdout).toContain('Enrichment: off; near-duplicates: on.');
    expect(off.stdout).not.toContain('Rekognition DetectLabels');

    const run = await aperture(['cost', '--images', '1e6', '--avg-mp', '12', '--enrichment'], {});
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const expected = estimateCost(
      { images: 1e6, megapixels: 12, viewsPerImagePerMonth: 10, months: 12 },
      costedDeployment(parseSettings({ enrichment: { enabled: true } })),
    );
    expect(run.stdout).toContain(
      'Enrichment: tags, colours, captions, 1024-d embeddings; near-duplicates: on.',
    );
    expect(run.stdout).toContain('Enrichment and near-duplicates, once');
    expect(run.stdout).toMatch(/Rekognition DetectLabels: tags +1,000,000 images +\$1\.00 \/ 1,000 images/);
    expect(run.stdout).toContain('Bedrock Nova Lite');
    expect(run.stdout).not.toContain('DetectModerationLabels');
    expect(run.stdout).toContain(
      `Enrichment and near-duplicates: ${money(expected.perMillionImages.enrichmentOnce / 1000)} per 1,000 images once, ` +
        `${money(expected.perMillionImages.enrichmentStoragePerMonth / 1000)} per 1,000 images a month.`,
    );
    expect(run.stdout).toContain(money(expected.totals.overMonths));
  });

  it('takes the lane from --settings, owners per image from --links-per-image, searches from --searches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aperture-cost-'));
    dirs.push(dir);
    const file = join(dir, 'settings.json');
    const settings = { enrichment: { enabled: true, moderation: { enabled: true } }, nearDuplicates: false };
    await writeFile(file, JSON.stringify(settings));
    const args = ['--images', '250000', '--avg-mp', '24', '--settings', file];
    const run = await aperture(
      ['cost', '--json', ...args, '--links-per-image', '2', '--searches', '3e5'],
      {},
    );
    expect(run.status).toBe(0);
    const expected = estimateCost(
      {
        images: 250_000,
        megapixels: 24,
        viewsPerImagePerMonth: 10,
        months: 12,
        linksPerImage: 2,
        searchesPerMonth: 300_000,
      },
      costedDeployment(parseSettings(settings)),
    );
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    const text = await aperture(['cost', ...args, '--searches', '3e5'], {});
    expect(text.stdout).toContain('; 300,000 searches a month.');
    expect(text.stdout).toContain('Rekognition DetectModerationLabels');
    expect(text.stdout).toMatch(/^Search, a month/m);
    expect(text.stdout).toMatch(/a month: search, apart +\$/);
  });

  it('is listed in the help, with its own flags', async () => {
    const help = await aperture(['--help'], {});
    expect(help.stdout).toMatch(/Commands that need no deployment[^\n]*\n {2}cost {2,}estimate/);
    const own = await aperture(['cost', '--help'], {});
    expect(own.status).toBe(0);
    expect(own.stdout).toMatch(/^Usage: aperture cost \[options\]/);
    expect(own.stdout).toContain('--avg-mp M');
    expect(own.stdout).toContain('--enrichment');
    expect(own.stdout).not.toContain('--env-file');
  });

  it.each([
    [[], 'cost needs --images'],
    [['--images', '1000'], 'cost needs --avg-mp'],
    [['--images', 'many', '--avg-mp', '12'], '--images takes a whole number'],
    [['--images', '1.5', '--avg-mp', '12'], '--images takes a whole number'],
    [['--images', '1000', '--avg-mp', '0'], '--avg-mp takes a number over 0'],
    [['--images', '1000', '--avg-mp', '500'], "over the settings' pixel limit"],
    [['--images', '1000', '--avg-mp', '12', '--views=-1'], '--views takes a number of 0 or more'],
    [['--images', '1000', '--avg-mp', '12', '--months', 'forever'], '--months takes a number'],
    [['--images', '1000', '--avg-mp', '12', '--settings', '/no/such/settings.json'], '--settings /no/such'],
    [['--images', '1000', '--avg-mp', '12', '--table', 'images'], "Unknown option '--table'"],
    [['--images', '1000', '--avg-mp', '12', '--searches=-1'], '--searches takes a whole number of 0 or more'],
    [['--images', '1000', '--avg-mp', '12', '--searches', '2.5'], '--searches takes a whole number'],
    [
      ['--images', '1000', '--avg-mp', '12', '--links-per-image', '0'],
      '--links-per-image takes a whole number',
    ],
    [['--images', '1000', '--avg-mp', '12', 'extra'], 'positional'],
  ])('exits 2 with the usage for cost %j', async (args, message) => {
    const run = await aperture(['cost', ...args], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage: aperture cost');
    expect(run.stdout).toBe('');
  });
});
