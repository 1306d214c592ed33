import type { AwsS3Options } from '@uppy/aws-s3';
import type { Body, Meta } from '@uppy/core/utils';
import { type ApiClient, ApiError, type ListedPart, type MultipartGrant } from './api.js';

type SignRequest = Extract<AwsS3Options<Meta, Body>, { signRequest: unknown }>['signRequest'];
/** One S3 request `@uppy/aws-s3` is about to make, as its `signRequest` option is told it. */
export type S3Request = Parameters<SignRequest>[0];
/** What `signRequest` answers: the URL Uppy sends the request to, and the headers it must carry. */
export type SignedRequest = Awaited<ReturnType<SignRequest>>;
/** The requests of a multipart upload once it exists: its parts, list, complete and abort. */
export type MultipartRequest = Extract<S3Request, { uploadId: string }>;

interface MultipartUpload {
  api: ApiClient;
  key: string;
  size: number;
  partSize: number;
  /** ETag by part number: the parts S3 held when the upload (re)started, and those sent since. */
  parts: Map<number, string>;
}

/**
 * The page's multipart uploads under way, by Aperture's upload id, and the signer `@uppy/aws-s3`
 * calls for each of their S3 requests.
 *
 * Uppy 6 makes every request of a multipart upload itself, to the URL its signer returns, and reads
 * S3's XML answer. Aperture keeps S3's own upload id on the server and lists, completes and aborts
 * through its API (complete checks the parts S3 holds before S3 joins them), so only the parts go
 * from the browser to S3, at URLs the API presigns. For the other requests the signer makes the API
 * call itself and hands Uppy S3's answer as a `data:` URL, which Uppy, unmodified, reads as S3's.
 * Create never reaches the signer: the grant is asked for before Uppy starts (it may say
 * "duplicate"), and Uppy is handed the upload as one to resume.
 */
export class MultipartUploads {
  readonly #uploads = new Map<string, MultipartUpload>();

  /** An upload granted to the owner whose client `api` is; its requests are signed as theirs. */
  add(grant: MultipartGrant, size: number, api: ApiClient): void {
    const { uploadId, key, partSize } = grant;
    this.#uploads.set(uploadId, { api, key, size, partSize, parts: new Map() });
  }

  /**
   * The part size the server chose for a file of `size` bytes. Uppy asks with the size alone; the
   * server chooses from the size alone, so every upload of that size under way has the same one.
   */
  partSize(size: number): number {
    for (const upload of this.#uploads.values()) if (upload.size === size) return upload.partSize;
    throw new Error(`no multipart upload of ${size} bytes is under way`);
  }

  partUploaded(uploadId: string, partNumber: number, etag: string): void {
    this.#uploads.get(uploadId)?.parts.set(partNumber, etag);
  }

  async sign(request: MultipartRequest): Promise<SignedRequest> {
    const upload = this.#uploads.get(request.uploadId);
    if (!upload) throw new Error(`no multipart upload ${request.uploadId} is under way`);
    const { api, key } = upload;
    switch (request.method) {
      case 'PUT': {
        const { url, headers } = await api.signUploadPart(request.uploadId, request.partNumber);
        return { url, headers };
      }
      case 'GET': {
        const listed = await listedParts(api, request.uploadId);
        // What S3 holds is what counts: a part sent whose answer the dropped connection lost is there.
        if (listed) upload.parts = new Map(listed.map(({ PartNumber, ETag }) => [PartNumber, ETag]));
        const xml = [...upload.parts].map(([number, etag]) => partXml(number, etag)).join('');
        return s3Answer(`<ListPartsResult>${xml}</ListPartsResult>`);
      }
      case 'POST': {
        const sent = [...upload.parts]
          .sort(([a], [b]) => a - b)
          .map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
        const { location } = await api.completeUpload(request.uploadId, sent);
        this.#uploads.delete(request.uploadId);
        // Uppy wants both; the location is only reported back in its `upload-success` event.
        return s3Answer(
          `<CompleteMultipartUploadResult><Location>${xmlText(location ?? key)}</Location><Key>${xmlText(key)}</Key></CompleteMultipartUploadResult>`,
        );
      }
      case 'DELETE':
        await api.abortUpload(request.uploadId);
        this.#uploads.delete(request.uploadId);
        // S3 answers an abort with no body.
        return s3Answer('');
    }
  }
}

/**
 * The parts S3 holds, or undefined when the upload is no longer in progress: most likely completed,
 * its answer lost with the connection. Uppy then completes again with the parts it sent, which the API
 * answers as it did the first time (and refuses, saying why, if the upload was aborted instead).
 */
async function listedParts(api: ApiClient, uploadId: string): Promise<ListedPart[] | undefined> {
  try {
    return (await api.listUploadParts(uploadId)).parts;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return undefined;
    throw error;
  }
}

/** S3's answer, as a URL Uppy can request without the network. */
function s3Answer(xml: string): SignedRequest {
  return { url: `data:application/xml,${encodeURIComponent(xml)}` };
}

function partXml(partNumber: number, etag: string): string {
  return `<Part><PartNumber>${partNumber}</PartNumber><ETag>${xmlText(etag)}</ETag></Part>`;
}

/** Uppy's XML reader decodes the five named entities only. */
function xmlText(value: string): string {
  const entities: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&quot;',
    "'": '&apos;',
  };
  return value.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}
