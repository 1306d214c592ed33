import { describe, expect, it } from 'vitest';
import { PALETTE } from '../../../lambdas/core/palette.js';
import {
  captionSource,
  enrichmentProblem,
  formatDistance,
  formatShare,
  searchMode,
} from '../../../web/format.js';
import { swatchCss } from '../../../web/palette.js';

describe('the demo page’s words for enrichment', () => {
  it.each([
    ['template', 'written from tags'],
    ['amazon.nova-lite-v1:0', 'written by amazon.nova-lite-v1:0'],
  ])('says a caption from %s was %s', (source, expected) => {
    expect(captionSource(source)).toBe(expected);
  });

  it('says nothing about a finished analysis, and why one is not finished', () => {
    expect(enrichmentProblem({ status: 'done' })).toBeUndefined();
    expect(enrichmentProblem({ status: 'pending' })).toMatch(/under way/);
    const failed = enrichmentProblem({
      status: 'failed',
      reason: 'retries_exhausted',
      message: 'the tagger timed out',
    });
    expect(failed).toContain('retries_exhausted: the tagger timed out');
    expect(enrichmentProblem({ status: 'failed' })).toBe('Could not be analysed.');
  });

  it('tells a meaning search from a word search, and says nothing without words', () => {
    const meaning = searchMode('dog on a beach', true);
    const words = searchMode('dog on a beach', false);
    expect(meaning).toMatch(/^Meaning search/);
    expect(words).toMatch(/^Word search/);
    expect(searchMode('  ', true)).toBe('');
  });

  it('shows confidences and shares as whole percentages, distances to two places', () => {
    // The reader's locale decides the digits' look; the numbers are the point.
    expect(formatShare(0.873).replace(/\D/g, '')).toBe('87');
    expect(formatShare(1).replace(/\D/g, '')).toBe('100');
    expect(formatDistance(3)).toBe(new Intl.NumberFormat().format(3));
    expect(formatDistance(0.12345)).toBe(new Intl.NumberFormat().format(0.12));
  });
});

describe('the demo page’s colour swatches', () => {
  it('paint each palette colour with its own channels', () => {
    expect(swatchCss('red')).toBe(`rgb(${PALETTE.red.join(' ')})`);
    expect(swatchCss('white')).toBe('rgb(255 255 255)');
  });
});
