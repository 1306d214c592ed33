import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** An HTTP request to the API as it is about to be sent; auth adds headers to it. */
export interface ApiRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Adds the caller's identity to a request: a bearer token, or an AWS signature. */
export type RequestAuth = (request: ApiRequest) => Promise<Record<string, string>>;

/** A JWT from the deployment's issuer (or `npm run token` locally): what the API's JWT authorizer checks. */
export function bearerAuth(token: string): RequestAuth {
  return async () => ({ authorization: `Bearer ${token}` });
}

/**
 * SigV4 for `execute-api`, with the AWS credentials the SDK would find (variables, profiles, SSO,
 * roles): a deployment without `jwt` props authorizes every route by IAM.
 */
export function sigv4Auth(region: string): RequestAuth {
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });
  return async (request) => {
    const query: Record<string, string> = {};
    for (const [name, value] of request.url.searchParams) query[name] = value;
    const signed = await signer.sign({
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
  };
}

/** `https://{id}.execute-api.{region}.amazonaws.com/…`: the region an API URL names, if it names one. */
export function regionOfApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(url).hostname)?.[1];
}
