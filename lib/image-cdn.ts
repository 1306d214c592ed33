import { Duration, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  KeyGroup,
  type PriceClass,
  PublicKey,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin, OriginGroup, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DERIVATIVES_PREFIX, ON_DEMAND_TIMEOUT_SECONDS } from '../lambdas/contract.js';
import type { Settings } from '../lambdas/core/settings.js';
import {
  CDN_CORS,
  CDN_RESPONSE_HEADERS,
  STRICT_TRANSPORT_SECURITY,
} from '../lambdas/edge/response-headers.js';
import { viewerRequestCode } from '../lambdas/edge/viewer-request-code.js';
import { ACCESS_LOG_PREFIXES } from './storage.js';

/**
 * How long CloudFront remembers, at least, that a derivative is missing. The on-demand renderer's
 * 404 may ask for longer (a page the image does not have: minutes), and CloudFront takes the longer.
 */
export const MISSING_OBJECT_TTL = Duration.seconds(10);

/** A custom domain for the CDN. */
export interface CdnDomain {
  /** Host names the distribution answers to; the first one is the base of the image URLs. */
  readonly names: string[];
  /** An ACM certificate in us-east-1 (CloudFront's rule) covering every name. */
  readonly certificate: ICertificate;
}

export interface ImageCdnProps {
  /** The validated settings: their variants decide what the viewer-request function can negotiate. */
  readonly settings: Settings;
  readonly imageBucket: IBucket;
  readonly logBucket: IBucket;
  readonly priceClass: PriceClass;
  readonly domain?: CdnDomain;
  readonly webAclId?: string;
  /**
   * Where CloudFront asks for a derivative S3 does not have (the on-demand renderer's URL), by the
   * same path. Reached through its own Origin Access Control.
   * @default - none: a missing derivative is a 404
   */
  readonly fallbackOrigin?: IFunctionUrl;
  /**
   * Private delivery: only URLs signed with the matching private key are served.
   * @default - public delivery
   */
  readonly signersPublicKeyPem?: string;
}

/**
 * CloudFront in front of the image bucket's derivatives. The origin path is `/derived`, so no URL can
 * name an original or an upload, and the bucket policy refuses CloudFront everything outside `derived/`
 * besides, in case the origin path is ever changed. Objects carry their own
 * `Cache-Control: public, max-age=31536000, immutable` (their keys change whenever their bytes would),
 * which CACHING_OPTIMIZED honours up to its one-year maximum.
 *
 * A viewer-request function (lambdas/edge/viewer-request.js) rewrites a format-less variant URL to the
 * derivative of the best format the viewer's Accept header allows, so the cache key is that object's
 * and `Vary: Accept` tells browser and proxy caches the URL's answer depends on the header.
 */
export class ImageCdn extends Construct {
  public readonly distribution: Distribution;
  /** `https://` and the custom domain's first name, or the distribution's own domain. */
  public readonly baseUrl: string;
  /** With private delivery, the id of the public key URLs must be signed for. */
  public readonly keyPairId: string | undefined;

  constructor(scope: Construct, id: string, props: ImageCdnProps) {
    super(scope, id);
    const [primaryName] = props.domain?.names ?? [];
    if (props.domain && !primaryName) throw new Error('ImageCdn: domain.names must name at least one host');

    const responseHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Aperture images: HSTS, nosniff, no framing, strict referrer, Vary: Accept, public CORS',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(STRICT_TRANSPORT_SECURITY.maxAgeSeconds),
          includeSubdomains: STRICT_TRANSPORT_SECURITY.includeSubdomains,
          override: true,
        },
        // CloudFront's only value for it: nosniff.
        contentTypeOptions: { override: true },
        frameOptions: {
          frameOption: enumMember(HeadersFrameOption, CDN_RESPONSE_HEADERS['x-frame-options']),
          override: true,
        },
        referrerPolicy: {
          referrerPolicy: enumMember(HeadersReferrerPolicy, CDN_RESPONSE_HEADERS['referrer-policy']),
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Vary', value: CDN_RESPONSE_HEADERS.vary, override: true }],
      },
      corsBehavior: {
        accessControlAllowOrigins: [CDN_CORS.allowOrigin],
        accessControlAllowMethods: [...CDN_CORS.allowMethods],
        accessControlAllowHeaders: ['*'],
        accessControlAllowCredentials: false,
        originOverride: true,
      },
    });

    const negotiateFormat = new CloudFrontFunction(this, 'NegotiateFormat', {
      comment: 'Aperture: format-less variant URLs to the AVIF, WebP or JPEG the Accept header allows',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(viewerRequestCode(props.settings)),
    });

    const signers =
      props.signersPublicKeyPem === undefined
        ? undefined
        : new PublicKey(this, 'SignersKey', {
            encodedKey: props.signersPublicKeyPem,
            comment: 'Aperture private delivery: signs image URLs',
          });
    this.keyPairId = signers?.publicKeyId;

    const derivatives = S3BucketOrigin.withOriginAccessControl(props.imageBucket, {
      originPath: `/${DERIVATIVES_PREFIX.replace(/\/$/, '')}`,
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Aperture image CDN',
      defaultBehavior: {
        origin: props.fallbackOrigin
          ? new OriginGroup({
              primaryOrigin: derivatives,
              fallbackOrigin: FunctionUrlOrigin.withOriginAccessControl(props.fallbackOrigin, {
                readTimeout: Duration.seconds(ON_DEMAND_TIMEOUT_SECONDS + 2),
              }),
              // S3 answers 404 for a missing key (CloudFront may list derived/); 403 as well with a
              // bucket of your own that does not grant the listing.
              fallbackStatusCodes: [403, 404],
            })
          : derivatives,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: responseHeaders,
        functionAssociations: [{ function: negotiateFormat, eventType: FunctionEventType.VIEWER_REQUEST }],
        trustedKeyGroups: signers ? [new KeyGroup(this, 'Signers', { items: [signers] })] : undefined,
      },
      // A missing derivative may be rendered moments later (a URL shared before its image is ready):
      // CloudFront forgets the 404 soon, and says so here rather than by a default.
      // A 503 is "try again shortly" (the renderer's wait ran out, a dependency is down), and
      // CloudFront would keep it 10 s whatever its Cache-Control says: it keeps none.
      errorResponses: [
        { httpStatus: 404, ttl: MISSING_OBJECT_TTL },
        { httpStatus: 503, ttl: Duration.seconds(0) },
      ],
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

    // S3 tells a missing key from a forbidden one only to a reader that may list the bucket: without
    // this, a derivative not (yet) rendered would be a 403. No viewer request can become a listing:
    // the origin path puts `/derived/` before every path and no query string reaches the origin.
    props.imageBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudFrontTellsMissingFromForbidden',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:ListBucket'],
        resources: [props.imageBucket.bucketArn],
        conditions: { StringEquals: { 'AWS:SourceArn': this.distribution.distributionArn } },
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

/** The member of a CDK string enum with this value: the shared header values are plain strings. */
function enumMember<E extends Record<string, string>>(enumeration: E, value: string): E[keyof E] {
  const member = Object.values(enumeration).find((candidate) => candidate === value);
  if (member === undefined)
    throw new RangeError(`${value} is none of ${Object.values(enumeration).join(', ')}`);
  return member as E[keyof E];
}
