/** The objects a render worker touches: the original it reads, the derivatives it writes. */
export interface DerivativeStore {
  /** The original's bytes, or undefined when it is gone (the image was deleted meanwhile). */
  readOriginal(key: string): Promise<Buffer | undefined>;
  /** A derivative's bytes, or undefined when it is not there (yet). */
  readDerivative(key: string): Promise<Buffer | undefined>;
  /**
   * Writes one derivative, served as immutable for a year. The key is content-addressed, so writing
   * it again writes the same bytes: a retry is harmless.
   */
  putDerivative(derivative: {
    key: string;
    bytes: Buffer;
    contentType: string;
    metadata: Record<string, string>;
  }): Promise<void>;
  /** Removes derivatives a render wrote for an image deleted meanwhile; keys already gone are fine. */
  deleteDerivatives(keys: readonly string[]): Promise<void>;
}
