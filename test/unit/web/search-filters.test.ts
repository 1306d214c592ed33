import { describe, expect, it } from 'vitest';
import {
  hasFilters,
  NO_FILTERS,
  parseSearchInput,
  type SearchFilters,
  searchQuery,
  withoutTag,
  withTag,
} from '../../../web/search-filters.js';

describe('the demo page’s search box', () => {
  it.each([
    ['words only, spacing tidied', '  red   bicycle ', { words: 'red bicycle', tags: [] }],
    ['a tag anywhere among the words', 'park tag:dog sunny', { words: 'park sunny', tags: ['dog'] }],
    ['a quoted tag with a space', 'tag:"Traffic  Light" night', { words: 'night', tags: ['traffic light'] }],
    [
      'tags as the API writes them, each once',
      'tag:Dog TAG:dog tag:cat',
      { words: '', tags: ['dog', 'cat'] },
    ],
    ['`tag:` inside a word is a word', 'hashtag:summer', { words: 'hashtag:summer', tags: [] }],
    ['an unclosed quote is left as words', 'tag:"traffic light', { words: 'tag:"traffic light', tags: [] }],
    ['an empty tag is dropped', 'tag:"" bird', { words: 'bird', tags: [] }],
  ])('reads %s', (_, text, expected) => {
    expect(parseSearchInput(text)).toEqual(expected);
  });
});

describe('the demo page’s tag chips', () => {
  it('adds a tag once, as the API writes tag names, and ignores an empty one', () => {
    const one = withTag(NO_FILTERS, ' Teddy  Bear ');
    expect(one.tags).toEqual(['teddy bear']);
    expect(withTag(one, 'teddy bear')).toBe(one);
    expect(withTag(one, '   ')).toBe(one);
    expect(withTag(one, 'dog').tags).toEqual(['teddy bear', 'dog']);
  });

  it('removes one tag and keeps the other filters', () => {
    const filters: SearchFilters = { words: 'park', tags: ['dog', 'cat'], colour: 'green' };
    expect(withoutTag(filters, 'dog')).toEqual({ words: 'park', tags: ['cat'], colour: 'green' });
  });

  it.each([
    ['nothing', NO_FILTERS, false],
    ['blank words', { words: '  ', tags: [] }, false],
    ['words', { words: 'dog', tags: [] }, true],
    ['a tag', { words: '', tags: ['dog'] }, true],
    ['a colour', { words: '', tags: [], colour: 'red' }, true],
  ] as [string, SearchFilters, boolean][])('searches by %s: %s', (_, filters, expected) => {
    expect(hasFilters(filters)).toBe(expected);
  });
});

describe('the demo page’s search query', () => {
  it('names each filter as GET /v1/search reads it: tags as one comma list, all of them to match', () => {
    const query = searchQuery(
      { words: ' dog on a beach ', tags: ['dog', 'traffic light'], colour: 'blue' },
      { cursor: 'eyJrIjoxfQ', limit: 50 },
    );
    expect(query).toEqual({
      q: 'dog on a beach',
      tag: 'dog,traffic light',
      colour: 'blue',
      cursor: 'eyJrIjoxfQ',
      limit: '50',
    });
  });

  it('leaves out the filters not in use, and a first page has no cursor', () => {
    expect(searchQuery({ words: '', tags: [], colour: 'red' }, { limit: 50 })).toEqual({
      colour: 'red',
      limit: '50',
    });
    expect(searchQuery({ words: '  ', tags: ['cat'] }, { cursor: '', limit: 5 })).toEqual({
      tag: 'cat',
      limit: '5',
    });
  });
});
