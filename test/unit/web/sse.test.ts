import { describe, expect, it } from 'vitest';
import { type SseMessage, SseParser } from '../../../web/sse.js';

/** Everything the parser makes of `chunks`, fed one after another. */
function parse(...chunks: string[]): SseMessage[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

/** `text` cut into pieces of `size` characters. */
function pieces(text: string, size: number): string[] {
  return Array.from({ length: Math.ceil(text.length / size) }, (_, index) =>
    text.slice(index * size, (index + 1) * size),
  );
}

const STREAM = [
  ': connected',
  '',
  'id: u1:ingested',
  'event: image.ingested',
  'data: {"type":"image.ingested",',
  'data: "uploadId":"u1"}',
  '',
  ': heartbeat',
  '',
  'id: i1:ready:v1:u1',
  'event: image.ready',
  'data: {"type":"image.ready"}',
  '',
  '',
].join('\n');

const EXPECTED: SseMessage[] = [
  { id: 'u1:ingested', event: 'image.ingested', data: '{"type":"image.ingested",\n"uploadId":"u1"}' },
  { id: 'i1:ready:v1:u1', event: 'image.ready', data: '{"type":"image.ready"}' },
];

describe('the demo page’s server-sent events parser', () => {
  it('reads ids, event names and multi-line data, and skips comments (heartbeats)', () => {
    expect(parse(STREAM)).toEqual(EXPECTED);
  });

  it.each([1, 2, 3, 7, 16, 64])('makes the same messages of the stream cut every %i characters', (size) => {
    expect(parse(...pieces(STREAM, size))).toEqual(EXPECTED);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('takes %s for a line break, also when a chunk ends between CR and LF', (_, newline) => {
    const text = STREAM.replaceAll('\n', newline);
    expect(parse(text)).toEqual(EXPECTED);
    expect(parse(...pieces(text, 1))).toEqual(EXPECTED);
    // Every cut right after a CR, so the LF of a CRLF always starts the next chunk.
    expect(parse(...text.split(/(?<=\r)/))).toEqual(EXPECTED);
  });

  it('keeps a message whose blank line has not arrived for the next chunk', () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\nevent: image.ready\ndata: {}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '1', event: 'image.ready', data: '{}' }]);
  });

  it('names an unnamed event `message`, keeps the last id for later messages, and ignores unknown fields', () => {
    expect(parse('id: 7\ndata: a\n\nretry: 5000\nfoo: bar\ndata: b\n\n')).toEqual([
      { id: '7', event: 'message', data: 'a' },
      { id: '7', event: 'message', data: 'b' },
    ]);
  });

  it('strips one space after the colon only, takes a field without a colon as empty, and drops a byte-order mark', () => {
    expect(parse('\uFEFFdata:  two spaces\ndata\ndata:none\n\n')).toEqual([
      { id: '', event: 'message', data: ' two spaces\n\nnone' },
    ]);
  });

  it('dispatches nothing for a message without data, and forgets its event name', () => {
    expect(parse('event: image.ready\n\ndata: x\n\n')).toEqual([{ id: '', event: 'message', data: 'x' }]);
  });

  it('ignores an id holding NUL, as EventSource does', () => {
    expect(parse('id: 1\ndata: a\n\nid: 2\u0000\ndata: b\n\n').map((message) => message.id)).toEqual([
      '1',
      '1',
    ]);
  });
});
