import { describe, expect, it } from 'vitest';
import {
  formatPath,
  matchesPath,
  PathPatternError,
  parsePathPattern,
} from '../../cli/bulk/json-path-pattern.js';
import type { JsonPath } from '../../cli/bulk/json-strings.js';

describe('parsePathPattern', () => {
  it.each([
    ['$', []],
    ['$.items', [{ selector: { kind: 'name', name: 'items' }, descendant: false }]],
    ['$.image-url', [{ selector: { kind: 'name', name: 'image-url' }, descendant: false }]],
    ['$.clé', [{ selector: { kind: 'name', name: 'clé' }, descendant: false }]],
    ["$['odd key']", [{ selector: { kind: 'name', name: 'odd key' }, descendant: false }]],
    ['$["a.b"]', [{ selector: { kind: 'name', name: 'a.b' }, descendant: false }]],
    ["$['it\\'s \\\\ \"x\"']", [{ selector: { kind: 'name', name: 'it\'s \\ "x"' }, descendant: false }]],
    ["$['']", [{ selector: { kind: 'name', name: '' }, descendant: false }]],
    ['$[0]', [{ selector: { kind: 'index', index: 0 }, descendant: false }]],
    ['$[42]', [{ selector: { kind: 'index', index: 42 }, descendant: false }]],
    ['$[*]', [{ selector: { kind: 'any' }, descendant: false }]],
    ['$.*', [{ selector: { kind: 'any' }, descendant: false }]],
    ['$..photo', [{ selector: { kind: 'name', name: 'photo' }, descendant: true }]],
    ['$..*', [{ selector: { kind: 'any' }, descendant: true }]],
    ['$..[3]', [{ selector: { kind: 'index', index: 3 }, descendant: true }]],
    [
      '$.items..src',
      [
        { selector: { kind: 'name', name: 'items' }, descendant: false },
        { selector: { kind: 'name', name: 'src' }, descendant: true },
      ],
    ],
  ])('reads %s', (text, steps) => {
    expect(parsePathPattern(text)).toEqual({ source: text, steps });
  });

  it.each([
    ['', 0, "expected '$'"],
    ['items', 0, "expected '$'"],
    ['$.', 2, "expected a name or '*'"],
    ['$x', 1, "expected '.', '..' or '['"],
    ['$.a b', 3, "expected '.', '..' or '['"],
    ['$..', 3, "expected a name, '*' or '[' after '..'"],
    ['$...a', 3, "expected a name, '*' or '[' after '..'"],
    ['$[', 2, "expected an index, '*' or a quoted name"],
    ['$[a]', 2, "expected an index, '*' or a quoted name"],
    ['$[01]', 3, "expected ']'"],
    ['$[1', 3, "expected ']'"],
    ['$[-1]', 2, 'negative indexes are not supported'],
    ['$[1,2]', 3, "expected ']'"],
    ["$['a'", 5, "expected ']'"],
    ["$['a", 4, "expected ' to close the name"],
    ["$['a\\n']", 4, 'the only escapes'],
    ['$[?(@.x)]', 2, "expected an index, '*' or a quoted name"],
    ['$[99999999999999999999]', 2, 'index too large'],
  ])('refuses %j at position %i', (text, position, problem) => {
    let error: unknown;
    try {
      parsePathPattern(text);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(PathPatternError);
    expect(error).toMatchObject({ name: 'PathPatternError', position });
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toContain(`at position ${position}`);
    expect((error as Error).message).toContain(JSON.stringify(text));
  });
});

describe('matchesPath', () => {
  const cases: [string, JsonPath, boolean][] = [
    ['$', [], true],
    ['$', ['a'], false],
    ['$.a', ['a'], true],
    ['$.a', ['b'], false],
    ['$.a', ['a', 'b'], false],
    ['$.a.b', ['a'], false],
    ['$[0]', [0], true],
    ['$[0]', ['0'], false],
    ['$.0', ['0'], true],
    ['$.0', [0], false],
    ['$[*]', [7], true],
    ['$[*]', ['key'], true],
    ['$.*', [7], true],
    ['$.items[*].photo', ['items', 3, 'photo'], true],
    ['$.items[*].photo', ['items', 3, 'thumb'], false],
    ['$.items[*].photo', ['items', 3, 'photo', 'x'], false],
    ["$['odd key'].x", ['odd key', 'x'], true],
    ['$..photo', ['photo'], true],
    ['$..photo', ['a', 0, 'b', 'photo'], true],
    ['$..photo', ['photo', 'x'], false],
    ['$..photo', ['photos'], false],
    ['$..*', [], false],
    ['$..*', ['a'], true],
    ['$..*', ['a', 1, 'b'], true],
    ['$.items..src', ['items', 'src'], true],
    ['$.items..src', ['items', 2, 'media', 'src'], true],
    ['$.items..src', ['other', 'src'], false],
    ['$.items..src', ['src'], false],
    ['$..a..b', ['x', 'a', 'y', 'z', 'b'], true],
    ['$..a..b', ['x', 'b', 'a'], false],
    ['$..a.b', ['a', 'x', 'b'], false],
    ['$..a.b', ['a', 'a', 'b'], true],
    ['$..[1]', ['list', 1], true],
    ['$..[1]', ['list', 2], false],
  ];

  it.each(cases)('%s against %j is %s', (text, path, expected) => {
    expect(matchesPath(parsePathPattern(text), path)).toBe(expected);
  });

  it('stays fast with many .. against a long path that almost matches', () => {
    const pattern = parsePathPattern(`$${'..a'.repeat(30)}..b`);
    const path = Array.from({ length: 2000 }, () => 'a');
    const started = performance.now();
    expect(matchesPath(pattern, path)).toBe(false);
    expect(matchesPath(pattern, [...path, 'b'])).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('formatPath', () => {
  it.each([
    [[], '$'],
    [['items', 3, 'photo'], '$.items[3].photo'],
    [['odd key', 'x'], "$['odd key'].x"],
    [['0'], "$['0']"],
    [['it\'s \\ "x"'], "$['it\\'s \\\\ \"x\"']"],
    [['clé', '$ref', '_a-b'], "$['clé'].$ref._a-b"],
    [[''], "$['']"],
  ])('writes %j as %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });

  it('writes what parsePathPattern reads back as a pattern for exactly that path', () => {
    const paths: JsonPath[] = [['a.b', 0, "q'uote", 'back\\slash', 'new\nline', '', 'x y', 12, '-1', 'é😀']];
    for (const path of paths) {
      const pattern = parsePathPattern(formatPath(path));
      expect(matchesPath(pattern, path)).toBe(true);
      expect(matchesPath(pattern, [...path.slice(0, -1), 'other'])).toBe(false);
    }
  });
});
