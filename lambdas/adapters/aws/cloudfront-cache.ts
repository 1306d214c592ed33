import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DERIVATIVES_PREFIX } from '../../contract.js';
import { derivativesPrefix } from '../../core/keys.js';
import type { CdnCache } from '../../ports/cdn-cache.js';
import { toDomainError } from './dependency-errors.js';

export class CloudFrontCache implements CdnCache {
  constructor(
    private readonly cloudfront: CloudFrontClient,
    private readonly distributionId: string,
  ) {}

  /**
   * One wildcard path per image: the distribution's origin path is `/derived`, so the image's
   * derivatives are under `/ab/cd/{sha256}/` on the CDN. The caller reference names this deletion,
   * so a retried purge finds the invalidation it already made instead of making another.
   */
  async forgetImage(imageId: string, deletion: string): Promise<void> {
    const path = `/${derivativesPrefix(imageId).slice(DERIVATIVES_PREFIX.length)}*`;
    try {
      await this.cloudfront.send(
        new CreateInvalidationCommand({
          DistributionId: this.distributionId,
          InvalidationBatch: {
            CallerReference: `${imageId}@${deletion}`,
            Paths: { Quantity: 1, Items: [path] },
          },
        }),
      );
    } catch (error) {
      throw toDomainError(error, 'invalidate CDN cache', { imageId });
    }
  }
}
