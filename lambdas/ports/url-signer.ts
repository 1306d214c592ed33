/** Signs CDN URLs for private delivery; the CloudFront adapter implements it. */
export interface UrlSigner {
  /** The URL with a signature that lets its bearer fetch it until the signature expires. */
  sign(url: string): Promise<string>;
}
