import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { PriceClass } from 'aws-cdk-lib/aws-cloudfront';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS } from '../../lambdas/core/formats.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, encodingRevision, type VariantSpec } from '../../lambdas/core/variants.js';
import {
  CDN_CORS,
  CDN_RESPONSE_HEADERS,
  STRICT_TRANSPORT_SECURITY,
} from '../../lambdas/edge/response-headers.js';
import { viewerRequestCode } from '../../lambdas/edge/viewer-request-code.js';
import { ImageCdn, MISSING_OBJECT_TTL } from '../../lib/image-cdn.js';
import { ImagePipeline, type ImagePipelineProps, watermarkedPreview } from '../../lib/image-pipeline.js';
import { getAtt, logicalId, newApp, statementsOf } from './synth.js';

function synth(props?: ImagePipelineProps) {
  const stack = new Stack(newApp(), 'Images');
  const pipeline = new ImagePipeline(stack, 'Pipeline', props);
  return { stack, pipeline, template: Template.fromStack(stack) };
}

describe('the image CDN', () => {
  let synthesized: ReturnType<typeof synth>;
  beforeAll(() => {
    synthesized = synth();
  });
  const resources = (type: string) => synthesized.template.findResources(type);
  const distributionConfig = () =>
    resources('AWS::CloudFront::Distribution')[logicalId(synthesized.pipeline.distribution)]?.Properties
      .DistributionConfig;
  const onlyFunction = () => {
    const functions = Object.entries(resources('AWS::CloudFront::Function'));
    expect(functions).toHaveLength(1);
    const [[id, resource]] = functions as [[string, { Properties: Record<string, unknown> }]];
    return { id, properties: resource.Properties as { FunctionCode: string; FunctionConfig: unknown } };
  };

  it('runs one CloudFront Function, on cloudfront-js-2.0, as the default behaviour’s viewer request', () => {
    const { id, properties } = onlyFunction();
    expect(properties).toMatchObject({
      AutoPublish: true,
      FunctionConfig: { Runtime: 'cloudfront-js-2.0' },
    });
    expect(distributionConfig().DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [id, 'FunctionARN'] } },
    ]);
  });

  it('deploys exactly the code the local CDN evaluates, with every default variant’s table', () => {
    const { FunctionCode: code } = onlyFunction().properties;
    expect(code).toBe(viewerRequestCode(parseSettings()));
    for (const variant of DEFAULT_VARIANTS) {
      for (const { format } of variant.formats) {
        const entry = `"${OUTPUT_FORMATS[format].mime}":["${encodingRevision(variant, format)}","${OUTPUT_FORMATS[format].extension}"]`;
        expect(code).toContain(entry);
      }
    }
  });

  it('adds Vary: Accept beside the security headers, from the values the local CDN sends', () => {
    const policyId = distributionConfig().DefaultCacheBehavior.ResponseHeadersPolicyId.Ref;
    const config = resources('AWS::CloudFront::ResponseHeadersPolicy')[policyId]?.Properties
      .ResponseHeadersPolicyConfig;
    expect(config.CustomHeadersConfig).toEqual({
      Items: [{ Header: 'Vary', Value: CDN_RESPONSE_HEADERS.vary, Override: true }],
    });
    expect(config.SecurityHeadersConfig).toEqual({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: CDN_RESPONSE_HEADERS['x-frame-options'], Override: true },
      ReferrerPolicy: { ReferrerPolicy: CDN_RESPONSE_HEADERS['referrer-policy'], Override: true },
      StrictTransportSecurity: {
        AccessControlMaxAgeSec: STRICT_TRANSPORT_SECURITY.maxAgeSeconds,
        IncludeSubdomains: STRICT_TRANSPORT_SECURITY.includeSubdomains,
        Override: true,
      },
    });
    expect(CDN_RESPONSE_HEADERS['x-content-type-options']).toBe('nosniff');
    expect(config.CorsConfig).toEqual({
      AccessControlAllowOrigins: { Items: [CDN_CORS.allowOrigin] },
      AccessControlAllowMethods: { Items: [...CDN_CORS.allowMethods] },
      AccessControlAllowHeaders: { Items: ['*'] },
      AccessControlAllowCredentials: false,
      OriginOverride: true,
    });
  });

  it('may list the image bucket, so that S3 answers a missing derivative with 404, cached briefly, and keeps no 503', () => {
    const imageBucket = synthesized.pipeline.imageBucket;
    const listing = statementsOf(
      synthesized.template,
      'AWS::S3::BucketPolicy',
      (p) => JSON.stringify(p.Bucket) === JSON.stringify({ Ref: logicalId(imageBucket) }),
    ).filter((s) => s.Action === 's3:ListBucket');
    expect(listing).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Resource: getAtt(imageBucket, 'Arn'),
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
      }),
    ]);
    expect(JSON.stringify(listing[0]?.Condition)).toContain(logicalId(synthesized.pipeline.distribution));
    expect(distributionConfig().CustomErrorResponses).toEqual([
      { ErrorCode: 404, ErrorCachingMinTTL: MISSING_OBJECT_TTL.toSeconds() },
      // CloudFront ignores no-store on a 503 and would keep the renderer's "retry shortly" 10 s.
      { ErrorCode: 503, ErrorCachingMinTTL: 0 },
    ]);
    expect(MISSING_OBJECT_TTL.toSeconds()).toBeLessThanOrEqual(60);
  });

  it('raises no CDK warning', () => {
    const cdnPath = `/${synthesized.pipeline.node.path}/Cdn/`;
    const warnings = Annotations.fromStack(synthesized.stack).findWarning('*', Match.anyValue());
    expect(warnings.filter((w) => w.id.startsWith(cdnPath))).toEqual([]);
  });
});

describe('the viewer-request function follows the settings', () => {
  it('negotiates only the formats a variant has', () => {
    const { template } = synth({ settings: { variants: [...DEFAULT_VARIANTS, watermarkedPreview()] } });
    const [code] = Object.values(template.findResources('AWS::CloudFront::Function')).map(
      (f) => f.Properties.FunctionCode as string,
    );
    const preview = code?.match(/"preview":(\{[^}]*\})/)?.[1];
    expect(Object.keys(JSON.parse(preview ?? '{}'))).toEqual(['image/webp', 'image/jpeg']);
  });

  it('fails the synth when the variant set would make the function too large for CloudFront', () => {
    const stack = new Stack(newApp(), 'TooMany');
    const variants = Array.from({ length: 80 }, (_, i) => ({
      ...(DEFAULT_VARIANTS[0] as VariantSpec),
      name: `variant-with-a-long-name-${String(i).padStart(3, '0')}`,
    }));
    expect(
      () =>
        new ImageCdn(stack, 'Cdn', {
          settings: parseSettings({ variants }),
          imageBucket: new Bucket(stack, 'Images'),
          logBucket: new Bucket(stack, 'Logs'),
          priceClass: PriceClass.PRICE_CLASS_100,
        }),
    ).toThrow(/viewer-request function would be \d+ bytes/);
  });
});
