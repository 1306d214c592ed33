import {
  ApertureClient,
  ApiError,
  type ImageView,
  type UploadGrantView,
  type UploadView,
} from '../../lib/api-client.js';
import type { RequestAuth } from './request-auth.js';

export { ApiError };

/** What `POST /v1/uploads` takes from a bulk client: always PUT, always with the digest. */
export interface UploadRequest {
  contentType: string;
  size: number;
  sha256: string;
  filename?: string;
  collection?: string;
}

/** `GET /v1/uploads/{uploadId}`: `pending` until ingest decides, then `rejected` or the image's status. */
export type UploadStatus = UploadView;

/** `GET /v1/images/{imageId}`. */
export type ImageStatus = ImageView;

/** A request that took longer than this has stalled; it is abandoned and counts as a network failure. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The HTTP API as a bulk client uses it: ask for a presigned upload (or learn the bytes are already
 * there), send the bytes, and follow what ingest makes of them. Every method throws `ApiError`.
 */
export class PipelineApi {
  private readonly client: ApertureClient;

  constructor(
    baseUrl: string,
    private readonly auth: RequestAuth,
  ) {
    this.client = new ApertureClient({
      baseUrl,
      auth: (request) => auth.headers(request),
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  get url(): string {
    return this.client.baseUrl;
  }

  /** Who the API takes the caller for: their images are filed under this owner. */
  owner(): Promise<string> {
    return this.auth.owner();
  }

  /** A presigned PUT for these bytes, or the image the caller already has with this digest. */
  async requestUpload(
    request: UploadRequest,
  ): Promise<{ duplicate: true; imageId: string } | { duplicate: false; grant: UploadGrantView }> {
    const answer = await this.client.createUpload({ ...request, method: 'PUT' });
    if ('duplicate' in answer) return answer;
    if (answer.method === 'MULTIPART') throw new Error('asked for a PUT upload, granted a multipart one');
    return { duplicate: false, grant: answer };
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
    return found(this.client.getUpload(uploadId));
  }

  /** The caller's image with this digest, or undefined when the caller has none: a lookup with no side effect. */
  image(imageId: string): Promise<ImageStatus | undefined> {
    return found(this.client.getImage(imageId));
  }
}

/** A GET whose 404 means "none" (the API answers the same for another owner's as for nobody's). */
async function found<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}
