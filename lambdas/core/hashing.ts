import { createHash } from 'node:crypto';
import { TooLargeError } from './errors.js';

export interface HashedBytes {
  bytes: Buffer;
  sha256: string;
}

/**
 * Reads a stream once, hashing each chunk as it passes: the bytes are held in memory once (for the
 * decoder) and never re-read to hash them. Stops early past `maxBytes`, whatever the sender claimed.
 */
export async function readHashed(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<HashedBytes> {
  const hash = createHash('sha256');
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new TooLargeError(`the object is larger than ${maxBytes} bytes`, 'size', { limit: maxBytes });
    }
    hash.update(chunk);
    parts.push(chunk);
  }
  return { bytes: Buffer.concat(parts, total), sha256: hash.digest('hex') };
}

/** The lowercase hex SHA-256 of bytes already in hand: an image's id when they are its original. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
