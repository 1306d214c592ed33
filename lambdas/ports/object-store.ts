/** The objects ingest touches: the upload it reads, the original it stores. The S3 adapter implements it. */
export interface ObjectStore {
  /** The upload's bytes as a stream, or undefined when the object is gone. */
  readUpload(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Removes an upload; removing one that is gone is not an error. */
  deleteUpload(key: string): Promise<void>;
  /**
   * Writes the bytes ingest judged as the image's original, under their content address. The store
   * checks them against `sha256` on arrival, so the key never holds other bytes; same key, same
   * bytes: idempotent.
   */
  storeOriginal(original: { key: string; bytes: Buffer; sha256: string; contentType: string }): Promise<void>;
}
