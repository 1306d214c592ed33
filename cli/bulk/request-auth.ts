import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiRequest } from '../../lib/api-client.js';

/** The caller's identity: what goes on each request, and who the API takes the caller for. */
export interface RequestAuth {
  /** The headers that carry the identity on this request: a bearer token, or an AWS signature. */
  headers(request: ApiRequest): Promise<Record<string, string>>;
  /** The owner the API files the caller's images under: the token's `sub`, or the principal's ARN. */
  owner(): Promise<string>;
}

/** The caller's identity could not be told: a token that is no JWT, or AWS that would not say. */
export class CallerIdentityError extends Error {
  override readonly name = 'CallerIdentityError';
}

/** A JWT from the deployment's issuer (or `npm run token` locally): what the API's JWT authorizer checks. */
export function bearerAuth(token: string): RequestAuth {
  return {
    headers: async () => ({ authorization: `Bearer ${token}` }),
    owner: async () => jwtSubject(token),
  };
}

/** The `sub` claim, read without checking the signature: the API checks that, this only names the owner. */
function jwtSubject(token: string): string {
  const payload = token.split('.')[1] ?? '';
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    claims = undefined;
  }
  const subject = (claims as { sub?: unknown } | undefined)?.sub;
  if (typeof subject !== 'string' || subject === '') {
    throw new CallerIdentityError('the token is not a JWT with a subject (`sub`), which names its owner');
  }
  return subject;
}

/**
 * SigV4 for `execute-api`, with the AWS credentials the SDK would find (variables, profiles, SSO,
 * roles): a deployment without `jwt` props authorizes every route by IAM, and the caller's principal
 * ARN is the owner.
 */
export function sigv4Auth(region: string): RequestAuth {
  const credentials = defaultProvider();
  const signer = (service: string) =>
    new SignatureV4({ service, region, credentials, sha256: Hash.bind(null, 'sha256') });
  const api = signer('execute-api');
  const sts = signer('sts');
  return {
    async headers(request) {
      const query: Record<string, string> = {};
      for (const [name, value] of request.url.searchParams) query[name] = value;
      const signed = await api.sign({
        method: request.method,
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        ...(request.url.port ? { port: Number(request.url.port) } : {}),
        path: request.url.pathname,
        query,
        headers: { ...request.headers, host: request.url.host },
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      const { host: _host, ...headers } = signed.headers;
      return headers;
    },
    // API Gateway's `userArn` for an IAM caller is the ARN GetCallerIdentity gives: for a role
    // session `arn:aws:sts::{account}:assumed-role/{role}/{session}`, the same across renewed keys.
    async owner() {
      const hostname = `sts.${region}.amazonaws.com`;
      const body = 'Action=GetCallerIdentity&Version=2011-06-15';
      const signed = await sts.sign({
        method: 'POST',
        protocol: 'https:',
        hostname,
        path: '/',
        headers: { host: hostname, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const { host: _host, ...headers } = signed.headers;
      let text: string;
      let status: number;
      try {
        const response = await fetch(`https://${hostname}/`, { method: 'POST', headers, body });
        [text, status] = [await response.text(), response.status];
      } catch (error) {
        throw new CallerIdentityError(
          `STS could not be reached to name the caller: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
      if (status !== 200 || !arn) {
        const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? `HTTP ${status}`;
        throw new CallerIdentityError(`STS GetCallerIdentity refused to name the caller: ${message}`);
      }
      return arn;
    },
  };
}

/** `https://{id}.execute-api.{region}.amazonaws.com/…`: the region an API URL names, if it names one. */
export function regionOfApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(url).hostname)?.[1];
}
