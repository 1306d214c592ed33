import type { ApiClient, UploadStatus, UploadView } from './api.js';

const POLL_INTERVAL_MS = 500;
const SETTLED: ReadonlySet<UploadStatus> = new Set(['ready', 'rejected', 'failed']);

/**
 * Polls `GET /v1/uploads/{uploadId}` until the upload settles (`ready`, `rejected` or `failed`),
 * reporting each status it has not reported yet, and resolves with the settled view. Rejects when a
 * call fails or the client's signal aborts.
 */
export async function followUpload(
  api: ApiClient,
  uploadId: string,
  onChange: (view: UploadView) => void,
): Promise<UploadView> {
  let reported: UploadStatus | undefined;
  for (;;) {
    const view = await api.getUpload(uploadId);
    if (view.status !== reported) {
      reported = view.status;
      onChange(view);
    }
    if (SETTLED.has(view.status)) return view;
    await delay(POLL_INTERVAL_MS, api.signal);
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
