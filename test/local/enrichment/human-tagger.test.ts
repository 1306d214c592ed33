import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tag } from '../../../lambdas/core/enrichment.js';
import { UnreadableAnalysisImageError } from '../../../lambdas/core/render/analysis-image.js';
import { HumanTagger } from '../../../local/enrichment/human-tagger.js';
import { CORPUS_DIR } from '../../support/corpus.js';
import { analysisJpeg } from '../../support/images.js';
import { fromRaw, paint } from '../../support/pixels.js';

const tagger = new HumanTagger();

const corpusAnalysisJpeg = async (file: string) => analysisJpeg(await readFile(join(CORPUS_DIR, file)));

const mostConfident = (tags: Tag[]) => [...tags].sort((a, b) => b.confidence - a.confidence)[0];

/** Real detections score 0.5 and up for a person; flat colours alone reach about 0.2. */
const CONFIDENT = 0.3;

describe('the offline tagger (CenterNet on wasm, weights from node_modules)', () => {
  it('names its model and version', () => {
    expect(tagger.modelId).toMatch(/^human-centernet@3\.3\.\d+$/);
  });

  describe.skipIf(!existsSync(CORPUS_DIR))('on photos of the shared corpus', () => {
    it.each(['immich__portrait.jpg', 'recurser__Portrait_0.jpg'])('finds a person in %s', async (file) => {
      const tags = await tagger.tag(await corpusAnalysisJpeg(file));
      expect(mostConfident(tags)?.name).toBe('person');
      expect(tags.filter((tag) => tag.name === 'person')).toHaveLength(1);
    });

    it('finds a bird in the photo of a falcon', async () => {
      const tags = await tagger.tag(await corpusAnalysisJpeg('immich__prairie_falcon.jpg'));
      expect(mostConfident(tags)?.name).toBe('bird');
    });
  });

  it('finds nothing confidently in flat colours and a gradient', async () => {
    const pictures = [
      ...['#808080', '#ffffff', '#c00000', '#20a040', '#2040c0'].map((colour) =>
        fromRaw(paint(640, 480, 3, () => [1, 3, 5].map((i) => Number.parseInt(colour.slice(i, i + 2), 16))))
          .jpeg()
          .toBuffer(),
      ),
      fromRaw(paint(640, 480, 3, (x, y) => [x / 2.5, y / 1.9, 128]))
        .jpeg()
        .toBuffer(),
    ];
    for (const picture of pictures) {
      for (const tag of await tagger.tag(await picture)) expect(tag.confidence).toBeLessThan(CONFIDENT);
    }
  });

  it('gives the same tags for the same image, one call at a time or several at once', async () => {
    const picture = existsSync(CORPUS_DIR)
      ? await corpusAnalysisJpeg('immich__portrait.jpg')
      : await fromRaw(paint(800, 600, 3, (x, y) => (x < 400 === y < 300 ? [192, 0, 0] : [0, 255, 0])))
          .jpeg()
          .toBuffer();
    const first = await tagger.tag(picture);
    expect(await tagger.tag(picture)).toEqual(first);
    const concurrent = await Promise.all([
      tagger.tag(picture),
      new HumanTagger().tag(picture),
      tagger.tag(picture),
    ]);
    for (const tags of concurrent) expect(tags).toEqual(first);
  });

  it('refuses bytes that are not an image', async () => {
    await expect(tagger.tag(Buffer.from('not a jpeg'))).rejects.toThrow(UnreadableAnalysisImageError);
  });
});
