import { UnauthorizedError } from './errors.js';

/**
 * Owners key every link and travel as S3 object metadata, which only carries printable ASCII,
 * so an identity outside that alphabet is refused rather than mangled.
 */
const OWNER_PATTERN = /^[\x21-\x7e]{1,256}$/;

export function parseOwner(subject: unknown): string {
  if (typeof subject !== 'string' || !OWNER_PATTERN.test(subject)) {
    throw new UnauthorizedError('a verified identity with a printable subject is required');
  }
  return subject;
}
