/**
 * A typed client of Aperture's HTTP API: one method per operation of the OpenAPI document
 * (`docs/openapi.json`, the same names as its `operationId`s), typed by the very zod schemas the
 * routes validate with and answer by (type-only imports: no zod, no Lambda code is loaded with it).
 *
 * It lives in `lib/` because it is the construct package's own counterpart: what an app deploying
 * `ImagePipeline` calls the API with (publishing it needs an `exports` entry in package.json).
 * Both the demo page (bundled for the browser) and the CLI (Node) use it, so it needs nothing but
 * `fetch`: `tsc -p .` checks it against Node's types and `tsc -p web` against the DOM's. How a request carries the caller's identity (a bearer token, a
 * SigV4 signature) is the caller's to plug in.
 */

import type { z } from 'zod';
import type { ApiRouteKey } from '../lambdas/contract.js';
import type { ErrorBody, GatewayErrorBody } from '../lambdas/core/error-body.js';
import type {
  ImagePage,
  ImageView,
  SearchPage,
  SimilarImages,
  UploadView,
} from '../lambdas/core/image-views.js';
import type {
  CompletedUploadView,
  CompleteUploadRequest,
  DuplicateUploadView,
  ListedParts,
  MultipartGrantView,
  PartUrlView,
  UploadGrantView,
} from '../lambdas/core/upload-views.js';
import type { uploadRequestSchema } from '../lambdas/core/uploads.js';
import type {
  createdWebhookViewSchema,
  webhookListSchema,
  webhookRegistrationSchema,
} from '../lambdas/core/webhooks.js';
import type { listQuerySchema } from '../lambdas/handlers/routes/list-images.js';
import type { searchQuerySchema } from '../lambdas/handlers/routes/search-images.js';
import type { similarQuerySchema } from '../lambdas/handlers/routes/similar-images.js';

/** What `POST /v1/uploads` takes. */
export type UploadRequest = z.input<typeof uploadRequestSchema>;
/** Query strings as sent: every value a string, as on the wire. */
export type ListImagesQuery = z.input<typeof listQuerySchema>;
export type SearchQuery = z.input<typeof searchQuerySchema>;
export type SimilarImagesQuery = z.input<typeof similarQuerySchema>;
/** What `POST /v1/webhooks` takes, and answers (the secret, this once). */
export type WebhookRegistration = z.input<typeof webhookRegistrationSchema>;
export type CreatedWebhook = z.output<typeof createdWebhookViewSchema>;
export type WebhookList = z.output<typeof webhookListSchema>;

export type {
  CompletedUploadView,
  CompleteUploadRequest,
  DuplicateUploadView,
  ImagePage,
  ImageView,
  ListedParts,
  MultipartGrantView,
  PartUrlView,
  SearchPage,
  SimilarImages,
  UploadGrantView,
  UploadView,
};

/** An HTTP request to the API as it is about to be sent; an `ApiAuth` adds headers to it. */
export interface ApiRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** The headers that carry the caller's identity on this request: a bearer token, or an AWS signature. */
export type ApiAuth = (request: ApiRequest) => Promise<Record<string, string>>;

/** A JWT from the deployment's issuer (or the local runtime), as the API's JWT authorizer reads it. */
export const bearer =
  (token: string): ApiAuth =>
  async () => ({ authorization: `Bearer ${token}` });

export interface ApiClientOptions {
  /** The API's base URL (`https://{id}.execute-api.{region}.amazonaws.com/`, or the page's origin). */
  baseUrl: string;
  /** Absent: requests go without credentials (only `getOpenApi` is then answered). */
  auth?: ApiAuth;
  /** Aborts every request; its rejection is the abort's own, which callers tell from a failure. */
  signal?: AbortSignal;
  /** A request still unanswered after this long has stalled: it fails as a network error (status 0). */
  timeoutMs?: number;
}

/**
 * The API refused the request (its `error.code`, or `http_{status}` for API Gateway's own refusals),
 * or could not be reached (status 0, code `network`). The message is the API's own, for people.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** Which request, as sent (`GET /v1/uploads/1f…`); absent for an error raised outside the client. */
  readonly request: string | undefined;
  /** On a 400 or 413: the input at fault. */
  readonly field: string | undefined;
  /** On a 409: what the request lost against (`upload_not_in_progress`, ...). */
  readonly reason: string | undefined;

  constructor(
    message: string,
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
    /** The API's `error.code` (`too_large`, `unsupported_image`, ...), `http_{status}` or `network`. */
    readonly code: string,
    options: {
      cause?: unknown;
      request?: string | undefined;
      field?: string | undefined;
      reason?: string | undefined;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.request = options.request;
    this.field = options.field;
    this.reason = options.reason;
  }

  /** Whether the same request may succeed later (throttling, 5xx, the network) and so deserves a retry. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

type PathParameters = Record<string, string | number>;
type Query = Record<string, string | undefined>;

export class ApertureClient {
  readonly baseUrl: string;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** A presigned upload (201), or the caller's image with these bytes when `sha256` names one they have (200). */
  createUpload(request: UploadRequest): Promise<UploadGrantView | MultipartGrantView | DuplicateUploadView> {
    return this.#send('POST /v1/uploads', {}, { body: request });
  }

  getUpload(uploadId: string): Promise<UploadView> {
    return this.#send('GET /v1/uploads/{uploadId}', { uploadId });
  }

  signUploadPart(uploadId: string, partNumber: number): Promise<PartUrlView> {
    return this.#send('POST /v1/uploads/{uploadId}/parts/{partNumber}', { uploadId, partNumber });
  }

  listUploadParts(uploadId: string): Promise<ListedParts> {
    return this.#send('GET /v1/uploads/{uploadId}/parts', { uploadId });
  }

  /** Idempotent: an upload completed already is answered as if completed now. */
  completeUpload(uploadId: string, request: CompleteUploadRequest): Promise<CompletedUploadView> {
    return this.#send('POST /v1/uploads/{uploadId}/complete', { uploadId }, { body: request });
  }

  /** Aborts a multipart upload still in progress; S3 drops the parts it holds. */
  abortUpload(uploadId: string): Promise<void> {
    return this.#send('DELETE /v1/uploads/{uploadId}', { uploadId });
  }

  getImage(imageId: string): Promise<ImageView> {
    return this.#send('GET /v1/images/{imageId}', { imageId });
  }

  listImages(query: ListImagesQuery = {}): Promise<ImagePage> {
    return this.#send('GET /v1/images', {}, { query });
  }

  deleteImage(imageId: string): Promise<void> {
    return this.#send('DELETE /v1/images/{imageId}', { imageId });
  }

  search(query: SearchQuery): Promise<SearchPage> {
    return this.#send('GET /v1/search', {}, { query });
  }

  similarImages(imageId: string, query: SimilarImagesQuery = {}): Promise<SimilarImages> {
    return this.#send('GET /v1/images/{imageId}/similar', { imageId }, { query });
  }

  /** Registers an endpoint for the caller's events; keep the answer's secret, it is not shown again. */
  createWebhook(registration: WebhookRegistration): Promise<CreatedWebhook> {
    return this.#send('POST /v1/webhooks', {}, { body: registration });
  }

  listWebhooks(): Promise<WebhookList> {
    return this.#send('GET /v1/webhooks', {});
  }

  deleteWebhook(webhookId: string): Promise<void> {
    return this.#send('DELETE /v1/webhooks/{webhookId}', { webhookId });
  }

  /** The OpenAPI document; the one call answered without credentials. */
  getOpenApi(): Promise<Record<string, unknown>> {
    return this.#send('GET /v1/openapi.json', {});
  }

  /** The route key, typed by the API's own list, so a route renamed or removed fails to compile here. */
  async #send<T>(
    routeKey: ApiRouteKey,
    parameters: PathParameters,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const [method = '', template = ''] = routeKey.split(' ');
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(String(parameters[name])),
    );
    const url = new URL(`${this.baseUrl}${path}${queryString(options.query ?? {})}`);
    const request: ApiRequest = {
      method,
      url,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    };
    // Errors name the request as sent, ids included, not its route key.
    const name = `${method} ${url.pathname}`;
    const response = await this.#fetch(request, name);
    const text = await response.text();
    let answer: unknown;
    try {
      answer = text ? JSON.parse(text) : undefined;
    } catch {
      // API Gateway's own answers (a 5xx from its edge, say) need not be JSON; the status says enough.
    }
    if (!response.ok) throw refusal(name, response, answer);
    return answer as T;
  }

  async #fetch(request: ApiRequest, name: string): Promise<Response> {
    const { auth, signal, timeoutMs } = this.options;
    const deadline = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(request.url, {
        method: request.method,
        headers: { ...request.headers, ...(await auth?.(request)) },
        body: request.body ?? null,
        signal: signal && deadline ? AbortSignal.any([signal, deadline]) : (signal ?? deadline ?? null),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(`the API could not be reached: ${(error as Error).message}`, 0, 'network', {
        cause: error,
        request: name,
      });
    }
  }
}

/**
 * `?name=value&...` of the values given, percent-encoded: a space as `%20`, never the `+` of
 * `URLSearchParams`, which not every gateway reads as a space.
 */
function queryString(query: Query): string {
  const pairs = Object.entries(query).flatMap(([name, value]) =>
    value === undefined ? [] : [`${encodeURIComponent(name)}=${encodeURIComponent(value)}`],
  );
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

/** The API's `{"error": {...}}`, or API Gateway's `{"message"}`, or whatever else came. */
function refusal(request: string, response: Response, answer: unknown): ApiError {
  const { error } = (answer ?? {}) as Partial<ErrorBody>;
  if (error && typeof error.code === 'string') {
    return new ApiError(error.message, response.status, error.code, {
      request,
      field: error.field,
      reason: error.reason,
    });
  }
  const { message } = (answer ?? {}) as Partial<GatewayErrorBody>;
  const text = typeof message === 'string' ? message : `${response.status} ${response.statusText}`.trim();
  return new ApiError(text, response.status, `http_${response.status}`, { request });
}
