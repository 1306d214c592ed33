import { Duration, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  type PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DERIVATIVES_PREFIX } from '../lambdas/core/keys.js';
import { ACCESS_LOG_PREFIXES } from './storage.js';

/** A custom domain for the CDN. */
export interface CdnDomain {
  /** Host names the distribution answers to; the first one is the base of the image URLs. */
  readonly names: string[];
  /** An ACM certificate in us-east-1 (CloudFront's rule) covering every name. */
  readonly certificate: ICertificate;
}

export interface ImageCdnProps {
  readonly imageBucket: IBucket;
  readonly logBucket: IBucket;
  readonly priceClass: PriceClass;
  readonly domain?: CdnDomain;
  readonly webAclId?: string;
}

/**
 * CloudFront in front of the image bucket's derivatives. The origin path is `/derived`, so no URL can
 * name an original or an upload, and the bucket policy refuses CloudFront everything outside `derived/`
 * besides, in case the origin path is ever changed. Objects carry their own
 * `Cache-Control: public, max-age=31536000, immutable` (their keys change whenever their bytes would),
 * which CACHING_OPTIMIZED honours up to its one-year maximum.
 */
export class ImageCdn extends Construct {
  public readonly distribution: Distribution;
  /** `https://` and the custom domain's first name, or the distribution's own domain. */
  public readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: ImageCdnProps) {
    super(scope, id);
    const [primaryName] = props.domain?.names ?? [];
    if (props.domain && !primaryName) throw new Error('ImageCdn: domain.names must name at least one host');

    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Aperture images: HSTS, nosniff, no framing, strict referrer',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Aperture image CDN',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(props.imageBucket, {
          originPath: `/${DERIVATIVES_PREFIX.replace(/\/$/, '')}`,
        }),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      // Only a custom certificate can carry a TLS policy; *.cloudfront.net keeps CloudFront's own.
      minimumProtocolVersion: props.domain ? SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      priceClass: props.priceClass,
      domainNames: props.domain?.names,
      certificate: props.domain?.certificate,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: ACCESS_LOG_PREFIXES.cdn,
      webAclId: props.webAclId,
    });

    // The OAC grant covers the whole bucket; this keeps originals (with their EXIF, GPS included) and
    // uploads out of CloudFront's reach whatever the origin path says.
    props.imageBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudFrontReadsDerivativesOnly',
        effect: Effect.DENY,
        principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        notResources: [props.imageBucket.arnForObjects(`${DERIVATIVES_PREFIX}*`)],
      }),
    );

    this.baseUrl = `https://${primaryName ?? this.distribution.distributionDomainName}`;

    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'Images are served worldwide by design; the served content is public derivatives, nothing region-bound.',
    });
    if (!props.webAclId) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason:
          'WAF is optional (webAclId) because a web ACL costs money monthly; the CDN only serves cached, immutable GETs of public images.',
      });
    }
    if (!props.domain) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate cannot pin a TLS minimum; with `domain` the distribution enforces TLSv1.2_2021.',
      });
    }
  }
}
