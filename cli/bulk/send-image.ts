import type { UploadGrantView } from '../../lambdas/ports/upload-signer.js';
import type { Sleep } from '../pacer.js';
import { ApiError, type PipelineApi, type UploadRequest, type UploadStatus } from './pipeline-api.js';
import { type RetryPolicy, withRetries } from './retry.js';

/** What became of one image sent through the pipeline. */
export type SendOutcome =
  | { kind: 'new'; imageId: string; uploadId: string }
  | { kind: 'duplicate'; imageId: string }
  | { kind: 'rejected'; reason: string; message: string };

/** An image to send: its bytes and what the upload request says of them. */
export interface OutgoingImage extends UploadRequest {
  bytes: Uint8Array;
}

/**
 * Where a send stands, kept by the caller (a checkpoint) so that an interrupted run finishes the
 * upload it began instead of uploading the same bytes again under a new grant.
 */
export interface SendJournal {
  /** A grant was issued; the bytes are about to go. */
  granted(grant: UploadGrantView): void;
  /** S3 has the bytes; only ingest's decision is missing. */
  sent(uploadId: string): void;
}

/** A send begun by an earlier run, as its journal left it. */
export interface UnfinishedSend {
  grant: UploadGrantView;
  /** Whether S3 answered the upload (else it may or may not have the bytes). */
  sent: boolean;
}

export interface SendPolicy {
  retry: RetryPolicy;
  /** How long ingest may take to decide once S3 has the bytes. */
  settleTimeoutMs: number;
  /** How long after a grant's expiry S3 may still be storing bytes it accepted just in time. */
  expiryGraceMs: number;
  now: () => number;
  sleep: Sleep;
}

/** Ingest had not decided on an upload when the wait ran out; the bytes are in S3, so a later run only waits again. */
export class NotSettledError extends Error {
  override readonly name = 'NotSettledError';
}

/**
 * The API refused the caller (401, 403): every other request would be refused too, so the run stops
 * rather than mark each file failed.
 */
export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedError';
}

/** Statuses of `POST /v1/uploads` that judge the image itself; the file is rejected, not failed. */
const REFUSALS = new Set([400, 413, 415]);

/**
 * Sends one image: the presign pre-check (bytes the caller already has are not sent), the upload with
 * retries, then ingest's decision. `journal` hears each step before the next begins.
 */
export async function sendImage(
  api: PipelineApi,
  image: OutgoingImage,
  journal: SendJournal,
  policy: SendPolicy,
): Promise<SendOutcome> {
  const { bytes, ...request } = image;
  let answer: Awaited<ReturnType<PipelineApi['requestUpload']>>;
  try {
    answer = await withRetries(policy.retry, () => api.requestUpload(request));
  } catch (error) {
    if (error instanceof ApiError && REFUSALS.has(error.status)) {
      return { kind: 'rejected', reason: error.code, message: error.message };
    }
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      throw new AccessDeniedError(`the API refused the caller: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (answer.duplicate) return { kind: 'duplicate', imageId: answer.imageId };
  const { grant } = answer;
  journal.granted(grant);
  try {
    await withRetries(policy.retry, () => api.sendBytes(grant, bytes));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403 && isExpired(grant, policy.now())) {
      // S3 refused bytes that came too late (a long backoff): the grant is spent, ask for another.
      return sendImage(api, image, journal, policy);
    }
    throw error;
  }
  journal.sent(grant.uploadId);
  return settle(api, grant.uploadId, policy.now() + policy.settleTimeoutMs, policy);
}

/**
 * Finishes a send an earlier run began. While its grant is valid the same bytes go to the same key
 * again (S3 keeps one object, ingest decides once); once it has expired, the upload either landed
 * (and ingest decides) or never will, and only then is a new grant asked for.
 */
export async function resumeSend(
  api: PipelineApi,
  unfinished: UnfinishedSend,
  image: OutgoingImage,
  journal: SendJournal,
  policy: SendPolicy,
): Promise<SendOutcome> {
  const { grant } = unfinished;
  const status = await withRetries(policy.retry, () => api.upload(grant.uploadId));
  if (!status) return sendImage(api, image, journal, policy);
  if (status.status !== 'pending') return outcomeOf(status);
  if (unfinished.sent) return settle(api, grant.uploadId, policy.now() + policy.settleTimeoutMs, policy);
  if (!isExpired(grant, policy.now())) {
    await withRetries(policy.retry, () => api.sendBytes(grant, image.bytes));
    journal.sent(grant.uploadId);
    return settle(api, grant.uploadId, policy.now() + policy.settleTimeoutMs, policy);
  }
  try {
    return await settle(api, grant.uploadId, Date.parse(grant.expiresAt) + policy.expiryGraceMs, policy);
  } catch (error) {
    if (!(error instanceof NotSettledError)) throw error;
    return sendImage(api, image, journal, policy);
  }
}

/** Polls the upload, more slowly as it waits, until ingest decides or `deadline` passes. */
async function settle(
  api: PipelineApi,
  uploadId: string,
  deadline: number,
  policy: SendPolicy,
): Promise<SendOutcome> {
  for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
    const status = await withRetries(policy.retry, () => api.upload(uploadId));
    if (!status) throw new ApiError(`upload ${uploadId} is unknown to the API`, 404, 'not_found');
    if (status.status !== 'pending') return outcomeOf(status);
    if (policy.now() >= deadline) {
      throw new NotSettledError(`upload ${uploadId}: S3 has the bytes but ingest has not decided yet`);
    }
    await policy.sleep(Math.min(pause, Math.max(deadline - policy.now(), 0)));
  }
}

function outcomeOf(status: UploadStatus): SendOutcome {
  if (status.status === 'rejected') {
    return { kind: 'rejected', reason: status.reason ?? 'rejected', message: status.message ?? '' };
  }
  return { kind: 'new', imageId: String(status.imageId), uploadId: status.uploadId };
}

function isExpired(grant: UploadGrantView, now: number): boolean {
  return now >= Date.parse(grant.expiresAt);
}
