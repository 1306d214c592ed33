import type { UploadGrantView } from '../../lambdas/ports/upload-signer.js';
import type { ApiRequest, RequestAuth } from './request-auth.js';

/** What `POST /v1/uploads` takes from a bulk client: always PUT, always with the digest. */
export interface UploadRequest {
  contentType: string;
  size: number;
  sha256: string;
  filename?: string;
  collection?: string;
}

/** `GET /v1/uploads/{uploadId}`: `pending` until ingest decides, then `rejected` or the image's status. */
export interface UploadStatus {
  uploadId: string;
  status: 'pending' | 'rejected' | 'processing' | 'ready' | 'failed';
  imageId?: string;
  reason?: string;
  message?: string;
}

/** The parts of `GET /v1/images/{imageId}` a bulk client reads. */
export interface ImageStatus {
  imageId: string;
  status: 'processing' | 'ready' | 'failed';
  reason?: string;
  message?: string;
  variants: { name: string; fit: string; width: number; height: number; status: string; url?: string }[];
}

/**
 * The API answered with an error, or could not be reached. `transient` says whether the same
 * request may succeed later (throttling, 5xx, the network) and so deserves a retry.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    message: string,
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
    /** The API's `error.code` (`too_large`, `unsupported_image`, …), or `network`. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** A request that took longer than this has stalled; it is abandoned and counts as a network failure. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The HTTP API as a bulk client uses it: ask for a presigned upload (or learn the bytes are already
 * there), send the bytes, and follow what ingest makes of them. Every method throws `ApiError`.
 */
export class PipelineApi {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly auth: RequestAuth,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Who the API takes the caller for: their images are filed under this owner. */
  owner(): Promise<string> {
    return this.auth.owner();
  }

  /** A presigned PUT for these bytes, or the image the caller already has with this digest. */
  async requestUpload(
    request: UploadRequest,
  ): Promise<{ duplicate: true; imageId: string } | { duplicate: false; grant: UploadGrantView }> {
    const { status, body } = await this.call('POST', '/v1/uploads', { ...request, method: 'PUT' });
    if (status === 200 && body.duplicate === true) return { duplicate: true, imageId: String(body.imageId) };
    return { duplicate: false, grant: body as unknown as UploadGrantView };
  }

  /** Sends the bytes where the grant says; S3 checks them against the signed length, type and digest. */
  async sendBytes(grant: UploadGrantView, bytes: Uint8Array): Promise<void> {
    let response: Response;
    try {
      response = await fetch(grant.url, {
        method: 'PUT',
        headers: grant.headers,
        body: bytes,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ApiError(`S3 could not be reached: ${(error as Error).message}`, 0, 'network', {
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? 'upload_failed';
      const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? response.statusText;
      throw new ApiError(`S3 refused the upload: ${code}: ${message}`, response.status, code);
    }
  }

  /** The upload's state, or undefined when the API does not know it (expired long ago, or not the caller's). */
  upload(uploadId: string): Promise<UploadStatus | undefined> {
    return this.find<UploadStatus>(`/v1/uploads/${encodeURIComponent(uploadId)}`);
  }

  /** The caller's image with this digest, or undefined when the caller has none: a lookup with no side effect. */
  image(imageId: string): Promise<ImageStatus | undefined> {
    return this.find<ImageStatus>(`/v1/images/${encodeURIComponent(imageId)}`);
  }

  /** A GET whose 404 means "none" (the API answers the same for another owner's as for nobody's). */
  private async find<T>(path: string): Promise<T | undefined> {
    const { status, body } = await this.call('GET', path, undefined, [404]);
    return status === 404 ? undefined : (body as unknown as T);
  }

  private async call(
    method: string,
    path: string,
    payload?: unknown,
    expected: readonly number[] = [],
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const request: ApiRequest = {
      method,
      url: new URL(`${this.baseUrl}${path}`),
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    };
    let response: Response;
    try {
      response = await fetch(request.url, {
        method,
        headers: { ...request.headers, ...(await this.auth.headers(request)) },
        body: request.body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ApiError(
        `${method} ${path}: the API could not be reached: ${(error as Error).message}`,
        0,
        'network',
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // API Gateway's own answers (a 5xx from its edge, say) need not be JSON; the status says enough.
    }
    if (response.ok || expected.includes(response.status)) return { status: response.status, body };
    const error = (body.error ?? body) as { code?: unknown; message?: unknown };
    const code = typeof error.code === 'string' ? error.code : `http_${response.status}`;
    const message = typeof error.message === 'string' ? error.message : response.statusText;
    throw new ApiError(`${method} ${path}: ${response.status} ${code}: ${message}`, response.status, code);
  }
}
