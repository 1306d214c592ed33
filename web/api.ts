/**
 * The browser's side of Aperture's HTTP API: the typed client (`lib/api-client.ts`) as the page
 * calls it, in the page's own terms (its page size, its search filters). The API is the page's own
 * origin; every image URL comes from its answers, so nothing here knows where the CDN is.
 */

import {
  ApertureClient,
  bearer,
  type CompletedUploadView,
  type DuplicateUploadView,
  type ImagePage,
  type ImageView,
  type ListedParts,
  type MultipartGrantView,
  type PartUrlView,
  type SearchPage,
  type SimilarImages,
  type UploadGrantView,
  type UploadRequest,
  type UploadView,
} from '../lib/api-client.js';
import { type SearchFilters, searchQuery } from './search-filters.js';

// The API's JSON, typed by the very modules that build it (type-only: nothing of them is bundled).
export type { Caption, DominantColour, Tag } from '../lambdas/core/enrichment.js';
export type { OutputFormat } from '../lambdas/core/formats.js';
export type {
  EnrichmentView,
  SimilarImageView as SimilarImage,
  VariantView,
} from '../lambdas/core/image-views.js';
export type { PaletteColour } from '../lambdas/core/palette.js';
export type { Placeholder } from '../lambdas/core/render/placeholder.js';
export type { TechnicalMetadata } from '../lambdas/core/render/technical-metadata.js';
export { ApiError } from '../lib/api-client.js';
export type { ImagePage, ImageView, SearchPage, UploadView };
export type ImageStatus = ImageView['status'];
export type UploadStatus = UploadView['status'];
/** `POST /v1/uploads` answered 201: what `@uppy/aws-s3`'s signer hands to the S3 POST. */
export type UploadGrant = UploadGrantView;
/** `POST /v1/uploads` with `method: "MULTIPART"` answered 201: the server holds S3's own upload id. */
export type MultipartGrant = MultipartGrantView;
/** A part S3 holds, as `GET /v1/uploads/{uploadId}/parts` lists it. */
export type ListedPart = ListedParts['parts'][number];

/** Images per page of a listing or a search. */
const PAGE_SIZE = 50;

/** True for the rejection a fetch gets when its signal is aborted, which callers ignore. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * `POST /local/token`: a JWT for `owner`, issued by the local runtime only. Not a route of the API
 * (a deployment has its own issuer), so not one of the client's.
 */
export async function fetchToken(owner: string, signal: AbortSignal): Promise<string> {
  const response = await fetch('/local/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ owner }),
    signal,
  });
  if (!response.ok) throw new Error(`the local runtime issued no token: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** The API as one owner: every call carries their token and stops when `signal` aborts. */
export class ApiClient {
  readonly #client: ApertureClient;

  /** `origin`: the page's own, which serves the API. */
  constructor(
    origin: string,
    token: string,
    readonly signal: AbortSignal,
  ) {
    this.#client = new ApertureClient({ baseUrl: origin, auth: bearer(token), signal });
  }

  createUpload(
    request: UploadRequest & { filename: string },
  ): Promise<UploadGrant | MultipartGrant | DuplicateUploadView> {
    return this.#client.createUpload(request);
  }

  signUploadPart(uploadId: string, partNumber: number): Promise<PartUrlView> {
    return this.#client.signUploadPart(uploadId, partNumber);
  }

  listUploadParts(uploadId: string): Promise<ListedParts> {
    return this.#client.listUploadParts(uploadId);
  }

  /** Idempotent: an upload completed already is answered as if completed now. */
  completeUpload(
    uploadId: string,
    parts: Array<Pick<ListedPart, 'PartNumber' | 'ETag'>>,
  ): Promise<CompletedUploadView> {
    return this.#client.completeUpload(uploadId, { parts });
  }

  /** Aborts a multipart upload still in progress; S3 drops the parts it holds. */
  abortUpload(uploadId: string): Promise<void> {
    return this.#client.abortUpload(uploadId);
  }

  getUpload(uploadId: string): Promise<UploadView> {
    return this.#client.getUpload(uploadId);
  }

  listImages(cursor?: string): Promise<ImagePage> {
    return this.#client.listImages({ limit: String(PAGE_SIZE), ...(cursor ? { cursor } : {}) });
  }

  search(filters: SearchFilters, cursor?: string): Promise<SearchPage> {
    return this.#client.search(searchQuery(filters, { cursor, limit: PAGE_SIZE }));
  }

  similarImages(imageId: string, limit: number): Promise<SimilarImages> {
    return this.#client.similarImages(imageId, { limit: String(limit) });
  }

  getImage(imageId: string): Promise<ImageView> {
    return this.#client.getImage(imageId);
  }

  deleteImage(imageId: string): Promise<void> {
    return this.#client.deleteImage(imageId);
  }
}
