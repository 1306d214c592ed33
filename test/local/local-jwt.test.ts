import { createPrivateKey, sign } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, LocalJwt } from '../../local/api/local-jwt.js';

const keyDir = () => mkdtemp(join(tmpdir(), 'aperture-jwt-'));

/** Re-signs nothing: swaps a token's payload, as a forger without the key would have to. */
function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

describe('local JWTs', () => {
  it('issues tokens its authorizer accepts, with the owner as subject', async () => {
    const jwt = await LocalJwt.inDataDir(await keyDir());
    const claims = jwt.verify(jwt.issue('alice'));
    expect(claims).toMatchObject({ sub: 'alice', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE });
  });

  it('keeps its key between runs, readable by its owner only', async () => {
    const dir = await keyDir();
    const token = (await LocalJwt.inDataDir(dir)).issue('alice');
    expect((await LocalJwt.inDataDir(dir)).verify(token)?.sub).toBe('alice');
    const file = join(dir, 'jwt-signing-key.pem');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });

  it('refuses a token of another key, a forged payload, an expired token and malformed ones', async () => {
    const jwt = await LocalJwt.inDataDir(await keyDir());
    const other = await LocalJwt.inDataDir(await keyDir());
    const token = jwt.issue('alice');
    const claims = jwt.verify(token) ?? {};
    const [header, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    for (const refused of [
      other.issue('alice'),
      withPayload(token, { ...claims, sub: 'mallory' }),
      none,
      `${header}.${payload}`,
      '',
      'not a token',
    ]) {
      expect(jwt.verify(refused), refused).toBeUndefined();
    }
    const tomorrow = new Date(Date.now() + 24 * 60 * 60 * 1000);
    expect(jwt.verify(token, tomorrow)).toBeUndefined();
  });

  it('refuses a token signed with its key but for another audience or issuer, or not yet valid', async () => {
    const dir = await keyDir();
    const jwt = await LocalJwt.inDataDir(dir);
    const key = createPrivateKey(await readFile(join(dir, 'jwt-signing-key.pem'), 'utf8'));
    const now = Math.floor(Date.now() / 1000);
    const valid = { sub: 'alice', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now, exp: now + 600 };
    const signed = (claims: Record<string, unknown>) => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
      return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
    };
    expect(jwt.verify(signed(valid))?.sub).toBe('alice');
    for (const claims of [
      { ...valid, aud: 'someone-else' },
      { ...valid, iss: 'https://elsewhere.example/' },
      { ...valid, nbf: now + 3600 },
      { ...valid, sub: 42 },
      { ...valid, exp: undefined },
    ]) {
      expect(jwt.verify(signed(claims)), JSON.stringify(claims)).toBeUndefined();
    }
  });
});
