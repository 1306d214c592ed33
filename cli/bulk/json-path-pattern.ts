import type { JsonPath } from './json-strings.js';

/** What one step of a pattern accepts: a key, an index, or anything. */
export type PathSelector =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'any' };

/** One step: a selector for the next path segment, or, after `..`, for any segment at any depth below. */
export interface PathStep {
  selector: PathSelector;
  descendant: boolean;
}

/** A compiled pattern: the steps from the root, and the text it came from (for messages). */
export interface PathPattern {
  readonly source: string;
  readonly steps: readonly PathStep[];
}

/** The text is not a path pattern this reader understands; `position` is the 0-based character index. */
export class PathPatternError extends Error {
  override readonly name = 'PathPatternError';
  readonly position: number;

  constructor(source: string, position: number, problem: string) {
    super(`invalid path pattern ${JSON.stringify(source)}: ${problem} at position ${position}`);
    this.position = position;
  }
}

/** Characters of a `.name` step; anything else needs the bracket form `['…']`. Non-ASCII is allowed. */
const NAME_CHAR = /[A-Za-z0-9_$\-\u0080-\uffff]/;
/** Names that formatPath may write as `.name` (a leading digit would read like an index). */
const DOT_NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Parses a small subset of JSONPath: `$` (the root), `.name`, `['name']` or `["name"]` (with `\'`, `\"`
 * and `\\` escapes), `[N]`, `[*]` and `.*`, and `..` (any depth, zero levels included) before a name,
 * `*` or a bracket. A pattern matches a path exactly: `$.items` is the value at `items` itself, and
 * `$.items..*` everything below it.
 */
export function parsePathPattern(text: string): PathPattern {
  const fail: Fail = (position, problem) => {
    throw new PathPatternError(text, position, problem);
  };
  if (text[0] !== '$') fail(0, "expected '$' (the root)");
  const steps: PathStep[] = [];
  let i = 1;
  while (i < text.length) {
    let descendant = false;
    if (text.startsWith('..', i)) {
      descendant = true;
      i += 2;
      if (i >= text.length || text[i] === '.') fail(i, "expected a name, '*' or '[' after '..'");
    } else if (text[i] === '.') {
      i++;
    } else if (text[i] !== '[') {
      fail(i, "expected '.', '..' or '['");
    }

    if (text[i] === '[') {
      const [selector, next] = parseBracket(text, i + 1, fail);
      steps.push({ selector, descendant });
      i = next;
    } else if (text[i] === '*') {
      steps.push({ selector: { kind: 'any' }, descendant });
      i++;
    } else {
      const start = i;
      while (i < text.length && NAME_CHAR.test(text[i] as string)) i++;
      if (i === start) fail(i, "expected a name or '*' (other keys need ['…'])");
      steps.push({ selector: { kind: 'name', name: text.slice(start, i) }, descendant });
    }
  }
  return { source: text, steps };
}

type Fail = (position: number, problem: string) => never;

/** Reads what follows a '[' up to and including its ']'; returns the selector and the index after ']'. */
function parseBracket(text: string, start: number, fail: Fail): [PathSelector, number] {
  let i = start;
  const close = (selector: PathSelector): [PathSelector, number] => {
    if (text[i] !== ']') fail(i, "expected ']'");
    return [selector, i + 1];
  };
  const c = text[i];
  if (c === '*') {
    i++;
    return close({ kind: 'any' });
  }
  if (c === "'" || c === '"') {
    let name = '';
    i++;
    while (text[i] !== c) {
      if (i >= text.length) fail(i, `expected ${c} to close the name`);
      if (text[i] === '\\') {
        const escaped = text[i + 1];
        if (escaped !== "'" && escaped !== '"' && escaped !== '\\') {
          fail(i, 'expected \\\', \\" or \\\\ (the only escapes)');
        }
        name += escaped;
        i += 2;
      } else {
        name += text[i];
        i++;
      }
    }
    i++;
    return close({ kind: 'name', name });
  }
  if (c === '-')
    fail(i, "negative indexes are not supported (an array's length is not known while streaming)");
  const digits = /^(0|[1-9][0-9]*)/.exec(text.slice(i))?.[0];
  if (digits === undefined) fail(i, "expected an index, '*' or a quoted name");
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) fail(i, 'index too large');
  i += digits.length;
  return close({ kind: 'index', index });
}

/**
 * Whether `path` is one that `pattern` selects. Runs the steps as an NFA over the path's segments (the
 * set of steps reached so far), so that many `..` cost time linear in path × steps, never exponential.
 */
export function matchesPath(pattern: PathPattern, path: JsonPath): boolean {
  const steps = pattern.steps;
  // reached[k] = 1: the first k steps can account for the segments read so far.
  let reached = new Uint8Array(steps.length + 1);
  let next = new Uint8Array(steps.length + 1);
  reached[0] = 1;
  for (const segment of path) {
    next.fill(0);
    let alive = false;
    for (let k = 0; k < steps.length; k++) {
      if (reached[k] !== 1) continue;
      const step = steps[k] as PathStep;
      // `..` may pass over this segment and still match a later one.
      if (step.descendant) next[k] = 1;
      if (selects(step.selector, segment)) next[k + 1] = 1;
      alive ||= step.descendant || next[k + 1] === 1;
    }
    if (!alive) return false;
    [reached, next] = [next, reached];
  }
  return reached[steps.length] === 1;
}

function selects(selector: PathSelector, segment: string | number): boolean {
  switch (selector.kind) {
    case 'any':
      return true;
    case 'name':
      return segment === selector.name;
    case 'index':
      return segment === selector.index;
  }
}

/** Writes a path as a pattern that matches exactly it, e.g. `$.items[3].photo` or `$['odd key'].x`. */
export function formatPath(path: JsonPath): string {
  let text = '$';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (DOT_NAME.test(segment)) text += `.${segment}`;
    else text += `['${segment.replace(/[\\']/g, (c) => `\\${c}`)}']`;
  }
  return text;
}
