/** A library's own objects, which an import reads and never writes. The S3 adapter implements it. */
export interface ImportSources {
  /** The object's bytes as a stream, or undefined when it is gone. */
  read(bucket: string, key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
}
