/**
 * The offline captioner. No npm or Debian package ships a vision-language model, so locally the caption
 * is written from the tags, and says so (`source: 'template'`): search by caption word still runs the
 * real code path, on words that are only the tags'.
 */
import { type Caption, normaliseTags, type Tag } from '../../lambdas/core/enrichment.js';
import type { Captioner } from '../../lambdas/ports/enrichment.js';

/** Tags a caption names at most: a sentence, not an inventory. */
const MAX_NAMED = 3;

/** Names that take no article (plural-only nouns in the tagger's vocabulary). */
const NO_ARTICLE = new Set(['scissors', 'skis']);

const withArticle = (name: string): string => {
  if (NO_ARTICLE.has(name)) return name;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
};

/** `a`, `a and b`, `a, b and c`. */
const list = (items: readonly string[]): string =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

/** "A photo with a person and a dog." from the most confident tags; "A photo." when there are none. */
export class TemplateCaptioner implements Captioner {
  readonly modelId = 'template@1';

  async caption(_jpeg: Buffer, tags: readonly Tag[]): Promise<Caption> {
    // The caller passes normalised tags already; normalising again costs nothing and fixes the order.
    const named = normaliseTags(tags, { minConfidence: 0, maxTags: MAX_NAMED }).map((tag) => tag.name);
    const text = named.length === 0 ? 'A photo.' : `A photo with ${list(named.map(withArticle))}.`;
    return { text, source: 'template' };
  }
}
