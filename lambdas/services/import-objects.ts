import { IMPORT_ITEM_CONCURRENCY } from '../contract.js';
import { ConflictError, RetryableError } from '../core/errors.js';
import { INPUT_FORMATS } from '../core/formats.js';
import {
  decisionOf,
  filenameOf,
  type ImportBatch,
  type ImportBatchInput,
  type ImportBatchResult,
  type ImportItem,
  type ImportItemResult,
  importUploadId,
  isFolderMarker,
} from '../core/imports.js';
import { SNIFF_BYTES, sniff } from '../core/sniff.js';
import type { UploadRecord } from '../ports/catalog.js';
import type { ImportSources } from '../ports/import-sources.js';
import type { ImportTallies } from '../ports/import-tallies.js';
import { forEachConcurrently } from './bulk-reads.js';
import {
  decideUpload,
  finishDecided,
  type IngestDependencies,
  type IngestOutcome,
  readSource,
  type SourceRead,
  type UploadSource,
} from './ingest-upload.js';

export interface ImportDependencies extends IngestDependencies {
  sources: ImportSources;
  tallies: ImportTallies;
}

/**
 * Imports one batch of a library's objects (a Distributed Map child execution): each object becomes an
 * upload of the owner's, decided by ingest's own code (`decideUpload`) from the bytes read from the
 * source bucket, which is never written. The upload id comes from the object (`importUploadId`), so
 * an object already decided, by this run or an earlier one, is only reported; each decision is
 * counted in the import's tally exactly once.
 *
 * Objects that fail (a dependency out of reach) do not stop the others; the batch then throws, and
 * Step Functions runs it again: what it decided is a no-op the second time.
 */
export async function importBatch(deps: ImportDependencies, batch: ImportBatch): Promise<ImportBatchResult> {
  const input = batch.BatchInput;
  const results: ImportItemResult[] = [];
  await forEachConcurrently(batch.Items, IMPORT_ITEM_CONCURRENCY, async (item) => {
    results.push(
      await importObject(deps, input, item).catch(
        (error: unknown): ImportItemResult => ({
          key: item.Key,
          outcome: 'failed',
          error: error instanceof Error ? error.message : String(error),
        }),
      ),
    );
  });
  const failed = results.filter((result) => result.outcome === 'failed');
  if (failed.length > 0) {
    throw new RetryableError(
      'import_items_failed',
      `${failed.length} of ${results.length} objects of the batch failed`,
      { importId: input.importId, failed: failed.slice(0, 10) },
    );
  }
  return { importId: input.importId, results };
}

async function importObject(
  deps: ImportDependencies,
  input: ImportBatchInput,
  item: ImportItem,
): Promise<ImportItemResult> {
  const key = item.Key;
  if (isFolderMarker(item)) return { key, outcome: 'skipped', why: 'folder_marker' };
  const uploadId = importUploadId(input, item);
  const source: UploadSource = {
    read: () => deps.sources.read(input.bucket, key),
    // The library's own object: an import never writes, let alone deletes, there.
    discard: async () => {},
  };

  let upload = await deps.catalog.getUpload(uploadId);
  let outcome: IngestOutcome;
  if (upload && upload.state !== 'pending') {
    outcome = await finishDecided(deps, upload, source);
  } else {
    const tooLarge = (item.Size ?? 0) > deps.settings.maxUploadBytes;
    const read = tooLarge ? 'too_large' : await readSource(deps, source);
    if (read === 'object_gone') return { key, outcome: 'skipped', why: 'object_gone' };
    upload ??= await recordImportUpload(deps, input, item, uploadId, read);
    outcome =
      upload.state === 'pending'
        ? await decideUpload(deps, upload, read, source)
        : await finishDecided(deps, upload, source);
  }
  const result = await resultOf(deps, input, key, outcome, upload);
  const decision = decisionOf(result);
  if (decision) await deps.tallies.count(input.importId, uploadId, decision);
  return result;
}
/**
 * The upload an object becomes: declared as what its bytes are (a library's objects carry no
 * declaration to hold them to, and their stored Content-Type is often wrong) and as the size listed.
 * A concurrent attempt that recorded it first wins; its record is used.
 */
async function recordImportUpload(
  deps: ImportDependencies,
  input: ImportBatchInput,
  item: ImportItem,
  uploadId: string,
  read: Exclude<SourceRead, 'object_gone'>,
): Promise<UploadRecord> {
  const now = deps.now();
  const bytes = read === 'too_large' ? undefined : read.bytes;
  const sniffed = bytes ? sniff(bytes.subarray(0, SNIFF_BYTES)) : undefined;
  const upload: UploadRecord = {
    uploadId,
    owner: input.owner,
    state: 'pending',
    contentType: sniffed?.kind === 'image' ? INPUT_FORMATS[sniffed.format] : 'application/octet-stream',
    size: item.Size ?? bytes?.length ?? 0,
    sha256: undefined,
    filename: filenameOf(item.Key),
    collection: input.collection,
    createdAt: now,
    // No URL was granted: nothing is pending past this run.
    uploadExpiresAt: now,
    importId: input.importId,
  };
  try {
    await deps.catalog.recordUpload(upload);
    return upload;
  } catch (error) {
    const recorded = await deps.catalog.getUpload(uploadId);
    if (!recorded) throw error;
    return recorded;
  }
}

/**
 * An ingest outcome as an import reports it. An upload found decided by this same import (a retried
 * batch, a resumed run) is reported as decided then, so the results and the tally are those of one
 * uninterrupted run; one decided by an earlier import is reported as found (`already_imported`, or
 * `rejected` and `earlier`).
 */
async function resultOf(
  deps: ImportDependencies,
  input: ImportBatchInput,
  key: string,
  outcome: IngestOutcome,
  upload: UploadRecord,
): Promise<ImportItemResult> {
  switch (outcome.outcome) {
    case 'created':
      return { key, outcome: 'new', uploadId: outcome.uploadId, imageId: outcome.imageId };
    case 'linked':
      return { key, outcome: 'duplicate', uploadId: outcome.uploadId, imageId: outcome.imageId };
    case 'rejected':
      return { key, outcome: 'rejected', uploadId: outcome.uploadId, ...outcome.rejection, earlier: false };
    case 'already_decided': {
      const { uploadId, imageId, rejection } = outcome;
      const ours = upload.importId === input.importId;
      if (rejection) return { key, outcome: 'rejected', uploadId, ...rejection, earlier: !ours };
      if (!imageId)
        throw new ConflictError('upload_missing', 'an accepted upload without its image', { uploadId });
      if (!ours) return { key, outcome: 'already_imported', uploadId, imageId };
      const image = await deps.catalog.getImage(imageId);
      const created = image?.createdByUpload === uploadId;
      return { key, outcome: created ? 'new' : 'duplicate', uploadId, imageId };
    }
    case 'ignored':
      return { key, outcome: 'skipped', why: 'object_gone' };
  }
}
