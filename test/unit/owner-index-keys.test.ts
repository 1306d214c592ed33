import { describe, expect, it } from 'vitest';
import { catalogKeys } from '../../lambdas/adapters/aws/catalog-table.js';
import { indexTerm } from '../../lambdas/core/index-terms.js';

describe("an owner's index partition", () => {
  it('cannot be spelt by another owner and term, whatever `#` they hold', () => {
    const sha = 'a'.repeat(64);
    // Unencoded, both would be `INDEX#alice#tag:x#word:y`.
    const mine = catalogKeys.indexEntry('alice#tag:x', indexTerm.word('y'), sha);
    const probe = catalogKeys.indexEntry('alice', indexTerm.tag('x#word:y'), sha);
    expect(mine.pk).not.toBe(probe.pk);
    expect(mine.pk).toBe('INDEX#alice%23tag%3Ax#word:y');
  });

  it('keeps plain owner ids readable', () => {
    expect(catalogKeys.indexEntry('user-42', indexTerm.tag('dog'), 'b'.repeat(64)).pk).toBe(
      'INDEX#user-42#tag:dog',
    );
  });
});
