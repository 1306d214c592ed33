import { describe, expect, it } from 'vitest';
import { INPUT_FORMAT_NAMES } from '../../lambdas/core/formats.js';
import { sniff } from '../../lambdas/core/sniff.js';
import { makeImage } from '../support/images.js';

const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + compatible.length * 4;
  const box = Buffer.alloc(size);
  box.writeUInt32BE(size, 0);
  box.write(`ftyp${major}\0\0\0\0${compatible.join('')}`, 4, 'latin1');
  return box;
};

describe('magic number sniffing', () => {
  it.each(INPUT_FORMAT_NAMES)('recognises a real %s by its bytes', async (format) => {
    expect(sniff(await makeImage(format))).toEqual({ kind: 'image', format });
  });

  it.each([
    ['AVIF by its major brand', ftyp('avif', 'mif1', 'miaf'), { kind: 'image', format: 'avif' }],
    ['AVIF listed only as a compatible brand', ftyp('mif1', 'avif'), { kind: 'image', format: 'avif' }],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), { kind: 'image', format: 'heic' }],
    ['a generic HEIF still image', ftyp('mif1', 'heic'), { kind: 'image', format: 'heic' }],
    ['an MP4 video', ftyp('isom', 'iso2', 'mp41'), { kind: 'unknown' }],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { kind: 'markup' }],
    [
      'SVG behind a BOM and blank lines',
      Buffer.from('\uFEFF\n\n  <?xml version="1.0"?><svg/>'),
      { kind: 'markup' },
    ],
    ['HTML', Buffer.from('<!DOCTYPE html><script>alert(1)</script>'), { kind: 'markup' }],
    ['plain text', Buffer.from('hello'), { kind: 'unknown' }],
    ['nothing at all', Buffer.alloc(0), { kind: 'unknown' }],
    ['a lone JPEG marker byte', Buffer.from([0xff]), { kind: 'unknown' }],
    ['a PDF', Buffer.from('%PDF-1.7\n'), { kind: 'unknown' }],
    ['a ZIP', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), { kind: 'unknown' }],
    ['RIFF that is not WebP', Buffer.from('RIFF\0\0\0\0WAVEfmt '), { kind: 'unknown' }],
  ])('classifies %s', (_, bytes, expected) => {
    expect(sniff(bytes)).toEqual(expected);
  });

  it('does not read past a truncated ftyp box', () => {
    const box = ftyp('mif1', 'avif');
    box.writeUInt32BE(4096, 0);
    expect(sniff(box)).toEqual({ kind: 'image', format: 'avif' });
  });
});
