import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ViewerRequestEvent } from '../../lambdas/edge/viewer-request-code.js';

type Fields = ViewerRequestEvent['request']['headers'];

/**
 * The CloudFront Functions viewer-request event for a request to the local CDN, shaped as CloudFront
 * builds it: header names lowercased, repeated names with every value in `multiValue`, cookies apart
 * from the headers. `uri` is the path as received and `query` what followed its `?`.
 */
export function viewerRequestEvent(request: IncomingMessage, uri: string, query: string): ViewerRequestEvent {
  return {
    version: '1.0',
    context: {
      distributionDomainName: request.headers.host ?? 'localhost',
      distributionId: 'LOCAL',
      eventType: 'viewer-request',
      requestId: randomUUID(),
    },
    viewer: { ip: request.socket.remoteAddress ?? '' },
    request: {
      method: request.method ?? 'GET',
      uri,
      querystring: fields(new URLSearchParams(query)),
      headers: fields(headersOf(request)),
      cookies: fields(cookiesOf(request.headers.cookie)),
    },
  };
}

function fields(pairs: Iterable<[string, string]>): Fields {
  const values = new Map<string, string[]>();
  for (const [name, value] of pairs) values.set(name, [...(values.get(name) ?? []), value]);
  const result: Fields = {};
  for (const [name, [value = '', ...more]] of values) {
    result[name] =
      more.length === 0 ? { value } : { value, multiValue: [value, ...more].map((v) => ({ value: v })) };
  }
  return result;
}

function* headersOf(request: IncomingMessage): Generator<[string, string]> {
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (name === 'cookie') continue;
    for (const value of values ?? []) yield [name, value];
  }
}

function* cookiesOf(header: string | undefined): Generator<[string, string]> {
  for (const pair of header?.split(';') ?? []) {
    const separator = pair.indexOf('=');
    if (separator > 0) yield [pair.slice(0, separator).trim(), pair.slice(separator + 1).trim()];
  }
}
