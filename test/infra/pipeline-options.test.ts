import { generateKeyPairSync } from 'node:crypto';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, ENV } from '../../lambdas/contract.js';
import { readContext } from '../../lib/aperture-app.js';
import { ApertureStack } from '../../lib/aperture-stack.js';
import {
  DEFAULT_VARIANTS,
  ImagePipeline,
  type ImagePipelineProps,
  watermarkedPreview,
} from '../../lib/image-pipeline.js';
import { logicalId, newApp } from './synth.js';

function synth(pipeline: (stack: Stack) => ImagePipelineProps) {
  const app = newApp();
  const stack = new Stack(app, 'Options');
  const construct = new ImagePipeline(stack, 'Pipeline', pipeline(stack));
  return { construct, template: Template.fromStack(stack) };
}

const ISSUER = 'https://issuer.example.com/';
const ORIGINS = ['https://app.example.com'];

/** The functions' properties, by role. */
function functionsOf(construct: ImagePipeline, template: Template) {
  const all = template.findResources('AWS::Lambda::Function');
  return {
    api: all[logicalId(construct.apiFunction)]?.Properties,
    ingest: all[logicalId(construct.ingestFunction)]?.Properties,
    thumbnails: all[logicalId(construct.renderFunctions.thumbnails)]?.Properties,
    variants: all[logicalId(construct.renderFunctions.variants)]?.Properties,
  };
}

describe('with a JWT issuer, origins, a domain, a web ACL, tracing and DESTROY', () => {
  let construct: ImagePipeline;
  let template: Template;
  beforeAll(() => {
    ({ construct, template } = synth((stack) => ({
      jwt: { issuer: ISSUER, audience: ['aperture-app'] },
      allowedOrigins: ORIGINS,
      domain: {
        names: ['images.example.com'],
        certificate: Certificate.fromCertificateArn(
          stack,
          'Certificate',
          'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
        ),
      },
      webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/aperture/00000000',
      tracing: Tracing.ACTIVE,
      removalPolicy: RemovalPolicy.DESTROY,
    })));
  });

  it('puts every route but the open document behind the JWT authorizer', () => {
    const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer');
    expect(Object.values(authorizers)).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          AuthorizerType: 'JWT',
          IdentitySource: ['$request.header.Authorization'],
          JwtConfiguration: { Issuer: ISSUER, Audience: ['aperture-app'] },
        }),
      }),
    ]);
    const [authorizerId] = Object.keys(authorizers);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes).toHaveLength(Object.values(API_ROUTES).length);
    for (const route of routes) {
      if (route.RouteKey === API_ROUTES.getOpenApi) expect(route.AuthorizationType).toBe('NONE');
      else expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
  });

  it('allows only the given origins, on the API and on the upload bucket', () => {
    const [api] = Object.values(template.findResources('AWS::ApiGatewayV2::Api'));
    expect(api?.Properties.CorsConfiguration.AllowOrigins).toEqual(ORIGINS);
    const cors = Object.values(template.findResources('AWS::S3::Bucket')).flatMap(
      (bucket) => bucket.Properties.CorsConfiguration?.CorsRules ?? [],
    );
    expect(cors).toEqual([expect.objectContaining({ AllowedOrigins: ORIGINS })]);
  });

  it('serves the custom domain with TLS 1.2 minimum, SNI, and the web ACL', () => {
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    expect(distribution?.Properties.DistributionConfig).toMatchObject({
      Aliases: ['images.example.com'],
      ViewerCertificate: { MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
      WebACLId: expect.stringContaining(':global/webacl/'),
    });
  });

  it('hands the custom domain to every function as the CDN base URL', () => {
    for (const fn of Object.values(functionsOf(construct, template))) {
      expect(fn?.Environment.Variables[ENV.cdnBaseUrl]).toBe('https://images.example.com');
    }
  });

  it('traces the functions', () => {
    for (const fn of Object.values(functionsOf(construct, template))) {
      expect(fn?.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('lets the buckets and the table go with the stack', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource.DeletionPolicy).toBe('Delete');
      }
    }
  });
});

describe('with buckets brought along', () => {
  let construct: ImagePipeline;
  let template: Template;
  beforeAll(() => {
    ({ construct, template } = synth((stack) => ({
      uploadBucket: Bucket.fromBucketName(stack, 'Uploads', 'my-uploads'),
      imageBucket: Bucket.fromBucketName(stack, 'Images', 'my-images'),
    })));
  });
  const objectsIn = (bucket: string, pattern: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${bucket}/${pattern}`]],
  });

  it("creates only the log bucket (and reconcile reports' own) and grants on the given buckets", () => {
    expect(Object.keys(template.findResources('AWS::S3::Bucket')).sort()).toEqual(
      [construct.logBucket, construct.reconcile.reportBucket].map(logicalId).sort(),
    );
    for (const fn of Object.values(functionsOf(construct, template))) {
      expect(fn?.Environment.Variables).toMatchObject({
        [ENV.uploadBucket]: 'my-uploads',
        [ENV.imageBucket]: 'my-images',
      });
    }
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject'],
          Resource: objectsIn('my-uploads', 'uploads/*'),
        },
        {
          Effect: 'Allow',
          Action: ['s3:DeleteObject', 's3:GetObject'],
          Resource: objectsIn('my-uploads', 'uploads/*'),
        },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: objectsIn('my-images', 'originals/*') },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objectsIn('my-images', 'originals/*') },
        {
          Effect: 'Allow',
          Action: ['s3:DeleteObject', 's3:PutObject'],
          Resource: objectsIn('my-images', 'derived/*'),
        },
      ]),
    );
  });

  it("leaves the given upload bucket's notifications to its owner", () => {
    expect(template.findResources('Custom::S3BucketNotifications')).toEqual({});
    expect(
      template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 's3.amazonaws.com' } }),
    ).toEqual({});
    // Less CDK's own handler of the variant set trigger (lib/reprocess.ts), which is no S3 notification's.
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    const trigger = functions.filter((id) => id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'));
    expect(trigger).toHaveLength(1);
    expect(functions.filter((id) => !trigger.includes(id)).sort()).toEqual(
      [
        construct.apiFunction,
        construct.ingestFunction,
        ...Object.values(construct.renderFunctions),
        construct.onDemandFunction,
        construct.reprocessFunction,
        construct.announceFunction,
        construct.webhooks.fanOutFunction,
        construct.webhooks.deliveryFunction,
        construct.reconcile.auditFunction,
        construct.reconcile.repairFunction,
      ]
        .map(logicalId)
        .sort(),
    );
  });
});

describe('with onDemandConcurrency', () => {
  it('reserves that many executions for the on-demand renderer, and its throttle alarm says so', () => {
    const { construct, template } = synth(() => ({ onDemandConcurrency: 3 }));
    const onDemand = template.findResources('AWS::Lambda::Function')[logicalId(construct.onDemandFunction)];
    expect(onDemand?.Properties.ReservedConcurrentExecutions).toBe(3);
    const throttles = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties)
      .filter(
        (alarm) =>
          alarm.MetricName === 'Throttles' &&
          JSON.stringify(alarm.Dimensions).includes(logicalId(construct.onDemandFunction)),
      );
    expect(throttles).toEqual([
      expect.objectContaining({ AlarmDescription: expect.stringContaining('ran 3 renders at once') }),
    ]);
  });
});

describe('validation at synth', () => {
  const pipeline = (props: ImagePipelineProps) => () =>
    new ImagePipeline(new Stack(newApp(), 'Invalid'), 'Pipeline', props);

  it('names each invalid setting', () => {
    expect(pipeline({ settings: { maxUploadBytes: 0, presignTtlSeconds: 5 } })).toThrow(
      /invalid Aperture settings: .*maxUploadBytes.*presignTtlSeconds/,
    );
  });

  it('refuses settings that would overflow the 4 KB function environment', () => {
    const variants = Array.from({ length: 40 }, (_, i) => ({
      name: `variant-${i}`,
      fit: 'inside' as const,
      width: 100 + i,
      height: 100 + i,
      formats: [{ format: 'webp' as const, quality: 80 }],
    }));
    expect(pipeline({ settings: { variants } })).toThrow(/over Lambda's 4 KB limit/);
  });

  it('fits the default variants and a watermarked preview with its mark in the function environment', () => {
    expect(pipeline({ settings: { variants: [...DEFAULT_VARIANTS, watermarkedPreview()] } })).not.toThrow();
  });

  it.each([0, 2.5, -1])('refuses %s renders at once on demand', (onDemandConcurrency) => {
    expect(pipeline({ onDemandConcurrency })).toThrow(/reservedConcurrency must be a whole number from 1/);
  });

  it('refuses a domain without a name', () => {
    expect(
      pipeline({
        domain: {
          names: [],
          certificate: { certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' } as never,
        },
      }),
    ).toThrow(/domain.names/);
  });
});

describe('CDK context', () => {
  const contextOf = (context: Record<string, unknown>) => readContext(newApp(context));

  it('defaults to a retained stack named Aperture', () => {
    expect(contextOf({})).toEqual({ stackName: 'Aperture', removalPolicy: 'retain' });
  });

  it('reads comma-separated lists from -c and arrays from cdk.json alike', () => {
    const fromCli = contextOf({ jwtIssuer: ISSUER, jwtAudience: 'a, b', allowedOrigins: ORIGINS.join(',') });
    const fromJson = contextOf({ jwtIssuer: ISSUER, jwtAudience: ['a', 'b'], allowedOrigins: ORIGINS });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ jwtAudience: ['a', 'b'], allowedOrigins: ORIGINS });
  });

  it('rejects unknown removal policies and a lone JWT setting', () => {
    expect(() => contextOf({ removalPolicy: 'true' })).toThrow(/removalPolicy/);
    expect(() => contextOf({ jwtIssuer: ISSUER })).toThrow(/jwtIssuer and jwtAudience go together/);
  });

  it('builds the stack under the chosen name', () => {
    const app = newApp({ stackName: 'ImagesProd' });
    expect(new ApertureStack(app, readContext(app).stackName).stackName).toBe('ImagesProd');
  });
});

describe('private delivery', () => {
  const publicKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

  it('makes the CDN trust only the key group, and the API sign with the secret it may read', () => {
    let secretArn = '';
    const { template, construct } = synth((stack) => {
      const privateKey = new Secret(stack, 'SigningKey');
      secretArn = stack.resolve(privateKey.secretArn).Ref;
      return { privateDelivery: { publicKeyPem, privateKey, urlTtl: Duration.minutes(10) } };
    });
    const [publicKeyId] = Object.keys(template.findResources('AWS::CloudFront::PublicKey'));
    template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: Match.objectLike({ EncodedKey: publicKeyPem }),
    });
    template.hasResourceProperties('AWS::CloudFront::KeyGroup', {
      KeyGroupConfig: Match.objectLike({ Items: [{ Ref: publicKeyId }] }),
    });
    const [groupId] = Object.keys(template.findResources('AWS::CloudFront::KeyGroup'));
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ TrustedKeyGroups: [{ Ref: groupId }] }),
      }),
    });

    const api = template.findResources('AWS::Lambda::Function')[logicalId(construct.apiFunction)];
    const signedUrls = api?.Properties.Environment.Variables[ENV.signedUrls];
    expect(JSON.stringify(signedUrls)).toContain(publicKeyId);
    expect(JSON.stringify(signedUrls)).toContain(secretArn);
    expect(JSON.stringify(signedUrls)).toContain('\\"ttlSeconds\\":600');
    const reads = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      policy.Properties.PolicyDocument.Statement.filter((s: { Action: string | string[] }) =>
        [s.Action].flat().includes('secretsmanager:GetSecretValue'),
      ).map((s: { Resource: unknown }) => ({ roles: policy.Properties.Roles, resource: s.Resource })),
    );
    // The API signs what it answers; the announce function, the same views in the events.
    expect(reads).toEqual([
      { roles: [expect.anything()], resource: { Ref: secretArn } },
      { roles: [expect.anything()], resource: { Ref: secretArn } },
    ]);
    expect(reads.map((read) => JSON.stringify(read.roles)).sort()).toEqual([
      expect.stringContaining('Api'),
      expect.stringContaining('Announce'),
    ]);
  });

  it('is off by default: no key group, nothing signed', () => {
    const { template, construct } = synth(() => ({}));
    expect(template.findResources('AWS::CloudFront::KeyGroup')).toEqual({});
    const api = template.findResources('AWS::Lambda::Function')[logicalId(construct.apiFunction)];
    expect(api?.Properties.Environment.Variables[ENV.signedUrls]).toBeUndefined();
  });
});

describe('with multipart uploads kept open for 4 days', () => {
  const days = 4;
  let construct: ImagePipeline;
  let template: Template;
  beforeAll(() => {
    ({ construct, template } = synth(() => ({
      settings: { multipartUploadDays: days },
      allowedOrigins: ORIGINS,
    })));
  });
  const bucket = (which: 'uploadBucket' | 'imageBucket') =>
    template.findResources('AWS::S3::Bucket')[logicalId(construct[which])]?.Properties;

  it('aborts incomplete multipart uploads to the upload bucket after the setting, and expires stale uploads a day after', () => {
    expect(bucket('uploadBucket')?.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
          Status: 'Enabled',
        }),
        expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: days + 1, Status: 'Enabled' }),
      ]),
    );
    expect(bucket('imageBucket')?.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    ]);
  });

  it('hands the same number to the API, which dates a multipart upload’s expiry by it', () => {
    const { api } = functionsOf(construct, template);
    expect(JSON.parse(api?.Environment.Variables[ENV.settings]).multipartUploadDays).toBe(days);
  });

  it('lets browsers of the origins PUT parts and read their ETag', () => {
    expect(bucket('uploadBucket')?.CorsConfiguration.CorsRules).toEqual([
      expect.objectContaining({
        AllowedOrigins: ORIGINS,
        AllowedMethods: expect.arrayContaining(['PUT']),
        ExposedHeaders: ['ETag'],
      }),
    ]);
  });
});
