import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../cli/bulk/pipeline-api.js';
import { bearerAuth, CallerIdentityError, regionOfApiUrl, sigv4Auth } from '../../cli/bulk/request-auth.js';
import { withRetries } from '../../cli/bulk/retry.js';

function policy(waits: number[], attempts = 4) {
  return {
    attempts,
    baseDelayMs: 100,
    maxDelayMs: 350,
    sleep: async (ms: number) => {
      waits.push(ms);
    },
    random: () => 0.5,
  };
}

/** Work that fails with `errors` in turn, then succeeds. */
function failing(errors: Error[]) {
  let calls = 0;
  return {
    calls: () => calls,
    work: async () => {
      calls += 1;
      const error = errors.shift();
      if (error) throw error;
      return 'done';
    },
  };
}

describe('withRetries', () => {
  it('tries transient failures again with a doubling, capped, jittered backoff', async () => {
    const waits: number[] = [];
    const work = failing([
      new ApiError('throttled', 429, 'http_429'),
      new ApiError('down', 503, 'http_503'),
      new ApiError('reset', 0, 'network'),
    ]);
    await expect(withRetries(policy(waits), work.work)).resolves.toBe('done');
    expect(work.calls()).toBe(4);
    // Half of 100, 200, then 400 capped at 350.
    expect(waits).toEqual([50, 100, 175]);
  });

  it('gives up after its tries, with the last error', async () => {
    const work = failing([1, 2, 3].map((n) => new ApiError(`down ${n}`, 500, 'http_500')));
    await expect(withRetries(policy([], 3), work.work)).rejects.toThrow('down 3');
    expect(work.calls()).toBe(3);
  });

  it('never retries what would fail again: a 4xx, or an error that is not the API’s', async () => {
    for (const error of [
      new ApiError('no', 413, 'too_large'),
      new ApiError('who', 401, 'http_401'),
      new Error('bug'),
    ]) {
      const work = failing([error]);
      await expect(withRetries(policy([]), work.work)).rejects.toBe(error);
      expect(work.calls()).toBe(1);
    }
  });
});

describe('request signing for IAM-authorised APIs', () => {
  it('reads the region from an execute-api URL only', () => {
    expect(regionOfApiUrl('https://a1b2c3.execute-api.eu-west-1.amazonaws.com/')).toBe('eu-west-1');
    expect(regionOfApiUrl('https://images.example.com/')).toBeUndefined();
  });

  it('signs method, path, query and body for execute-api with the credentials the SDK finds', async () => {
    const auth = sigv4Auth('eu-west-1');
    const request = (body: string) => ({
      method: 'POST',
      url: new URL('https://a1b2c3.execute-api.eu-west-1.amazonaws.com/v1/uploads?x=1'),
      headers: { 'content-type': 'application/json' },
      body,
    });
    const headers = await auth.headers(request('{"size":1}'));
    // The test environment's credentials (vitest.config.ts), as any SDK client would find them.
    expect(headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${process.env.AWS_ACCESS_KEY_ID}/\\d{8}/eu-west-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$`,
      ),
    );
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['x-amz-content-sha256']).toBe(createHash('sha256').update('{"size":1}').digest('hex'));
    expect(headers.host).toBeUndefined();
    const other = await auth.headers(request('{"size":2}'));
    expect(other.authorization).not.toBe(headers.authorization);
  });
});

describe('who the caller is', () => {
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('is a bearer token’s subject, read without its key (the API checks the signature)', async () => {
    const token = `${segment({ alg: 'RS256' })}.${segment({ sub: 'auth0|ana', aud: 'app' })}.c2ln`;
    expect(await bearerAuth(token).owner()).toBe('auth0|ana');
  });

  it.each([
    ['no JWT', 'not-a-token'],
    ['a payload that is not JSON', 'a.b.c'],
    ['no subject', `${segment({})}.${segment({ aud: 'app' })}.c2ln`],
  ])('is refused for a token with %s', async (_, token) => {
    await expect(bearerAuth(token).owner()).rejects.toThrow(CallerIdentityError);
  });
});
