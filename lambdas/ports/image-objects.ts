/** Every stored object of one image, for removing it. The S3 adapter implements it. */
export interface ImageObjects {
  /**
   * Removes the image's original and all its derivatives, of every variant set ever rendered.
   * Removing what is gone is not an error; returns how many objects were removed.
   */
  deleteAll(imageId: string): Promise<number>;
}
