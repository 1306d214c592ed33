import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  RetryableError,
  TooLargeError,
  UnauthorizedError,
  UnsupportedImageError,
  ValidationError,
} from '../../lambdas/core/errors.js';
import { errorResult } from '../../lambdas/handlers/http.js';

const parse = (result: ReturnType<typeof errorResult>) => ({
  status: result.statusCode,
  ...JSON.parse(result.body),
});

describe('HTTP error mapping', () => {
  it.each([
    [new ValidationError('bad size', 'size'), 400, 'invalid_request'],
    [new TooLargeError('too big', 'size'), 413, 'too_large'],
    [new UnauthorizedError('who are you'), 401, 'unauthorized'],
    [new NotFoundError('nothing here'), 404, 'not_found'],
    [new ConflictError('upload_exists', 'lost the race'), 409, 'conflict'],
    [new UnsupportedImageError('not an image'), 415, 'unsupported_image'],
    [new RetryableError('dependency_unavailable', 'dynamo throttled'), 503, 'dependency_unavailable'],
    [new RetryableError('render_in_progress', 'another request renders it'), 503, 'render_in_progress'],
  ])('maps %s to %i', (error, status, code) => {
    const answer = parse(errorResult(error));
    expect(answer.status).toBe(status);
    expect(answer.error).toMatchObject({ code, message: error.message });
    expect(errorResult(error).headers['content-type']).toBe('application/json');
  });

  it('gives a conflict’s reason, for clients to decide on', () => {
    const answer = parse(errorResult(new ConflictError('upload_not_in_progress', 'aborted')));
    expect(answer).toEqual({
      status: 409,
      error: { code: 'conflict', reason: 'upload_not_in_progress', message: 'aborted' },
    });
  });

  it('names the offending field of a validation error', () => {
    expect(parse(errorResult(new ValidationError('x', 'size'))).error.field).toBe('size');
  });

  it('never serialises an unexpected error or its context', () => {
    const secret = new Error('connect ECONNREFUSED 10.0.0.5:443 table=prod-catalog');
    const answer = parse(errorResult(secret));
    expect(answer).toEqual({ status: 500, error: { code: 'internal_error', message: 'internal error' } });
    const contextual = parse(
      errorResult(new ConflictError('upload_exists', 'lost', { table: 'prod-catalog' })),
    );
    expect(JSON.stringify(contextual)).not.toContain('prod-catalog');
  });

  it('keeps the error name and context for logs', () => {
    const error = new RetryableError(
      'dependency_unavailable',
      'throttled',
      { operation: 'put' },
      { cause: new Error('root') },
    );
    expect(error.name).toBe('RetryableError');
    expect(error.reason).toBe('dependency_unavailable');
    expect(error.context).toEqual({ operation: 'put' });
    expect((error.cause as Error).message).toBe('root');
  });
});
