/**
 * Local enrichment alone in a fresh process, so its peak RSS is its own and not the bench's: the
 * offline tagger, dominant colours and the layout embedder on each analysis image, timed side by
 * side. Prints one JSON line.
 *
 *   node --import tsx test/bench/enrichment-rss.ts <iterations> <analysis.jpg>...
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { dominantColours } from '../../lambdas/core/dominant-colours.js';
import { HumanTagger } from '../../local/enrichment/human-tagger.js';
import { LayoutEmbedder } from '../../local/enrichment/layout-embedder.js';
import { interleave, peakRssMb, summarise } from './stats.js';

const [iterations, ...files] = process.argv.slice(2);
if (!iterations || files.length === 0)
  throw new Error('usage: enrichment-rss.ts <iterations> <analysis.jpg>...');

sharp.cache(false);
const tagger = new HumanTagger();
const embedder = new LayoutEmbedder();

// Node, tsx and sharp loaded: what any worker holds before the model.
const beforeLoadRssMb = peakRssMb();
const started = performance.now();
await tagger.load();
const modelLoadMs = Math.round(performance.now() - started);

const images = [];
for (const file of files) {
  const jpeg = await readFile(file);
  const tags = await tagger.tag(jpeg);
  const samples = await interleave(Number(iterations), {
    tag: () => tagger.tag(jpeg),
    colours: () => dominantColours(jpeg),
    embed: () => embedder.embedImage(jpeg),
  });
  const timing = (name: keyof typeof samples.cpu) => ({
    cpu: summarise(samples.cpu[name]),
    wall: summarise(samples.wall[name]),
  });
  images.push({
    file: path.basename(file),
    tags: tags.sort((a, b) => b.confidence - a.confidence).map((tag) => `${tag.name} ${tag.confidence}`),
    tag: timing('tag'),
    colours: timing('colours'),
    embed: timing('embed'),
  });
}
console.log(
  JSON.stringify({ modelId: tagger.modelId, modelLoadMs, beforeLoadRssMb, peakRssMb: peakRssMb(), images }),
);
