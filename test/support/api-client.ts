import { createHash } from 'node:crypto';

/** A client of the HTTP API as an app would write one: JSON in and out, bearer token, presigned upload. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** A token from the local runtime's token route. */
  static async forOwner(baseUrl: string, owner: string): Promise<ApiClient> {
    const response = await fetch(`${baseUrl}/local/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ owner }),
    });
    const { token } = (await response.json()) as { token: string };
    return new ApiClient(baseUrl, token);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /**
   * Asks for a presigned upload and sends the bytes with it: a form POST (fields, then the file) or a
   * PUT with the signed headers. Returns the API's answer to the request and S3's status.
   */
  async upload(
    bytes: Buffer,
    options: { contentType: string; filename: string; method: 'POST' | 'PUT' },
  ): Promise<{ status: number; body: Record<string, unknown>; s3Status?: number }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const grant = await this.call('POST', '/v1/uploads', { ...options, size: bytes.length, sha256 });
    if (grant.status !== 201) return grant;
    const { url, fields, headers } = grant.body as {
      url: string;
      fields: Record<string, string>;
      headers: Record<string, string>;
    };
    let response: Response;
    if (options.method === 'POST') {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([new Uint8Array(bytes)], { type: options.contentType }), options.filename);
      response = await fetch(url, { method: 'POST', body: form });
    } else {
      response = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(bytes) });
    }
    await response.arrayBuffer();
    return { ...grant, s3Status: response.status };
  }

  /** Polls an upload until it leaves `pending` and `processing`, or the time is up. */
  async settle(uploadId: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.call('GET', `/v1/uploads/${uploadId}`);
      if (body.status !== 'pending' && body.status !== 'processing') return body;
      if (Date.now() > deadline) throw new Error(`upload ${uploadId} still ${String(body.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
