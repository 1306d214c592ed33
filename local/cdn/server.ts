import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DERIVATIVES_PREFIX } from '../../lambdas/contract.js';
import type { Settings } from '../../lambdas/core/settings.js';
import { CDN_CORS, CDN_RESPONSE_HEADERS } from '../../lambdas/edge/response-headers.js';
import { loadViewerRequest, type ViewerRequestHandler } from '../../lambdas/edge/viewer-request-code.js';
import { endpointUrl, listen, stopServer } from '../twin/net.js';
import { viewerRequestEvent } from './viewer-request-event.js';

export interface LocalCdnOptions {
  host: string;
  /** 0 lets the OS pick. */
  port: number;
  s3: S3Client;
  /** The image bucket; only its `derived/` objects are served. */
  bucket: string;
  settings: Pick<Settings, 'variants'>;
  /**
   * The distribution's fallback origin (the on-demand renderer): asked, by the same path, for what
   * S3 does not have. Without it a missing object is a 404.
   */
  fallbackOrigin?: FallbackOrigin;
}

/** An origin CloudFront fails over to: a path (below the origin path) in, an HTTP answer out. */
export type FallbackOrigin = (
  method: 'GET' | 'HEAD',
  path: string,
) => Promise<{ statusCode: number; headers: Record<string, string>; body: Buffer }>;

export interface LocalCdn {
  /** The CDN base URL, without a trailing slash: `derived/X` is served at `{url}/X`. */
  url: string;
  /** Closes every connection and stops listening. */
  stop(): Promise<void>;
}

/** The local CDN could not start; `cause` keeps the original failure (a port in use, say). */
export class LocalCdnStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalCdnStartError';
  }
}

/**
 * Paths that can only name a key under `derived/`: `/`-separated segments of letters, digits, `-`,
 * `_` and `.`, none empty and none starting with a dot. So no `..`, no percent-encoding (`%2F`), no
 * backslash reaches S3; CloudFront's origin path and bucket policy hold the same line in AWS.
 */
const DERIVATIVE_PATH = /^(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

/**
 * CloudFront for the local runtime: GET and HEAD of the image bucket's derivatives, through the very
 * viewer-request function the distribution runs, with the headers the distribution's policy adds.
 * A missing object goes to the fallback origin (the on-demand renderer) when there is one, else is a
 * 404, as the distribution answers; S3 failing or unreachable is a 502.
 */
export async function startLocalCdn(options: LocalCdnOptions): Promise<LocalCdn> {
  const viewerRequest = loadViewerRequest(options.settings);
  const server = createServer((request, response) => {
    serve(request, response, viewerRequest, options).catch((error: unknown) => {
      // Headers gone out means the body broke off (the viewer left, or S3 mid-stream): cut it short.
      if (response.headersSent) response.destroy(error instanceof Error ? error : undefined);
      else answer(response, 502);
    });
  });
  let port: number;
  try {
    port = await listen(server, options.host, options.port);
  } catch (error) {
    throw new LocalCdnStartError(`The local CDN could not listen on ${options.host}:${options.port}`, {
      cause: error,
    });
  }
  return {
    url: endpointUrl(options.host, port),
    stop: () => stopServer(server),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  viewerRequest: ViewerRequestHandler,
  options: LocalCdnOptions,
): Promise<void> {
  for (const [name, value] of Object.entries(CDN_RESPONSE_HEADERS)) response.setHeader(name, value);
  if (request.headers.origin) response.setHeader('access-control-allow-origin', CDN_CORS.allowOrigin);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return answer(response, 405);
  }
  const url = request.url ?? '';
  const queryAt = url.includes('?') ? url.indexOf('?') : url.length;
  const path = url.slice(0, queryAt);
  if (!DERIVATIVE_PATH.test(path)) return answer(response, 400);

  const result = viewerRequest(viewerRequestEvent(request, path, url.slice(queryAt + 1)));
  if ('statusCode' in result) return answer(response, result.statusCode);
  if (!DERIVATIVE_PATH.test(result.uri)) return answer(response, 400);

  let found: StoredObject;
  try {
    found = await readObject(options.s3, request.method, {
      Bucket: options.bucket,
      Key: `${DERIVATIVES_PREFIX}${result.uri.slice(1)}`,
      IfNoneMatch: request.headers['if-none-match'],
    });
  } catch (error) {
    // The SDK throws for S3's 304 Not Modified as for its 404s; anything else is S3 failing.
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 && options.fallbackOrigin) {
      return failOver(response, await options.fallbackOrigin(request.method, result.uri));
    }
    return answer(response, status === 304 || status === 404 ? status : 502);
  }
  const { metadata, body } = found;
  const headers = {
    'content-type': metadata.ContentType,
    'content-length': metadata.ContentLength,
    'cache-control': metadata.CacheControl,
    etag: metadata.ETag,
    'last-modified': metadata.LastModified?.toUTCString(),
  };
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) response.setHeader(name, value);
  response.writeHead(200);
  if (body) await pipeline(body, response);
  else response.end();
}

/** Serves the fallback origin's answer as CloudFront would: its status, its headers, its body. */
function failOver(response: ServerResponse, fallback: Awaited<ReturnType<FallbackOrigin>>): void {
  for (const [name, value] of Object.entries(fallback.headers)) response.setHeader(name, value);
  response.writeHead(fallback.statusCode);
  response.end(fallback.body);
}

interface StoredObject {
  metadata: Pick<
    HeadObjectCommandOutput,
    'ContentType' | 'ContentLength' | 'CacheControl' | 'ETag' | 'LastModified'
  >;
  /** Absent for HEAD. */
  body?: Readable;
}

/** HEAD asks S3 for the metadata only; GET for the body too, as a Node stream. */
async function readObject(
  s3: S3Client,
  method: 'GET' | 'HEAD',
  object: { Bucket: string; Key: string; IfNoneMatch: string | undefined },
): Promise<StoredObject> {
  if (method === 'HEAD') return { metadata: await s3.send(new HeadObjectCommand(object)) };
  const output = await s3.send(new GetObjectCommand(object));
  if (!(output.Body instanceof Readable)) throw new TypeError('S3 GetObject gave no Node stream');
  return { metadata: output, body: output.Body };
}

/** A status without a body of its own (304, errors); a short text explains errors to a browser. */
function answer(response: ServerResponse, status: number): void {
  response.statusCode = status;
  if (status < 400) {
    response.end();
    return;
  }
  const text = `${status} ${STATUS_CODES[status] ?? ''}\n`;
  response.setHeader('content-type', 'text/plain; charset=utf-8');
  response.setHeader('content-length', Buffer.byteLength(text));
  response.end(text);
}
