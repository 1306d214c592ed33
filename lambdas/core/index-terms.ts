/**
 * What an image is filed under in its owners' lookups (`OwnerIndex`): the terms each kind of derived
 * data contributes, one function, so the writer that adds an owner's entries and the one that removes
 * them cannot disagree. Pure.
 */
import { type Enrichment, searchWords } from './enrichment.js';
import { type Fingerprint, fingerprintTerms } from './near-duplicates.js';

/** The parts of an image record its terms come from. */
export interface IndexedImage {
  enrichment?: Enrichment | undefined;
  fingerprint?: Fingerprint | undefined;
}

/** Colours covering less of the image than this are not what it looks like: not searchable. */
export const MIN_SEARCHABLE_COLOUR_SHARE = 0.15;

export const indexTerm = {
  tag: (name: string) => `tag:${name}`,
  word: (word: string) => `word:${word}`,
  colour: (name: string) => `colour:${name}`,
};

/** Every term the image is filed under, each once. */
export function indexTerms(image: IndexedImage): string[] {
  const bands = image.fingerprint ? fingerprintTerms(image.fingerprint) : [];
  return [...new Set([...searchTerms(image.enrichment), ...bands])];
}

/** Tags as they are; words of the caption and of the tags (`q` matches either); dominant colours by name. */
function searchTerms(enrichment: Enrichment | undefined): string[] {
  if (enrichment?.status !== 'done') return [];
  const tags = enrichment.tags ?? [];
  const text = [enrichment.caption?.text ?? '', ...tags.map((tag) => tag.name)].join(' ');
  return [
    ...tags.map((tag) => indexTerm.tag(tag.name)),
    ...searchWords(text).map(indexTerm.word),
    ...(enrichment.colours ?? [])
      .filter((colour) => colour.share >= MIN_SEARCHABLE_COLOUR_SHARE)
      .map((colour) => indexTerm.colour(colour.name)),
  ];
}

/**
 * An owner's vector of an image in the vector index: one per link, like the entries, so a query
 * filtered to one owner ranks that owner's images only. The hash has a fixed length, so the key is
 * unambiguous whatever the owner id holds.
 */
export const vectorKey = (owner: string, imageId: string) => `${imageId}:${owner}`;
