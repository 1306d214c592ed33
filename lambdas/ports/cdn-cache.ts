/** The CDN's edge caches; the CloudFront adapter implements it. */
export interface CdnCache {
  /**
   * Makes the edges forget every cached derivative of the image (they are cached for a year).
   * `deletion` names one deletion of the image: asking twice for the same one does it once.
   */
  forgetImage(imageId: string, deletion: string): Promise<void>;
}
