import { describe, expect, it } from 'vitest';
import { parsePositiveInteger } from '../../cli/arguments.js';
import { duration } from '../../cli/format.js';
import { progressBar } from '../../cli/progress.js';

describe('progress display', () => {
  it.each([
    [undefined, '[........................]    '],
    [0, '[------------------------]   0%'],
    [0.5, '[############------------]  50%'],
    [0.999, '[########################]  99%'],
    [1, '[########################] 100%'],
    [1.7, '[########################] 100%'],
  ])('draws %s as %s', (fraction, bar) => {
    expect(progressBar(fraction)).toBe(bar);
  });

  it.each([
    [0, '0s'],
    [42_400, '42s'],
    [185_000, '3m05s'],
    [3_720_000, '1h02m'],
  ])('says %d ms as %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('takes whole numbers of at least 1 only', () => {
    expect(parsePositiveInteger(' 8 ', '--concurrency')).toBe(8);
    for (const text of ['0', '-1', '2.5', 'many', '']) {
      expect(() => parsePositiveInteger(text, '--concurrency')).toThrow('--concurrency takes a whole number');
    }
  });
});
