import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { toError } from '@uppy/core/utils';
import { isAbort, type UploadGrant } from './api.js';
import type { Session } from './identity.js';

/** What the page hears about one file on its way into the pipeline. */
export interface UploadTracker {
  /** Share of the bytes sent to S3, 0–1. */
  progress(fraction: number): void;
  /** The owner already has these bytes; nothing is sent. */
  duplicate(imageId: string): void;
  /** The bytes are in S3; ingest takes it from here. */
  uploaded(uploadId: string): void;
  failed(message: string): void;
}

export type TrackUpload = (file: { name: string; size: number }) => UploadTracker;

/**
 * Uppy, unmodified, with `@uppy/aws-s3` sending each file as the POST form the API grants. The grant
 * is asked for in a pre-processor rather than in the signer because the API may answer "duplicate"
 * instead, and a pre-processor may drop a file before any uploader sees it.
 */
export class Uploader {
  readonly #uppy = new Uppy({ autoProceed: true });
  /** Per Uppy file id: who hears about the file and, once granted, where its bytes go. */
  readonly #files = new Map<string, { tracker: UploadTracker; grant?: UploadGrant }>();
  #session: Session | undefined;

  constructor(track: TrackUpload) {
    this.#uppy.addPreProcessor((fileIds) => this.#requestGrants(fileIds));
    this.#uppy.use(AwsS3, {
      shouldUseMultipart: false,
      // The signer is told the requested key and nothing else, so the key Uppy proposes is the file's
      // id. S3 never sees it: the grant's `fields.key` is the key the policy binds.
      generateObjectKey: (file) => file.id,
      signRequest: ({ key }) => this.#grantFor(key),
    });

    this.#uppy.on('file-added', (file) => {
      this.#files.set(file.id, { tracker: track({ name: file.name, size: file.size ?? 0 }) });
    });
    this.#uppy.on('file-removed', (file) => this.#files.delete(file.id));
    this.#uppy.on('restriction-failed', (file, error) => {
      track({ name: file?.name ?? 'file', size: file?.size ?? 0 }).failed(error.message);
    });
    this.#uppy.on('upload-progress', (file, { bytesUploaded, bytesTotal }) => {
      if (file && bytesTotal) this.#files.get(file.id)?.tracker.progress(bytesUploaded / bytesTotal);
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
      this.#files.get(file.id)?.tracker.failed(error.message);
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
    if (!entry || file.isRemote || !file.data) return;
    try {
      if (!session) throw new Error('Not signed in yet: wait for the owner to be signed in.');
      const answer = await session.api.createUpload({
        contentType: file.type,
        size: file.data.size,
        filename: file.name,
        sha256: await sha256Hex(file.data),
        method: 'POST',
      });
      if ('duplicate' in answer) {
        entry.tracker.duplicate(answer.imageId);
        this.#uppy.removeFile(fileId);
      } else {
        entry.grant = answer;
      }
    } catch (error) {
      // An aborted request belongs to an owner the page has left; its files are gone already.
      if (!isAbort(error)) this.#uppy.emit('upload-error', file, toError(error));
    }
  }

  /** The API's 201 answer as it came: `{url, fields, headers}` is what the signer returns. */
  #grantFor(fileId: string): UploadGrant {
    const grant = this.#files.get(fileId)?.grant;
    if (!grant) throw new Error(`no upload was granted for file ${fileId}`);
    return grant;
  }
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
