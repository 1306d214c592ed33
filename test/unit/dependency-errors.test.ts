import { describe, expect, it } from 'vitest';
import { toDomainError, toRefusalError } from '../../lambdas/adapters/aws/dependency-errors.js';
import { DependencyRefusedError, NotFoundError, RetryableError } from '../../lambdas/core/errors.js';

/** What an SDK v3 service exception carries that the mapping reads. */
function serviceError(name: string, status: number, fault: 'client' | 'server') {
  return Object.assign(new Error(`${name} (made up)`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
}

describe('toDomainError', () => {
  it.each([
    [408, 'RequestTimeoutException'],
    [429, 'SomeNewThrottleName'],
  ])('takes status %i for a failure a later attempt can get past, whatever its name', (status, name) => {
    expect(toDomainError(serviceError(name, status, 'client'), 'op')).toBeInstanceOf(RetryableError);
  });

  it("leaves an error already in the domain's words as it is, though it carries a code", () => {
    const refused = new DependencyRefusedError('answer_unusable', 'empty');
    const missing = new NotFoundError('gone');
    expect(toDomainError(refused, 'op')).toBe(refused);
    expect(toRefusalError(missing, 'op')).toBe(missing);
  });
});

describe('toRefusalError', () => {
  it("makes a service's lasting no a refusal, and leaves what is no service's answer untouched", () => {
    const denied = toRefusalError(serviceError('AccessDeniedException', 403, 'client'), 'op', { model: 'm' });
    expect(denied).toBeInstanceOf(DependencyRefusedError);
    expect(denied).toMatchObject({
      reason: 'request_refused',
      code: 'dependency_refused',
      context: { model: 'm', operation: 'op', sdkError: 'AccessDeniedException' },
    });
    const bug = new TypeError('x is undefined');
    expect(toRefusalError(bug, 'op')).toBe(bug);
    expect(toRefusalError(serviceError('InternalServerException', 500, 'server'), 'op')).toBeInstanceOf(
      RetryableError,
    );
  });
});
