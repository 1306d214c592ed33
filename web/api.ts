/**
 * The browser's side of Aperture's HTTP API: the JSON it reads and one typed call per route. The API
 * is the page's own origin; every image URL comes from its answers, so nothing here knows where the
 * CDN is.
 */

import type { ImageView as CoreImageView, UploadView } from '../lambdas/core/image-views.js';
import type {
  CompletedUploadView,
  ListedPartView,
  MultipartGrantView,
  PartUrlView,
} from '../lambdas/ports/multipart-uploads.js';
import type { UploadGrantView } from '../lambdas/ports/upload-signer.js';
import { type SearchFilters, searchQuery } from './search-filters.js';

// The API's JSON, typed by the very modules that build it (type-only: nothing of them is bundled).
export type { Caption, DominantColour, Tag } from '../lambdas/core/enrichment.js';
export type { OutputFormat } from '../lambdas/core/formats.js';
export type { EnrichmentView, UploadView, VariantView } from '../lambdas/core/image-views.js';
export type { PaletteColour } from '../lambdas/core/palette.js';
export type { Placeholder } from '../lambdas/core/render/placeholder.js';
export type { TechnicalMetadata } from '../lambdas/core/render/technical-metadata.js';
export type ImageStatus = ImageView['status'];
export type UploadStatus = UploadView['status'];

/** `GET /v1/images/{imageId}`. `enrichment` is absent when the deployment does not enrich. */
export type ImageView = CoreImageView;

/** `GET /v1/search`: `semantic` says whether `q` was ranked by meaning rather than matched word by word. */
export interface SearchPage {
  items: ImageView[];
  cursor?: string;
  semantic: boolean;
}

/** One of `GET /v1/images/{imageId}/similar`'s answers; the smaller `distance`, the more alike. */
export type SimilarImage = ImageView & { distance: number };

/** `POST /v1/uploads` answered 201: what `@uppy/aws-s3`'s signer hands to the S3 POST. */
export type UploadGrant = UploadGrantView;

/** `POST /v1/uploads` with `method: "MULTIPART"` answered 201: the server holds S3's own upload id. */
export type MultipartGrant = MultipartGrantView;

/** A part S3 holds, as `GET /v1/uploads/{uploadId}/parts` lists it. */
export type ListedPart = ListedPartView;

/** `POST /v1/uploads` answered 200: the owner already has these bytes. */
export interface DuplicateUpload {
  duplicate: true;
  imageId: string;
}

export interface ImageLink {
  imageId: string;
  collection?: string;
  filename?: string;
  uploadId: string;
  linkedAt: string;
}

export interface ImagePage {
  items: ImageLink[];
  cursor?: string;
}

export interface UploadRequest {
  contentType: string;
  size: number;
  filename: string;
  sha256?: string;
  method: 'POST' | 'MULTIPART';
}

/** A refused call: the API's `{"error": {"code", "message", "field"?}}`, or any other HTTP failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Images per page of a listing or a search. */
const PAGE_SIZE = 50;

const uploadPath = (uploadId: string) => `/v1/uploads/${encodeURIComponent(uploadId)}`;

/** True for the rejection a fetch gets when its signal is aborted, which callers ignore. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** Calls one of the page origin's JSON routes; a 204 resolves to `undefined`. */
async function call<T>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; signal: AbortSignal },
): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (response.status === 204) return undefined as T;
  const answer: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw toApiError(response, answer);
  return answer as T;
}

/**
 * The API's own errors carry a code, as `{"error": {"code", "message", "field"?}}` or flat as
 * `{"error": code, "message", "field"?}`; API Gateway's refusals (401, 404 for an unknown route, 413)
 * are `{"message": ...}` only.
 */
function toApiError(response: Response, answer: unknown): ApiError {
  const body = (answer ?? {}) as { error?: unknown; message?: unknown; field?: unknown };
  const detail = (typeof body.error === 'object' && body.error !== null ? body.error : body) as {
    code?: unknown;
    message?: unknown;
    field?: unknown;
  };
  const code = typeof body.error === 'string' ? body.error : detail.code;
  if (typeof code === 'string' && typeof detail.message === 'string') {
    return new ApiError(
      response.status,
      code,
      detail.message,
      typeof detail.field === 'string' ? detail.field : undefined,
    );
  }
  const text = typeof body.message === 'string' ? body.message : response.statusText;
  return new ApiError(response.status, 'http_error', `${response.status} ${text}`.trim());
}

/** `POST /local/token`: a JWT for `owner`, issued by the local runtime only. */
export async function fetchToken(owner: string, signal: AbortSignal): Promise<string> {
  const { token } = await call<{ token: string }>('POST', '/local/token', { body: { owner }, signal });
  return token;
}

/** The API as one owner: every call carries their token and stops when `signal` aborts. */
export class ApiClient {
  constructor(
    private readonly token: string,
    readonly signal: AbortSignal,
  ) {}

  createUpload(request: UploadRequest): Promise<UploadGrant | MultipartGrant | DuplicateUpload> {
    return this.#call('POST', '/v1/uploads', request);
  }

  signUploadPart(uploadId: string, partNumber: number): Promise<PartUrlView> {
    return this.#call('POST', `${uploadPath(uploadId)}/parts/${partNumber}`);
  }

  listUploadParts(uploadId: string): Promise<{ parts: ListedPart[] }> {
    return this.#call('GET', `${uploadPath(uploadId)}/parts`);
  }

  /** Idempotent: an upload completed already is answered as if completed now. */
  completeUpload(
    uploadId: string,
    parts: Array<Pick<ListedPart, 'PartNumber' | 'ETag'>>,
  ): Promise<CompletedUploadView> {
    return this.#call('POST', `${uploadPath(uploadId)}/complete`, { parts });
  }

  /** Aborts a multipart upload still in progress; S3 drops the parts it holds. */
  abortUpload(uploadId: string): Promise<void> {
    return this.#call('DELETE', uploadPath(uploadId));
  }

  getUpload(uploadId: string): Promise<UploadView> {
    return this.#call('GET', uploadPath(uploadId));
  }

  listImages(cursor?: string): Promise<ImagePage> {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    return this.#call('GET', `/v1/images?${query}`);
  }

  search(filters: SearchFilters, cursor?: string): Promise<SearchPage> {
    return this.#call('GET', `/v1/search?${searchQuery(filters, { cursor, limit: PAGE_SIZE })}`);
  }

  similarImages(imageId: string, limit: number): Promise<{ items: SimilarImage[] }> {
    return this.#call('GET', `/v1/images/${encodeURIComponent(imageId)}/similar?limit=${limit}`);
  }

  getImage(imageId: string): Promise<ImageView> {
    return this.#call('GET', `/v1/images/${encodeURIComponent(imageId)}`);
  }

  deleteImage(imageId: string): Promise<void> {
    return this.#call('DELETE', `/v1/images/${encodeURIComponent(imageId)}`);
  }

  #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(method, path, { token: this.token, body, signal: this.signal });
  }
}
