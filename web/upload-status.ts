import type { PipelineEvent } from '../lambdas/core/events.js';
import { type ApiClient, isAbort, type UploadStatus, type UploadView } from './api.js';

/**
 * What an upload's row shows: its status (or that the bytes were in the library already) and the
 * API's words for it.
 */
export interface UploadUpdate {
  status: UploadStatus | 'duplicate' | 'error';
  message: string;
}

/** One file's way through the pipeline, from before its upload id is known. */
export interface UploadWatch {
  /** Its bytes are in S3 under `uploadId`: from here its row follows the upload's events. */
  follow(uploadId: string): void;
}

interface FollowedUpload {
  show(update: UploadUpdate): void;
  /** How far the row has got (see `STAGE`): a late answer never moves it back. */
  stage: number;
}

/** An upload's stages in the order it goes through them; the last one is settled. */
const STAGE: Record<UploadUpdate['status'], number> = {
  error: 0,
  pending: 1,
  processing: 2,
  ready: 3,
  failed: 3,
  rejected: 3,
  duplicate: 3,
};
const SETTLED = 3;

/** Uploads whose events are kept until a row claims them; older ones are forgotten first. */
const UNCLAIMED_UPLOADS = 200;

/**
 * Shows each upload's progress through ingest and rendering from the owner's event stream (one per
 * page: `followEventStream`), without polling `GET /v1/uploads/{uploadId}`. Two races are handled:
 * an upload's events may come before the page learns its id from Uppy (they wait here, by upload
 * id, for the row to claim them), and the stream may not have been connected the whole time since
 * the file was added (it was down, or dropped and came back). Events are not replayed, so such a row
 * reads its upload once through the API to catch up, and hears the rest on the stream.
 */
export class UploadFollower {
  /** Connections made so far: a row added under the current one has missed none of its events. */
  #connection = 0;
  #connected = false;
  /** Rows not settled yet, by upload id. */
  readonly #open = new Map<string, FollowedUpload>();
  readonly #unclaimed = new Map<string, PipelineEvent[]>();

  /**
   * @param showImage puts an image the API was read for on its card: the gallery hears only events,
   * and a caught-up upload's were missed.
   */
  constructor(
    private readonly api: Pick<ApiClient, 'getUpload'>,
    private readonly showImage: (imageId: string) => void,
  ) {}

  /** A file was added: its row, which `show` updates, follows it once the upload has an id. */
  watch(show: (update: UploadUpdate) => void): UploadWatch {
    const since = this.#connected ? this.#connection : undefined;
    return {
      follow: (uploadId) => {
        const upload: FollowedUpload = { show, stage: 0 };
        this.#open.set(uploadId, upload);
        this.#advance(uploadId, upload, { status: 'pending', message: '' });
        for (const event of this.#unclaimed.get(uploadId) ?? []) this.hear(event);
        this.#unclaimed.delete(uploadId);
        // Connected since before the file was added: every event of its upload was heard.
        const heardAll = this.#connected && since === this.#connection;
        if (this.#connected && !heardAll && this.#open.has(uploadId)) void this.#catchUp(uploadId);
      },
    };
  }

  /** The stream is (re)connected: rows that may have missed events while it was down catch up. */
  connected(): void {
    this.#connection++;
    this.#connected = true;
    for (const uploadId of this.#open.keys()) void this.#catchUp(uploadId);
  }

  disconnected(): void {
    this.#connected = false;
  }

  hear(event: PipelineEvent): void {
    const upload = this.#open.get(event.uploadId);
    const update = updateFor(event);
    if (!update) return;
    if (upload) {
      this.#advance(event.uploadId, upload, update);
      return;
    }
    const kept = this.#unclaimed.get(event.uploadId) ?? [];
    this.#unclaimed.delete(event.uploadId);
    this.#unclaimed.set(event.uploadId, [...kept, event]);
    const oldest = this.#unclaimed.keys().next().value;
    if (this.#unclaimed.size > UNCLAIMED_UPLOADS && oldest !== undefined) this.#unclaimed.delete(oldest);
  }

  async #catchUp(uploadId: string): Promise<void> {
    try {
      const view = await this.api.getUpload(uploadId);
      const upload = this.#open.get(uploadId);
      if (!upload) return;
      if (view.imageId) this.showImage(view.imageId);
      this.#advance(uploadId, upload, updateFromView(view));
    } catch (error) {
      // Still followed: the stream may yet tell, and the next connection catches up again.
      if (!isAbort(error))
        this.#open.get(uploadId)?.show({
          status: 'error',
          message: `Lost track of the upload: ${(error as Error).message}`,
        });
    }
  }

  #advance(uploadId: string, upload: FollowedUpload, update: UploadUpdate): void {
    const stage = STAGE[update.status];
    if (stage <= upload.stage) return;
    upload.stage = stage;
    upload.show(update);
    if (stage === SETTLED) this.#open.delete(uploadId);
  }
}

/** What an event says about its upload; nothing for a deletion, which is the gallery's business. */
function updateFor(event: PipelineEvent): UploadUpdate | undefined {
  switch (event.type) {
    case 'image.ingested':
      // The owner's link was made by an earlier upload: these bytes were in the library already.
      if (event.image.uploadId !== event.uploadId) return { status: 'duplicate', message: '' };
      return { status: event.image.status, message: '' };
    case 'image.ready':
      return { status: 'ready', message: '' };
    case 'image.failed':
      return { status: 'failed', message: `${event.reason}: ${event.message}` };
    case 'upload.rejected':
      return { status: 'rejected', message: `${event.reason}: ${event.message}` };
    case 'image.deleted':
      return undefined;
  }
}

function updateFromView(view: UploadView): UploadUpdate {
  return { status: view.status, message: [view.reason, view.message].filter(Boolean).join(': ') };
}
