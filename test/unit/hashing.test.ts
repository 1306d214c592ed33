import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TooLargeError } from '../../lambdas/core/errors.js';
import { readHashed } from '../../lambdas/core/hashing.js';

async function* chunksOf(bytes: Buffer, size: number) {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

describe('hashing while reading', () => {
  it.each([1, 7, 65_536, 1_000_000])(
    'gives the bytes and their SHA-256 whatever the chunk size (%i)',
    async (size) => {
      const bytes = randomBytes(200_003);
      const read = await readHashed(chunksOf(bytes, size), bytes.length);
      expect(read.bytes.equals(bytes)).toBe(true);
      expect(read.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    },
  );

  it('hashes an empty stream as the empty string', async () => {
    const read = await readHashed(chunksOf(Buffer.alloc(0), 1), 10);
    expect(read.sha256).toBe(createHash('sha256').digest('hex'));
  });

  it('stops as soon as the stream passes the limit', async () => {
    let served = 0;
    async function* endless() {
      for (;;) {
        served += 1000;
        yield Buffer.alloc(1000);
      }
    }
    await expect(readHashed(endless(), 5000)).rejects.toThrow(TooLargeError);
    expect(served).toBe(6000);
  });
});
