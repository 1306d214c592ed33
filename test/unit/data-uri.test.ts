import { describe, expect, it } from 'vitest';
import { isDataUri, parseDataUri } from '../../cli/bulk/data-uri.js';

const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('isDataUri', () => {
  it.each([
    ['data:image/png;base64,AA==', true],
    ['DATA:image/png;base64,AA==', true],
    ['Data:', true],
    ['data', false],
    [' data:image/png;base64,AA==', false],
    ['https://example.com/data:x', false],
    ['', false],
  ])('%j is %s', (text, expected) => {
    expect(isDataUri(text)).toBe(expected);
  });
});

describe('parseDataUri', () => {
  it.each([
    ['a PNG', `data:image/png;base64,${PNG_HEAD.toString('base64')}`, 'image/png', PNG_HEAD],
    ['upper case', `DATA:IMAGE/PNG;BASE64,${PNG_HEAD.toString('base64')}`, 'image/png', PNG_HEAD],
    [
      'parameters before ;base64',
      'data:image/jpeg;name=a.jpg;charset=x;base64,/9j/',
      'image/jpeg',
      [0xff, 0xd8, 0xff],
    ],
    ['svg, as base64', 'data:image/svg+xml;base64,PHN2Zz4=', 'image/svg+xml', Buffer.from('<svg>')],
    ['one byte with == padding', 'data:image/gif;base64,Rw==', 'image/gif', [0x47]],
    ['two bytes with = padding', 'data:image/gif;base64,R0k=', 'image/gif', [0x47, 0x49]],
    ['one byte without padding', 'data:image/gif;base64,Rw', 'image/gif', [0x47]],
    ['two bytes without padding', 'data:image/gif;base64,R0k', 'image/gif', [0x47, 0x49]],
    [
      'whitespace (MIME line breaks)',
      'data:image/gif;base64,R0lG\r\nODlh\n\t R w = =',
      'image/gif',
      Buffer.from('GIF89aG'),
    ],
    [
      'every base64 character',
      'data:image/x-test;base64,+/09azAZ',
      'image/x-test',
      [0xfb, 0xfd, 0x3d, 0x6b, 0x30, 0x19],
    ],
  ])('reads %s', (_name, text, mediaType, bytes) => {
    expect(parseDataUri(text)).toEqual({ ok: true, mediaType, bytes: Buffer.from(bytes) });
  });

  it.each([
    ['not a data URI', 'https://example.com/a.png', 'malformed', 'does not start with "data:"'],
    ['no comma', 'data:image/png;base64', 'malformed', 'no ","'],
    ['a broken media type', 'data:image png;base64,AA==', 'malformed', '"image png" is not a media type'],
    ['no media type', 'data:;base64,AA==', 'not_an_image', 'text/plain'],
    ['no media type nor base64', 'data:,hello', 'not_an_image', 'text/plain'],
    ['text', 'data:text/plain;base64,aGk=', 'not_an_image', 'text/plain is not an image type'],
    ['a PDF', 'data:application/pdf;base64,JVBERi0=', 'not_an_image', 'application/pdf'],
    [
      'svg as text',
      'data:image/svg+xml;utf8,<svg xmlns="http://www.w3.org/2000/svg"/>',
      'not_base64',
      ';base64',
    ],
    ['percent-encoded svg', 'data:image/svg+xml,%3Csvg%3E', 'not_base64', 'image/svg+xml'],
    ['base64 not last', 'data:image/png;base64;x=y,AA==', 'not_base64', ';base64'],
    ['nothing after the comma', 'data:image/png;base64,', 'empty', 'no bytes'],
    ['only whitespace after the comma', 'data:image/png;base64, \n', 'empty', 'no bytes'],
    ['only padding', 'data:image/png;base64,==', 'bad_base64', 'padding'],
    ['a character outside the alphabet', 'data:image/png;base64,AA!A', 'bad_base64', '"!" at character 2'],
    ['URL-safe base64', 'data:image/png;base64,-_8=', 'bad_base64', '"-" at character 0'],
    ['percent escapes', 'data:image/png;base64,AA%3D%3D', 'bad_base64', '"%" at character 2'],
    ['non-ASCII', 'data:image/png;base64,AAé=', 'bad_base64', 'U+00E9 at character 2'],
    ['a control character', 'data:image/png;base64,AA\u0000A', 'bad_base64', 'U+0000 at character 2'],
    [
      'data after padding',
      'data:image/png;base64,AA==AA==',
      'bad_base64',
      'goes on after "=" (at character 4)',
    ],
    ['padding in the middle', 'data:image/png;base64,A=AA', 'bad_base64', 'goes on after "="'],
    ['too much padding', 'data:image/png;base64,A===', 'bad_base64', 'padding'],
    ['short padding', 'data:image/png;base64,AA=', 'bad_base64', 'padding'],
    ['padding where none is due', 'data:image/png;base64,AAAA=', 'bad_base64', 'padding'],
    ['a cut-off character', 'data:image/png;base64,AAAAA', 'bad_base64', 'cut short'],
  ])('refuses %s', (_name, text, reason, message) => {
    const parsed = parseDataUri(text);
    expect(parsed).toMatchObject({ ok: false, reason });
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });

  it('keeps a message short when the header is huge', () => {
    const parsed = parseDataUri(`data:${'x'.repeat(100_000)},AA==`);
    expect(parsed).toMatchObject({ ok: false, reason: 'malformed' });
    if (!parsed.ok) expect(parsed.message.length).toBeLessThan(200);
  });

  it('decodes a large image exactly', () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256));
    const parsed = parseDataUri(`data:image/webp;base64,${bytes.toString('base64')}`);
    // Buffer#equals: a deep toEqual over 300 000 elements takes seconds.
    expect(parsed.ok && parsed.bytes.equals(bytes)).toBe(true);
  });
});
