import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { NetworkError, toError } from '@uppy/core/utils';
import { isAbort, type MultipartGrant, type UploadGrant } from './api.js';
import type { Session } from './identity.js';
import { MultipartUploads, type S3Request } from './multipart.js';
import { MULTIPART_THRESHOLD_BYTES } from './multipart-threshold.js';

/**
 * Waits before resuming a multipart upload whose connection failed, one per attempt (two minutes in
 * all); when they run out the upload has failed. Counted from the last part that got through. While
 * the browser knows it is offline the page waits for it to be online first, however long that takes.
 */
const RESUME_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000];

/** What the page hears about one file on its way into the pipeline. */
export interface UploadTracker {
  /** Share of the bytes sent to S3, 0–1. */
  progress(fraction: number): void;
  /** The owner already has these bytes; nothing is sent. */
  duplicate(imageId: string): void;
  /** The connection dropped mid-upload; it resumes where it stopped once the browser is online. */
  interrupted(): void;
  /** The bytes are in S3; ingest takes it from here. */
  uploaded(uploadId: string): void;
  failed(message: string): void;
}

export type TrackUpload = (file: { name: string; size: number }) => UploadTracker;

interface TrackedFile {
  tracker: UploadTracker;
  grant?: UploadGrant | MultipartGrant;
  /** Resumes since the last part that got through. */
  resumes: number;
}

/**
 * Uppy, unmodified, with `@uppy/aws-s3` sending each file as the API grants it: a small one as one
 * POST form, a large one as an S3 multipart upload. The grant is asked for in a pre-processor rather
 * than in the signer because the API may answer "duplicate" instead, and a pre-processor may drop a
 * file before any uploader sees it.
 */
export class Uploader {
  readonly #uppy = new Uppy({ autoProceed: true });
  /** Per Uppy file id: who hears about the file and, once granted, where its bytes go. */
  readonly #files = new Map<string, TrackedFile>();
  readonly #multipart = new MultipartUploads();
  #session: Session | undefined;

  constructor(track: TrackUpload) {
    this.#uppy.addPreProcessor((fileIds) => this.#requestGrants(fileIds));
    this.#uppy.use(AwsS3, {
      shouldUseMultipart: (file) => this.#files.get(file.id)?.grant?.method === 'MULTIPART',
      getChunkSize: ({ size }) => this.#multipart.partSize(size),
      // The signer is told the requested key and nothing else, so the key Uppy proposes is the file's
      // id. S3 never sees it: the grant's `fields.key` is the key the policy binds.
      generateObjectKey: (file) => file.id,
      signRequest: (request) =>
        'uploadId' in request ? this.#multipart.sign(request) : this.#grantFor(request),
    });

    this.#uppy.on('file-added', (file) => {
      this.#files.set(file.id, { tracker: track({ name: file.name, size: file.size ?? 0 }), resumes: 0 });
    });
    this.#uppy.on('file-removed', (file) => this.#files.delete(file.id));
    this.#uppy.on('restriction-failed', (file, error) => {
      track({ name: file?.name ?? 'file', size: file?.size ?? 0 }).failed(error.message);
    });
    this.#uppy.on('upload-progress', (file, { bytesUploaded, bytesTotal }) => {
      if (file && bytesTotal) this.#files.get(file.id)?.tracker.progress(bytesUploaded / bytesTotal);
    });
    this.#uppy.on('s3-multipart:part-uploaded', (file, { PartNumber, ETag }) => {
      const entry = this.#files.get(file.id);
      if (!entry?.grant) return;
      entry.resumes = 0;
      this.#multipart.partUploaded(entry.grant.uploadId, PartNumber, ETag);
    });
    // A settled file leaves Uppy, so the same bytes can be picked again (and be found a duplicate).
    this.#uppy.on('upload-success', (file) => {
      const entry = file && this.#files.get(file.id);
      if (!file || !entry?.grant) return;
      entry.tracker.uploaded(entry.grant.uploadId);
      this.#uppy.removeFile(file.id);
    });
    this.#uppy.on('upload-error', (file, error) => {
      if (!file) return;
      const entry = this.#files.get(file.id);
      const delay = RESUME_DELAYS_MS[entry?.resumes ?? 0];
      if (entry?.grant?.method === 'MULTIPART' && lostConnection(error) && delay !== undefined) {
        entry.resumes++;
        entry.tracker.interrupted();
        void this.#resume(file.id, delay);
        return;
      }
      entry?.tracker.failed(error.message);
      this.#uppy.removeFile(file.id);
    });
  }

  /** Later files upload as this owner; whatever the previous owner still had on its way is dropped. */
  useSession(session: Session): void {
    this.#session = session;
    this.#uppy.cancelAll();
  }

  add(files: Iterable<File>): void {
    this.#uppy.addFiles(Array.from(files, (data) => ({ name: data.name, type: data.type, data })));
  }

  async #requestGrants(fileIds: string[]): Promise<void> {
    const session = this.#session;
    await Promise.all(fileIds.map((fileId) => this.#requestGrant(fileId, session)));
  }

  async #requestGrant(fileId: string, session: Session | undefined): Promise<void> {
    const file = this.#uppy.getFile(fileId);
    const entry = this.#files.get(fileId);
    // A resumed upload runs the pre-processors again, and keeps the grant it has.
    if (!entry || entry.grant || file.isRemote || !file.data) return;
    try {
      if (!session) throw new Error('Not signed in yet: wait for the owner to be signed in.');
      const size = file.data.size;
      const answer = await session.api.createUpload({
        contentType: file.type,
        size,
        filename: file.name,
        sha256: await sha256Hex(file.data),
        method: size >= MULTIPART_THRESHOLD_BYTES ? 'MULTIPART' : 'POST',
      });
      if ('duplicate' in answer) {
        entry.tracker.duplicate(answer.imageId);
        this.#uppy.removeFile(fileId);
        return;
      }
      entry.grant = answer;
      if (answer.method === 'MULTIPART') {
        this.#multipart.add(answer, size, session.api);
        // The API created the upload: Uppy is handed it as one to resume, so it lists the parts S3
        // holds (none yet) where it would otherwise create it.
        this.#uppy.setFileState(fileId, { s3Multipart: { uploadId: answer.uploadId, key: answer.key } });
      }
    } catch (error) {
      // An aborted request belongs to an owner the page has left; its files are gone already.
      if (!isAbort(error)) this.#uppy.emit('upload-error', file, toError(error));
    }
  }

  /** The API's 201 answer as it came: `{url, fields, headers}` is what the signer returns. */
  #grantFor(request: S3Request): UploadGrant {
    const grant = this.#files.get(request.key)?.grant;
    if (request.method !== 'PUT' || grant?.method !== 'POST') {
      throw new Error(`no single-part upload was granted for file ${request.key}`);
    }
    return grant;
  }

  /**
   * Once the browser is online and `delayMs` later, sends the file again: Uppy, handed the same
   * upload to resume, lists the parts S3 holds and sends only the others.
   */
  async #resume(fileId: string, delayMs: number): Promise<void> {
    if (!navigator.onLine)
      await new Promise((resolve) => addEventListener('online', resolve, { once: true }));
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    // Gone if the page changed owner meanwhile, with the rest of the previous owner's uploads.
    if (this.#files.has(fileId)) await this.#uppy.retryUpload(fileId);
  }
}

/**
 * Whether a request got no answer at all: the connection failed, not the upload. Uppy's own requests
 * then fail with its `NetworkError` as the cause, the API's calls (fetch) with a TypeError.
 */
function lostConnection(error: Error): boolean {
  return !navigator.onLine || error.cause instanceof NetworkError || error instanceof TypeError;
}

/**
 * Hex SHA-256 of the bytes, so the API can say "you already have this" before any are sent. Browsers
 * offer `crypto.subtle` on secure origins only (loopback counts); elsewhere the hash, optional for
 * the API, is left out.
 */
async function sha256Hex(data: Blob): Promise<string | undefined> {
  if (!isSecureContext) return undefined;
  const digest = await crypto.subtle.digest('SHA-256', await data.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
