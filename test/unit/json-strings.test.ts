import { describe, expect, it } from 'vitest';
import {
  InvalidJsonError,
  JsonLimitError,
  type JsonPath,
  type JsonStringVisit,
  MAX_DEPTH,
  MAX_KEY_BYTES,
  type RewriteJsonStringsOptions,
  rewriteJsonStrings,
} from '../../cli/bulk/json-strings.js';

const bytesOf = (text: string | Uint8Array) => (typeof text === 'string' ? Buffer.from(text) : text);

/** Yields `bytes` cut at the given offsets, as fresh Buffers (as a file stream would). */
async function* cutAt(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield Buffer.from(bytes.subarray(start, cut));
    start = cut;
  }
}

const everyByte = (length: number) => Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);

/** A small deterministic generator, so that a failing random split can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

interface Run {
  output: Buffer;
  writes: number;
  visits: JsonStringVisit[];
  prefixes: { path: JsonPath; prefix: string }[];
  result: Awaited<ReturnType<typeof rewriteJsonStrings>>;
}

async function run(
  doc: string | Uint8Array,
  cuts: readonly number[] = [],
  options: Partial<Pick<RewriteJsonStringsOptions, 'select' | 'replace'>> = {},
): Promise<Run> {
  const written: Buffer[] = [];
  const visits: JsonStringVisit[] = [];
  const prefixes: { path: JsonPath; prefix: string }[] = [];
  const result = await rewriteJsonStrings(cutAt(bytesOf(doc), cuts), {
    select: (path, prefix) => {
      prefixes.push({ path: [...path], prefix });
      return options.select ? options.select(path, prefix) : prefix.startsWith('data:');
    },
    replace: (visit) => {
      visits.push(visit);
      return options.replace ? options.replace(visit) : undefined;
    },
    output: {
      write: async (chunk) => {
        written.push(Buffer.from(chunk));
      },
    },
  });
  return { output: Buffer.concat(written), writes: written.length, visits, prefixes, result };
}

const url = (dataUri: string) => `https://cdn.example/${dataUri.length}`;
const toUrl = ({ value }: JsonStringVisit) => (value.startsWith('data:') ? url(value) : undefined);

// Formatting, escapes and values of every kind, which must all come out exactly as they went in.
const UNTOUCHED = [
  '{}',
  '[]',
  '"lone string"',
  '""',
  '0',
  '-0.5e+10',
  '1E-7',
  'true',
  'null',
  ' \t\r\n false \n',
  '{ "a" :1 ,\r\n\t"b":[ ] , "c" : { } }',
  '[1,2.5,-3e2,true,false,null,"x",{"y":[[]]}]',
  '{"esc\\"aped":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00"}',
  '{"clé":"résumé ✓ 😀","日本":["語"]}',
  '\ufeff{"with":"byte order mark"}',
  '[\n  {\n    "image": "data:image/png;base64,iVBORw0KGgo="\n  }\n]\n',
];

describe('rewriteJsonStrings copying', () => {
  it.each(UNTOUCHED)('copies %j byte for byte, however it is split', async (doc) => {
    const bytes = bytesOf(doc);
    for (const cut of everyByte(bytes.length)) {
      const { output, result } = await run(bytes, [cut]);
      expect(output.equals(bytes), `split at ${cut}`).toBe(true);
      expect(result).toMatchObject({ bytesIn: bytes.length, bytesOut: bytes.length });
    }
    const { output } = await run(bytes, everyByte(bytes.length));
    expect(output.equals(bytes)).toBe(true);
  });

  it('counts the output even without a writer', async () => {
    const doc = '{"a":"data:image/gif;base64,R0lGOD=="}';
    const result = await rewriteJsonStrings(cutAt(Buffer.from(doc), []), {
      select: (_path, prefix) => prefix.startsWith('data:'),
      replace: () => 'u',
    });
    expect(result).toEqual({ bytesIn: doc.length, bytesOut: '{"a":"u"}'.length, stringsSelected: 1 });
  });

  it('writes untouched runs as whole slices of the input, not byte by byte', async () => {
    const doc = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `item ${i}` })));
    const cuts = [10_000, 20_000, 30_000];
    const { output, writes } = await run(doc, cuts);
    expect(output.toString()).toBe(doc);
    expect(writes).toBe(cuts.length + 1);
  });
});

describe('rewriteJsonStrings replacing', () => {
  const doc =
    '{"title":"holiday","photos":[{"src":"data:image/png;base64,iVBOR\\/w0KGgo=","alt":"data: not this"},' +
    '{"src":"https://example.com/a.png"}],"cover":"data:image/jpeg;base64,\\/9j\\/4AAQ","n":[1,2]}';
  const expected = {
    title: 'holiday',
    photos: [
      { src: url('data:image/png;base64,iVBOR/w0KGgo='), alt: 'data: not this' },
      { src: 'https://example.com/a.png' },
    ],
    cover: url('data:image/jpeg;base64,/9j/4AAQ'),
    n: [1, 2],
  };
  const select = (_path: JsonPath, prefix: string) => prefix.startsWith('data:image/');

  it('replaces the selected strings with JSON-encoded URLs, split anywhere', async () => {
    const bytes = Buffer.from(doc);
    for (const cut of everyByte(bytes.length)) {
      const { output, visits, result } = await run(bytes, [cut], { select, replace: toUrl });
      expect(JSON.parse(output.toString()), `split at ${cut}`).toEqual(expected);
      expect(visits.map((visit) => visit.path)).toEqual([['photos', 0, 'src'], ['cover']]);
      expect(result.stringsSelected).toBe(2);
      expect(result.bytesOut).toBe(output.length);
    }
  });

  it('decodes escapes, \\/ in base64 included, before replace sees the string', async () => {
    const { visits } = await run(doc, everyByte(doc.length), { select });
    expect(visits.map((visit) => visit.value)).toEqual([
      'data:image/png;base64,iVBOR/w0KGgo=',
      'data:image/jpeg;base64,/9j/4AAQ',
    ]);
  });

  it('leaves a selected string exactly as it was, escapes and all, when replace declines', async () => {
    const { output, visits } = await run(doc, [], { select, replace: () => undefined });
    expect(visits).toHaveLength(2);
    expect(output.toString()).toBe(doc);
  });

  it('never hands replace a string that select did not pick', async () => {
    const { visits, prefixes } = await run(doc, [], { select, replace: toUrl });
    expect(visits.every((visit) => visit.value.startsWith('data:image/'))).toBe(true);
    // select sees every string value and no key.
    expect(prefixes.map((seen) => seen.prefix)).toEqual([
      'holiday',
      'data:image/png;b',
      'data: not this',
      'https://example.',
      'data:image/jpeg;',
    ]);
  });

  it('writes a replacement JSON-encoded, whatever it holds', async () => {
    const { output } = await run('["data:x"]', [], {
      select: () => true,
      replace: () => 'say "hi"\n\u2028😀',
    });
    expect(output.toString()).toBe(JSON.stringify(['say "hi"\n\u2028😀']));
  });

  it('waits for a slow replace and keeps the order of the document', async () => {
    const input = JSON.stringify({ a: ['data:1', 'keep', 'data:2'], b: 'data:3' });
    const { output } = await run(input, [7, 19], {
      replace: async ({ value }) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return value.toUpperCase();
      },
    });
    expect(JSON.parse(output.toString())).toEqual({ a: ['DATA:1', 'keep', 'DATA:2'], b: 'DATA:3' });
  });

  it('gives the same result for a big document in random chunk sizes', async () => {
    const image = `data:image/png;base64,${Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256)).toString('base64')}`;
    const records = Array.from({ length: 300 }, (_, i) => ({
      id: i,
      name: `photo ${i} – ünïcödé 😀 "quoted"`,
      photo: i % 3 === 0 ? image : `https://example.com/${i}.png`,
      tags: ['a', 'b'],
      score: -i / 7,
      ok: i % 2 === 0,
    }));
    // Tabs in the indent, and every '/' escaped as some encoders do: formatting that must survive.
    const bytes = Buffer.from(JSON.stringify({ records }, null, '\t ').replaceAll('/', '\\/'));
    const whole = await run(bytes, [], { replace: toUrl });
    const next = random(42);
    for (let round = 0; round < 20; round++) {
      const cuts: number[] = [];
      for (let at = 1 + Math.floor(next() * 300); at < bytes.length; at += 1 + Math.floor(next() * 300)) {
        cuts.push(at);
      }
      const { output } = await run(bytes, cuts, { replace: toUrl });
      expect(output.equals(whole.output), `round ${round}`).toBe(true);
    }
    expect(whole.visits.every((visit) => visit.value === image)).toBe(true);
    const parsed = JSON.parse(whole.output.toString()) as { records: { photo: string }[] };
    expect(parsed.records.map((record) => record.photo)).toEqual(
      records.map((record) => (record.photo === image ? url(image) : record.photo)),
    );
  });
});

describe('rewriteJsonStrings paths and prefixes', () => {
  it('reports where each string value sits', async () => {
    const doc = '{"a":{"b\\u0022c":["x",{"d":"y"}],"é":"z"},"e":[[],["w"]]}';
    const { prefixes } = await run(doc, [], { select: () => false });
    expect(prefixes).toEqual([
      { path: ['a', 'b"c', 0], prefix: 'x' },
      { path: ['a', 'b"c', 1, 'd'], prefix: 'y' },
      { path: ['a', 'é'], prefix: 'z' },
      { path: ['e', 1, 0], prefix: 'w' },
    ]);
  });

  it('gives the top-level string an empty path', async () => {
    const { visits } = await run('"data:image/png;base64,AA=="', [], { replace: () => 'u' });
    expect(visits).toEqual([{ path: [], value: 'data:image/png;base64,AA==' }]);
  });

  it('shows select the raw prefix, and never cuts a UTF-8 character in it', async () => {
    // 15 bytes of ASCII, then a 4-byte character: the prefix runs to the end of it.
    const doc = '["abcdefghijklmno😀pqrs","\\/\\/escaped\\/still\\/","short"]';
    for (const cut of everyByte(Buffer.byteLength(doc))) {
      const { prefixes } = await run(doc, [cut], { select: () => false });
      expect(
        prefixes.map((seen) => seen.prefix),
        `split at ${cut}`,
      ).toEqual(['abcdefghijklmno😀', '\\/\\/escaped\\/sti', 'short']);
    }
  });

  it('reads thousands of distinct keys and values right, however they collide in its cache', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}`);
    const doc = JSON.stringify(
      Object.fromEntries(keys.map((key) => [key, key.slice(0, 1 + (key.length >> 1))])),
    );
    const { prefixes } = await run(doc, [], { select: () => false });
    expect(prefixes).toEqual(
      keys.map((key) => ({ path: [key], prefix: key.slice(0, 1 + (key.length >> 1)) })),
    );
  });

  it('keeps its own copy of what it holds across chunks, as the input may reuse its buffer', async () => {
    const doc = Buffer.from('{"a long key":"data:image/png;base64,AAAA","b":"data:image/gif;base64,R0lG"}');
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const buffer = Buffer.alloc(5);
      for (let at = 0; at < doc.length; at += buffer.length) {
        buffer.fill(0x20);
        doc.copy(buffer, 0, at, at + buffer.length);
        yield buffer.subarray(0, Math.min(buffer.length, doc.length - at));
      }
    }
    const visits: JsonStringVisit[] = [];
    await rewriteJsonStrings(reusing(), {
      select: (_path, prefix) => prefix.startsWith('data:'),
      replace: (visit) => {
        visits.push(visit);
        return undefined;
      },
    });
    expect(visits).toEqual([
      { path: ['a long key'], value: 'data:image/png;base64,AAAA' },
      { path: ['b'], value: 'data:image/gif;base64,R0lG' },
    ]);
  });

  it('decodes multi-byte characters and escapes that span chunks', async () => {
    const doc = '{"k\\u00e9y😀":"data:é\\u00e9\\ud83d\\ude00😀\\n✓"}';
    for (const cut of everyByte(Buffer.byteLength(doc))) {
      const { visits } = await run(doc, [cut]);
      expect(visits, `split at ${cut}`).toEqual([{ path: ['kéy😀'], value: 'data:éé😀😀\n✓' }]);
    }
  });
});

describe('rewriteJsonStrings refusing what is not JSON', () => {
  const cases: [string, string | Uint8Array, number][] = [
    ['empty input', '', 0],
    ['only whitespace', '  \n', 3],
    ['an unclosed object', '{"a":1', 6],
    ['an unclosed array', '[1,2', 4],
    ['an unclosed string', '["abc', 5],
    ['a trailing comma in an array', '[1,]', 3],
    ['a trailing comma in an object', '{"a":1,}', 7],
    ['a missing colon', '{"a" 1}', 5],
    ['a missing comma', '[1 2]', 3],
    ['a mismatched bracket', '[1}', 2],
    ['a key that is not a string', '{a:1}', 1],
    ['a single-quoted string', "['a']", 1],
    ['a leading zero', '[01]', 1],
    ['a lone minus', '-', 1],
    ['a fraction without digits', '1.', 2],
    ['an exponent without digits', '1e+', 3],
    ['a leading plus', '+1', 0],
    ['a misspelt literal', 'nul', 3],
    ['a wrong literal', 'trve', 2],
    ['capitalised literal', 'True', 0],
    ['garbage after the value', '{} x', 3],
    ['two values', '1 2', 2],
    ['a raw newline in a string', '"a\nb"', 2],
    ['a raw tab in a key', '{"a\tb":1}', 3],
    ['an unknown escape', '"\\x"', 1],
    ['a short \\u escape', '"\\u12"', 5],
    ['a lone high surrogate', '"\\ud83d"', 1],
    ['a high surrogate then text', '"\\ud83dx"', 1],
    ['a lone low surrogate', '"\\ude00"', 1],
    ['invalid UTF-8', Buffer.from([0x22, 0xff, 0x22]), 1],
    ['a truncated UTF-8 character', Buffer.from([0x22, 0xe2, 0x9c, 0x22]), 3],
    ['an overlong UTF-8 encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22]), 1],
    ['an overlong 3-byte UTF-8 encoding', Buffer.from([0x22, 0xe0, 0x80, 0xaf, 0x22]), 2],
    ['an overlong 4-byte UTF-8 encoding', Buffer.from([0x22, 0xf0, 0x80, 0x80, 0xaf, 0x22]), 2],
    ['UTF-8 beyond U+10FFFF', Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]), 2],
    ['a UTF-8 encoded surrogate', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 2],
    ['a byte order mark after the start', ' \ufeff1', 1],
    ['a broken byte order mark', Buffer.from([0xef, 0xbb, 0x31]), 2],
  ];

  it.each(cases)('refuses %s', async (_name, doc, offset) => {
    const bytes = bytesOf(doc);
    let whole: InvalidJsonError | undefined;
    for (const cuts of [[], everyByte(bytes.length)]) {
      const error = await run(bytes, cuts, { select: () => true }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InvalidJsonError);
      expect(error).toMatchObject({ name: 'InvalidJsonError', offset });
      expect((error as Error).message).toContain(`at byte ${offset}`);
      if (whole) expect((error as Error).message).toBe(whole.message);
      whole = error as InvalidJsonError;
    }
  });

  it('says what it found and what it expected', async () => {
    await expect(run('{"a":[1,2}')).rejects.toThrow("unexpected '}' at byte 9, expected ',' or ']'");
    await expect(run('["abc')).rejects.toThrow(
      'unexpected end of input at byte 5, expected the end of the string that starts at byte 1',
    );
  });

  it('refuses a key beyond the limit, and nesting beyond the limit', async () => {
    const key = 'k'.repeat(MAX_KEY_BYTES + 1);
    await expect(run(`{"${key}":1}`)).rejects.toThrow(JsonLimitError);
    await expect(run(`{"${key}":1}`, [1000, 40_000])).rejects.toMatchObject({
      name: 'JsonLimitError',
      offset: 1,
    });
    // At the limits, the document passes through whole.
    const longest = `{"${key.slice(1)}":1}`;
    expect((await run(longest, [1000, 40_000])).output.toString()).toBe(longest);
    await expect(run('['.repeat(MAX_DEPTH + 1))).rejects.toMatchObject({ name: 'JsonLimitError' });
    const deep = '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH);
    expect((await run(deep)).output.toString()).toBe(deep);
  });
});
