import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import type { SignedUrlConfig } from '../../core/environment.js';
import type { UrlSigner } from '../../ports/url-signer.js';
import { readSecretText } from './secret-text.js';

/**
 * CloudFront signed URLs with a canned policy (one URL, an expiry), for a distribution whose
 * behaviour trusts the key group holding `keyPairId`. The private key is loaded once, on the first
 * signature, and kept for the life of the function instance.
 */
export class CloudFrontUrlSigner implements UrlSigner {
  private privateKey: Promise<string> | undefined;

  constructor(
    private readonly options: {
      keyPairId: string;
      ttlSeconds: number;
      loadPrivateKey: () => Promise<string>;
      now?: () => Date;
    },
  ) {}

  async sign(url: string): Promise<string> {
    this.privateKey ??= this.options.loadPrivateKey().catch((error: unknown) => {
      // A failed load (throttled, say) is tried again on the next request, not cached.
      this.privateKey = undefined;
      throw error;
    });
    const now = this.options.now?.() ?? new Date();
    return getSignedUrl({
      url,
      keyPairId: this.options.keyPairId,
      privateKey: await this.privateKey,
      dateLessThan: new Date(now.getTime() + this.options.ttlSeconds * 1000).toISOString(),
    });
  }
}

/** The signer of CDN URLs under private delivery; none under public delivery. */
export function cloudFrontUrlSignerFor(
  config: SignedUrlConfig | undefined,
  secrets: SecretsManagerClient,
): UrlSigner | undefined {
  if (!config) return undefined;
  return new CloudFrontUrlSigner({
    keyPairId: config.keyPairId,
    ttlSeconds: config.ttlSeconds,
    loadPrivateKey: () => readSecretText(secrets, config.privateKeySecret),
  });
}
