/**
 * The network under a real AWS SDK v3 client, replaced: every request the client serialised is kept,
 * and each is answered with the next canned HTTP response, which the client then deserialises as it
 * would AWS's. So a test sees the very JSON a service would receive, and the very errors (classes,
 * status, `$fault`) the SDK would raise, without any network.
 */

export interface CannedResponse {
  status: number;
  /** JSON-encoded unless a string or bytes. */
  body: unknown;
}

export interface SentRequest {
  method: string;
  hostname: string;
  path: string;
  headers: Record<string, string>;
  /** The body as JSON, parsed. */
  json: unknown;
}

interface RawRequest {
  method: string;
  hostname: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A response of the given status; for an error, `type` is the exception's name as AWS sends it. */
export function answer(status: number, body: unknown = {}): CannedResponse {
  return { status, body };
}

export function refusal(status: number, type: string, message = `${type} (canned)`): CannedResponse {
  return { status, body: { __type: type, message, Message: message } };
}

function encode(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * Client options for a client that sends nowhere: a fixed region and credentials (signing still runs),
 * and one attempt, so a throttled request reaches the adapter instead of the SDK's own retries.
 */
export function cannedTransport(...responses: CannedResponse[]) {
  const sent: SentRequest[] = [];
  const requestHandler = {
    handle: async (request: RawRequest) => {
      const { body } = request;
      // Decoded, not Buffer.from(): the SDK's JSON bodies warn when a string method (valueOf) is called.
      const text = typeof body === 'string' ? body : body ? new TextDecoder().decode(body as Uint8Array) : '';
      sent.push({
        method: request.method,
        hostname: request.hostname,
        path: request.path,
        headers: request.headers,
        json: text === '' ? undefined : JSON.parse(text),
      });
      const response = responses[sent.length - 1];
      if (!response) throw new Error(`request ${sent.length} was not expected: ${request.path}`);
      return {
        response: {
          statusCode: response.status,
          headers: { 'content-type': 'application/json' },
          body: encode(response.body),
        },
      };
    },
  };
  const options = {
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDCANNED', secretAccessKey: 'canned' },
    maxAttempts: 1,
    requestHandler,
  };
  return { options, sent };
}
