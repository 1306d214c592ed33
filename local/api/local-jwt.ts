import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Who the local tokens say issued them and who they are for: what the API's JWT authorizer checks. */
export const LOCAL_ISSUER = 'https://aperture.local/';
export const LOCAL_AUDIENCE = 'aperture-local';
const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
/** API Gateway's JWT authorizer tolerates this much clock skew. */
const CLOCK_SKEW_SECONDS = 60;

export type JwtClaims = Record<string, unknown> & { sub: string; iss: string; aud: string; exp: number };

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * Plays the identity provider and API Gateway's JWT authorizer for the local runtime: RS256 tokens
 * signed with a key kept in the data dir (so tokens outlive a restart, and `npm start -- --fresh`
 * revokes them all), checked for signature, issuer, audience and lifetime exactly as the authorizer
 * checks a real provider's.
 */
export class LocalJwt {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
  ) {}

  /** The key kept in a local data dir (the one `npm start` and `npm run token` share). */
  static inDataDir(dataDir: string): Promise<LocalJwt> {
    return LocalJwt.open(join(dataDir, 'jwt-signing-key.pem'));
  }

  /** The key at `keyFile`, made (readable by the owner only) if there is none yet. */
  static async open(keyFile: string): Promise<LocalJwt> {
    let pem: string;
    try {
      pem = await readFile(keyFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await mkdir(dirname(keyFile), { recursive: true });
      // `wx`: two processes starting at once keep whichever key was written first.
      await writeFile(keyFile, pem, { mode: 0o600, flag: 'wx' }).catch(async (writeError) => {
        if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
        pem = await readFile(keyFile, 'utf8');
      });
    }
    const privateKey = createPrivateKey(pem);
    return new LocalJwt(privateKey, createPublicKey(privateKey));
  }

  /** A bearer token for `owner` (its `sub`), valid for 12 hours. */
  issue(owner: string, now = new Date()): string {
    const iat = Math.floor(now.getTime() / 1000);
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const claims = {
      sub: owner,
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
      iat,
      exp: iat + TOKEN_LIFETIME_SECONDS,
    };
    const payload = base64url(JSON.stringify(claims));
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), this.privateKey);
    return `${header}.${payload}.${base64url(signature)}`;
  }

  /** The claims of a valid token, or undefined for anything else (as the authorizer answers 401). */
  verify(token: string, now = new Date()): JwtClaims | undefined {
    const [header, payload, signature, ...rest] = token.split('.');
    if (!header || !payload || !signature || rest.length > 0) return undefined;
    const decoded = parseJson(header);
    if (decoded?.alg !== 'RS256') return undefined;
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      this.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return undefined;
    const claims = parseJson(payload);
    const seconds = now.getTime() / 1000;
    const valid =
      claims !== undefined &&
      typeof claims.sub === 'string' &&
      claims.iss === LOCAL_ISSUER &&
      claims.aud === LOCAL_AUDIENCE &&
      typeof claims.exp === 'number' &&
      claims.exp + CLOCK_SKEW_SECONDS > seconds &&
      (typeof claims.nbf !== 'number' || claims.nbf - CLOCK_SKEW_SECONDS <= seconds);
    return valid ? (claims as JwtClaims) : undefined;
  }
}

function parseJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
