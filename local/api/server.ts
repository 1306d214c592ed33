import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { API_TIMEOUT_SECONDS } from '../../lambdas/contract.js';
import { parseOwner } from '../../lambdas/core/identity.js';
import { httpApiEvent } from '../events/http-api-event.js';
import { lambdaContext } from '../events/lambda-context.js';
import { endpointUrl, listen, stopServer } from '../twin/net.js';
import { type EventFeed, streamOwnerEvents } from './event-stream.js';
import type { JwtClaims, LocalJwt } from './local-jwt.js';
import { pageOrigins } from './page-origins.js';
import { routeMatcher } from './route-matcher.js';

export type ApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Files served as they are, by URL path (the demo page). */
export type StaticFiles = ReadonlyMap<string, { contentType: string; body: Buffer }>;

export interface LocalApiOptions {
  host: string;
  /** 0 lets the OS pick. */
  port: number;
  /** The API function's handler, called with the event API Gateway would send. */
  handler: ApiHandler;
  routeKeys: readonly string[];
  /** Of `routeKeys`, those served without the authorizer, as API Gateway serves a route with none. */
  publicRouteKeys?: readonly string[];
  jwt: LocalJwt;
  /** Served on GET outside the API's routes, with `contentSecurityPolicy`. */
  staticFiles?: StaticFiles;
  contentSecurityPolicy?: string;
  /** The pipeline's events, streamed to their owners at `LOCAL_EVENTS_PATH`; without it the route is 404. */
  events?: EventFeed;
}

export interface LocalApi {
  url: string;
  /** The origins the demo page has here: the only ones CORS admits and the token route serves. */
  origins: readonly string[];
  stop(): Promise<void>;
}

/** The local-only route that hands out tokens; API Gateway has no such thing. */
export const LOCAL_TOKEN_PATH = '/local/token';
/**
 * The local-only route that streams the caller's own events (server-sent events), so the demo page
 * hears them instead of polling; a deployment's apps hear EventBridge or webhooks instead.
 */
export const LOCAL_EVENTS_PATH = '/local/events';
/** API Gateway's largest request payload. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CORS_HEADERS = 'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-content-sha256';

class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/**
 * Plays API Gateway's HTTP API in front of the API handler: CORS preflight, route matching (an
 * unmatched request never reaches the function), the JWT authorizer, the 10 MB payload limit, the
 * v2 event and the structured result, with API Gateway's own answers (`{"message": ...}`) for what
 * it refuses itself. Besides, it serves the demo page, the local token route and the page's event
 * stream. CORS admits the page's own origins only, as a deployment's `allowedOrigins` would name
 * its app.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const match = routeMatcher(options.routeKeys);
  // Known once the server listens, which is before it can take a request.
  let origins: ReadonlySet<string> = new Set();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        const status = error instanceof PayloadTooLargeError ? 413 : 500;
        send(response, status, {
          message: status === 413 ? 'Request Entity Too Large' : 'Internal Server Error',
        });
      } else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://local');
    const origin = request.headers.origin;
    const fromPage = origin !== undefined && origins.has(origin);
    if (fromPage) {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('vary', 'origin');
    }
    if (method === 'OPTIONS' && request.headers['access-control-request-method']) {
      // Another origin's preflight is granted nothing, so its browser sends no request after it.
      response.writeHead(
        204,
        fromPage
          ? {
              'access-control-allow-methods': [
                ...new Set(options.routeKeys.map((key) => key.split(' ')[0])),
              ].join(','),
              'access-control-allow-headers': CORS_HEADERS,
              'access-control-max-age': '3600',
            }
          : {},
      );
      response.end();
      return;
    }
    const body = await readBody(request);
    if (method === 'POST' && url.pathname === LOCAL_TOKEN_PATH) return issueToken(request, body, response);
    if (method === 'GET' && url.pathname === LOCAL_EVENTS_PATH && options.events) {
      const claims = authorize(request, response);
      if (claims) streamOwnerEvents(response, claims.sub, options.events);
      return;
    }

    const route = match(method, url.pathname);
    if (!route) {
      const file = method === 'GET' || method === 'HEAD' ? options.staticFiles?.get(url.pathname) : undefined;
      if (!file) return send(response, 404, { message: 'Not Found' });
      response.writeHead(200, {
        'content-type': file.contentType,
        'content-length': file.body.length,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        ...(options.contentSecurityPolicy
          ? { 'content-security-policy': options.contentSecurityPolicy }
          : {}),
      });
      response.end(method === 'HEAD' ? undefined : file.body);
      return;
    }

    // An open route gets no claims, as API Gateway passes none without an authorizer.
    const claims = options.publicRouteKeys?.includes(route.routeKey) ? {} : authorize(request, response);
    if (!claims) return;
    const event = httpApiEvent(
      {
        method,
        url: request.url ?? '/',
        headers: request.headers,
        body,
        sourceIp: request.socket.remoteAddress ?? '',
      },
      route,
      claims,
    );
    const result = await options.handler(
      event,
      lambdaContext('aperture-api', { timeoutSeconds: API_TIMEOUT_SECONDS }),
    );
    const resultBody = result.body ?? '';
    response.writeHead(result.statusCode ?? 200, {
      ...(result.headers as Record<string, string>),
      'content-length': Buffer.byteLength(resultBody, result.isBase64Encoded ? 'base64' : 'utf8'),
    });
    response.end(Buffer.from(resultBody, result.isBase64Encoded ? 'base64' : 'utf8'));
  }

  /** The token's claims, as the JWT authorizer checks them; else answers 401 as it does. */
  function authorize(request: IncomingMessage, response: ServerResponse): JwtClaims | undefined {
    const claims = options.jwt.verify(bearerToken(request.headers.authorization));
    if (!claims) {
      response.setHeader('www-authenticate', 'Bearer');
      send(response, 401, { message: 'Unauthorized' });
    }
    return claims;
  }

  /**
   * Whoever is answered here can act as any owner, so only the page itself is: not a site the
   * developer visits, nor another server on this machine. CORS alone would not hold that line: a
   * page that DNS rebinding moved onto this address is same-origin to its browser. Tools without a
   * browser send neither header and are answered; they could read the signing key anyway.
   */
  function issueToken(request: IncomingMessage, body: Buffer, response: ServerResponse) {
    if (fromAnotherOrigin(request, origins)) {
      return send(response, 403, {
        error: {
          code: 'forbidden',
          message: `tokens are handed to the demo page only (${[...origins].join(', ')}), not to other origins`,
        },
      });
    }
    let owner: string;
    try {
      owner = parseOwner((JSON.parse(body.toString('utf8')) as { owner?: unknown }).owner);
    } catch {
      return send(response, 400, {
        error: { code: 'invalid_request', message: 'send {"owner": "<printable ASCII>"}' },
      });
    }
    send(response, 200, { token: options.jwt.issue(owner) });
  }

  const port = await listen(server, options.host, options.port);
  const bound = server.address() as AddressInfo;
  origins = new Set(pageOrigins(options.host, bound.address, port));
  return {
    url: endpointUrl(options.host, port),
    origins: [...origins],
    stop: () => stopServer(server),
  };
}

/**
 * Whether a browser says the request comes from a page of another origin. `Sec-Fetch-Site` is the
 * browser's own verdict (`same-site` is another port on this host: still another origin); `Origin`
 * covers browsers that do not send it, and pages that DNS rebinding moved onto this address, which
 * browsers take for same-origin.
 */
function fromAnotherOrigin(request: IncomingMessage, origins: ReadonlySet<string>): boolean {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  return (site !== undefined && site !== 'same-origin') || (origin !== undefined && !origins.has(origin));
}

/** The authorizer's identity source is the Authorization header; a `Bearer ` prefix is optional. */
function bearerToken(header: string | undefined): string {
  return (header ?? '').replace(/^Bearer\s+/i, '').trim();
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
