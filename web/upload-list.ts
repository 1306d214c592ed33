import type { UploadStatus } from './api.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';

/** A row's state: the page's own steps, then the upload's status as the API reports it. */
export type RowStatus = 'preparing' | 'uploading' | 'interrupted' | 'duplicate' | 'error' | UploadStatus;

const STATUS_TEXT: Record<RowStatus, string> = {
  preparing: 'Preparing…',
  uploading: 'Uploading…',
  interrupted: 'Connection lost: resumes when back online…',
  duplicate: 'Already in your library',
  error: 'Error',
  pending: 'Uploaded, waiting for ingest…',
  processing: 'Processing…',
  ready: 'Ready',
  rejected: 'Rejected',
  failed: 'Processing failed',
};

/** The statuses of a file still on its way to S3. */
const ON_THE_WAY: ReadonlySet<RowStatus> = new Set(['preparing', 'uploading', 'interrupted']);

/** One file's line in the upload list: name, size, progress bar, status and the API's message. */
export class UploadRow {
  readonly #row: HTMLLIElement;
  readonly #bar: HTMLProgressElement;
  readonly #status: HTMLElement;
  readonly #message: HTMLElement;

  constructor(name: string, size: number) {
    // No value yet: an indeterminate bar while the file is hashed and a grant is asked for.
    this.#bar = h('progress', {
      max: 1,
      'aria-label': `Upload of ${name}`,
      'data-testid': 'upload-progress',
    });
    this.#status = h('span', { class: 'status', 'data-testid': 'upload-status' });
    this.#message = h('span', { class: 'message', 'data-testid': 'upload-message' });
    this.#row = h(
      'li',
      { class: 'upload-row', 'data-testid': 'upload-row' },
      h('span', { class: 'name' }, name),
      h('span', { class: 'size' }, formatBytes(size)),
      this.#bar,
      this.#status,
      this.#message,
    );
    this.show('preparing');
  }

  get element(): HTMLLIElement {
    return this.#row;
  }

  show(status: RowStatus, message = ''): void {
    this.#row.dataset.status = status;
    this.#status.textContent = STATUS_TEXT[status];
    this.#message.textContent = message;
    // An interrupted upload keeps its bar: it goes on from there.
    this.#bar.hidden = !ON_THE_WAY.has(status);
  }

  progress(fraction: number): void {
    if (this.#row.dataset.status !== 'uploading') this.show('uploading');
    this.#bar.value = fraction;
  }
}

/** The list of this session's uploads, newest first. */
export class UploadList {
  constructor(private readonly list: HTMLElement) {}

  add(name: string, size: number): UploadRow {
    const row = new UploadRow(name, size);
    this.list.prepend(row.element);
    return row;
  }

  clear(): void {
    this.list.replaceChildren();
  }
}
