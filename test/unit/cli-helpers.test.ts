import { describe, expect, it } from 'vitest';
import { parseDuration, parseRate } from '../../cli/arguments.js';
import { bytes, percent, table } from '../../cli/format.js';
import { createPacer } from '../../cli/pacer.js';
import { progressLine } from '../../cli/progress.js';
import { UsageError } from '../../cli/usage-error.js';

describe('CLI arguments', () => {
  it('reads durations in seconds, minutes, hours and days', () => {
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('30m', '--x')).toBe(1_800_000);
    expect(parseDuration('1.5h', '--x')).toBe(5_400_000);
    expect(parseDuration('1d', '--x')).toBe(86_400_000);
    expect(parseDuration('0', '--x')).toBe(0);
    for (const bad of ['', '10', '-1h', '1w', 'h', '1 h x']) {
      expect(() => parseDuration(bad, '--stuck-after'), bad).toThrow(UsageError);
    }
  });

  it('reads rates per second', () => {
    expect(parseRate('25', '--rate')).toBe(25);
    expect(parseRate('2.5/s', '--rate')).toBe(2.5);
    for (const bad of ['0', '-3', 'fast', '10/m', ''])
      expect(() => parseRate(bad, '--rate'), bad).toThrow(UsageError);
  });
});

describe('createPacer', () => {
  it('spaces units out to the rate, however many callers ask at once', async () => {
    let now = 1_000;
    const waits: number[] = [];
    const pace = createPacer(10, {
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await Promise.all([pace(1), pace(2), pace(1)]);
    // The first goes at once; the second waits for the first's 100 ms, the third for both (300 ms).
    expect(waits).toEqual([100, 300]);
    now += 10_000;
    await pace(1);
    expect(waits).toHaveLength(2);
  });
});

describe('progressLine', () => {
  it('rewrites one line on a terminal, at most a few times a second, and ends it', () => {
    let now = 0;
    const written: string[] = [];
    const progress = progressLine(
      (text) => written.push(text),
      true,
      () => now,
    );
    progress.update(() => 'first');
    now = 300;
    progress.update(() => 'second');
    now = 400;
    progress.update(() => 'too soon');
    progress.done(() => 'last');
    expect(written).toEqual(['\rsecond\u001b[K', '\rlast\u001b[K', '\n']);
  });

  it('writes nothing for a run too short to need progress', () => {
    const written: string[] = [];
    const progress = progressLine(
      (text) => written.push(text),
      false,
      () => 0,
    );
    progress.update(() => 'soon');
    progress.done(() => 'done');
    expect(written).toEqual([]);
  });
});

describe('human formats', () => {
  it('prints sizes in binary units and shares as percentages', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(percent(1, 3)).toBe('33.3%');
    expect(percent(0, 0)).toBe('100.0%');
  });

  it('aligns columns: labels left, figures right', () => {
    expect(
      table([
        ['images', '1,234'],
        ['  ready', '7', 'note'],
      ]),
    ).toBe('  images   1,234\n    ready      7  note');
  });
});
