/** The objects ingest touches: the upload it reads, the original it stores. The S3 adapter implements it. */
export interface ObjectStore {
  /** The upload's bytes as a stream, or undefined when the object is gone. */
  readUpload(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Removes an upload; removing one that is gone is not an error. */
  deleteUpload(key: string): Promise<void>;
  /** Copies an upload to its content-addressed original key, server-side. Same key, same bytes: idempotent. */
  storeOriginal(uploadKey: string, originalKey: string, contentType: string): Promise<void>;
}
