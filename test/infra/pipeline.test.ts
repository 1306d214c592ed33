import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CachePolicy } from 'aws-cdk-lib/aws-cloudfront';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_TABLE } from '../../lambdas/adapters/aws/catalog-table.js';
import {
  MAX_RECEIVE_COUNT,
  RENDER_TIMEOUT_SECONDS,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../../lambdas/adapters/aws/work-queues.js';
import { ENV } from '../../lambdas/core/environment.js';
import { DERIVATIVES_PREFIX, UPLOADS_PREFIX } from '../../lambdas/core/keys.js';
import { WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { API_ROUTES } from '../../lambdas/handlers/api-routes.js';
import { MAX_QUEUE_AGE } from '../../lib/monitoring.js';
import { asArray, getAtt, logicalId, type Synthesized, statementsOf, synthPipeline } from './synth.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthPipeline();
});

const pipeline = () => synth.stack.pipeline;
const resources = (type: string) => synth.template.findResources(type);
const ref = (construct: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(construct) });

/** The statement every TLS-only resource policy carries: deny anything sent without TLS. */
const isTlsOnlyDeny = (statement: { Effect: string; Condition?: Record<string, Record<string, unknown>> }) =>
  statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false';

describe('buckets', () => {
  const buckets = () => [pipeline().uploadBucket, pipeline().imageBucket, pipeline().logBucket];

  it('creates exactly the upload, image and access-log buckets', () => {
    expect(Object.keys(resources('AWS::S3::Bucket')).sort()).toEqual(buckets().map(logicalId).sort());
  });

  it('blocks every kind of public access and encrypts with SSE-S3', () => {
    for (const [, bucket] of Object.entries(resources('AWS::S3::Bucket'))) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
    }
  });

  it('refuses requests without TLS on every bucket', () => {
    for (const bucket of buckets()) {
      const statements = statementsOf(
        synth.template,
        'AWS::S3::BucketPolicy',
        (p) => JSON.stringify(p.Bucket) === JSON.stringify(ref(bucket)),
      );
      expect(statements.some(isTlsOnlyDeny), bucket.node.path).toBe(true);
    }
  });

  it('has no bucket policy granting anything to everyone', () => {
    const allows = statementsOf(synth.template, 'AWS::S3::BucketPolicy').filter((s) => s.Effect === 'Allow');
    for (const statement of allows) {
      expect(JSON.stringify(statement.Principal)).not.toMatch(/"\*"/);
    }
  });

  it('retains buckets by default', () => {
    for (const bucket of buckets()) {
      const resource = resources('AWS::S3::Bucket')[logicalId(bucket)];
      expect(resource?.DeletionPolicy).toBe('Retain');
      expect(resource?.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('logs accesses to the upload and image buckets into the log bucket', () => {
    for (const bucket of [pipeline().uploadBucket, pipeline().imageBucket]) {
      expect(resources('AWS::S3::Bucket')[logicalId(bucket)]?.Properties.LoggingConfiguration).toMatchObject({
        DestinationBucketName: ref(pipeline().logBucket),
      });
    }
  });

  it('expires stale uploads after 2 days and aborts incomplete multipart uploads after 1', () => {
    const rules =
      resources('AWS::S3::Bucket')[logicalId(pipeline().uploadBucket)]?.Properties.LifecycleConfiguration
        .Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: UPLOADS_PREFIX, ExpirationInDays: 2, Status: 'Enabled' }),
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ]),
    );
  });

  it('aborts incomplete multipart uploads in the image bucket, and never expires its images', () => {
    const rules =
      resources('AWS::S3::Bucket')[logicalId(pipeline().imageBucket)]?.Properties.LifecycleConfiguration
        .Rules;
    expect(rules).toEqual([
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    ]);
  });

  it('allows browser POST and PUT uploads, exposing the ETag', () => {
    expect(
      resources('AWS::S3::Bucket')[logicalId(pipeline().uploadBucket)]?.Properties.CorsConfiguration,
    ).toEqual({
      CorsRules: [
        expect.objectContaining({
          AllowedMethods: ['POST', 'PUT'],
          AllowedOrigins: ['*'],
          ExposedHeaders: ['ETag'],
        }),
      ],
    });
    expect(
      resources('AWS::S3::Bucket')[logicalId(pipeline().imageBucket)]?.Properties.CorsConfiguration,
    ).toBeUndefined();
  });
});

describe('catalog table', () => {
  it('is on-demand, point-in-time recoverable, KMS-encrypted, with TTL and the collection index', () => {
    const { partitionKey, sortKey, timeToLiveAttribute, collectionIndex } = CATALOG_TABLE;
    expect(Object.values(resources('AWS::DynamoDB::Table'))).toEqual([
      expect.objectContaining({
        DeletionPolicy: 'Retain',
        Properties: expect.objectContaining({
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
          KeySchema: [
            { AttributeName: partitionKey, KeyType: 'HASH' },
            { AttributeName: sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            expect.objectContaining({
              IndexName: collectionIndex.name,
              KeySchema: [
                { AttributeName: collectionIndex.partitionKey, KeyType: 'HASH' },
                { AttributeName: collectionIndex.sortKey, KeyType: 'RANGE' },
              ],
            }),
          ],
        }),
      }),
    ]);
  });
});

describe('work queues', () => {
  it.each(WORK_LANES)('%s: parks a message in its own DLQ after MAX_RECEIVE_COUNT receives', (lane) => {
    const { queue, deadLetterQueue } = pipeline().queues[lane];
    const properties = resources('AWS::SQS::Queue')[logicalId(queue)]?.Properties;
    expect(properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt(deadLetterQueue, 'Arn'),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    expect(MAX_RECEIVE_COUNT).toBe(3);
    expect(resources('AWS::SQS::Queue')[logicalId(deadLetterQueue)]?.Properties.MessageRetentionPeriod).toBe(
      14 * 24 * 3600,
    );
  });

  it.each(WORK_LANES)('%s: hides a message for at least 6x its render timeout', (lane) => {
    const visibility =
      resources('AWS::SQS::Queue')[logicalId(pipeline().queues[lane].queue)]?.Properties.VisibilityTimeout;
    expect(VISIBILITY_TIMEOUT_FACTOR).toBeGreaterThanOrEqual(6);
    expect(visibility).toBeGreaterThanOrEqual(6 * RENDER_TIMEOUT_SECONDS[lane]);
  });

  it('encrypts every queue and refuses requests without TLS', () => {
    const queues = WORK_LANES.flatMap((lane) => Object.values(pipeline().queues[lane]));
    expect(Object.keys(resources('AWS::SQS::Queue'))).toHaveLength(queues.length);
    for (const queue of queues) {
      expect(resources('AWS::SQS::Queue')[logicalId(queue)]?.Properties.SqsManagedSseEnabled).toBe(true);
      const statements = statementsOf(synth.template, 'AWS::SQS::QueuePolicy', (p) =>
        JSON.stringify(p.Queues).includes(logicalId(queue)),
      );
      expect(statements.some(isTlsOnlyDeny), queue.node.path).toBe(true);
    }
  });
});

describe('functions', () => {
  it('run Node.js 22 on arm64', () => {
    const functions = Object.values(resources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    }
  });

  it('are bundled by the local esbuild into an ESM file that can still require', () => {
    const assembly = synth.app.synth();
    const code = resources('AWS::Lambda::Function')[logicalId(pipeline().apiFunction)]?.Properties.Code;
    expect(code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    const manifest = assembly.artifacts.find(AssetManifestArtifact.isAssetManifestArtifact);
    const source = manifest?.contents.files?.[code.S3Key.replace(/\.zip$/, '')]?.source.path;
    expect(source, 'the function code asset').toBeDefined();
    const bundle = join(assembly.directory, source ?? '', 'index.mjs');
    const opening = readFileSync(bundle, 'utf8').slice(0, 200);
    expect(opening).toMatch(/^import \{ createRequire as \w+ \} from 'node:module';/);
  });

  it('log to their own log group with a retention', () => {
    const fn = resources('AWS::Lambda::Function')[logicalId(pipeline().apiFunction)]?.Properties;
    const logGroupId = fn.LoggingConfig.LogGroup.Ref;
    expect(resources('AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toBe(30);
  });

  it('carry no managed policy', () => {
    for (const role of Object.values(resources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('API function', () => {
  const apiFunction = () => resources('AWS::Lambda::Function')[logicalId(pipeline().apiFunction)]?.Properties;
  const apiStatements = () => statementsOf(synth.template, 'AWS::IAM::Policy');

  it('has 256 MB, 10 s and the pipeline environment', () => {
    const fn = apiFunction();
    expect(fn).toMatchObject({ MemorySize: 256, Timeout: 10 });
    const variables = fn.Environment.Variables;
    expect(JSON.parse(variables[ENV.settings])).toEqual(parseSettings());
    expect(variables[ENV.uploadBucket]).toEqual(ref(pipeline().uploadBucket));
    expect(variables[ENV.imageBucket]).toEqual(ref(pipeline().imageBucket));
    expect(variables[ENV.table]).toEqual(ref(pipeline().table));
    expect(variables[ENV.cdnBaseUrl]).toEqual({
      'Fn::Join': ['', ['https://', getAtt(pipeline().distribution, 'DomainName')]],
    });
  });

  it('has no wildcard actions', () => {
    const actions = apiStatements().flatMap((s) => asArray(s.Action));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).not.toMatch(/\*/);
  });

  it('may put objects under uploads/ only, and touch no other bucket', () => {
    const s3 = apiStatements().filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [getAtt(pipeline().uploadBucket, 'Arn'), `/${UPLOADS_PREFIX}*`]] },
      },
    ]);
  });

  it('may only get and put items of the catalog table', () => {
    const dynamo = apiStatements().filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(asArray(dynamo[0]?.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(dynamo[0]?.Resource).toEqual([
      getAtt(pipeline().table, 'Arn'),
      { 'Fn::Join': ['', [getAtt(pipeline().table, 'Arn'), '/index/*']] },
    ]);
  });
});

describe('HTTP API', () => {
  it('routes exactly API_ROUTES to the API function, each behind IAM authorization', () => {
    const routes = Object.values(resources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(Object.values(API_ROUTES).sort());
    for (const route of routes) expect(route.AuthorizationType).toBe('AWS_IAM');
    expect(resources('AWS::ApiGatewayV2::Authorizer')).toEqual({});
  });

  it('answers CORS preflights for the allowed origins', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: ['*'], AllowMethods: ['GET', 'POST'] },
    });
  });

  it('logs every request and throttles the default stage', () => {
    const [stage] = Object.values(resources('AWS::ApiGatewayV2::Stage'));
    expect(stage?.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const destination = stage?.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(resources('AWS::Logs::LogGroup')[destination]).toBeDefined();
    expect(JSON.parse(stage?.Properties.AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
  });
});

describe('CDN', () => {
  const distribution = () =>
    resources('AWS::CloudFront::Distribution')[logicalId(pipeline().distribution)]?.Properties
      .DistributionConfig;

  it('reads the image bucket through Origin Access Control, under /derived only', () => {
    expect(Object.values(resources('AWS::CloudFront::OriginAccessControl'))).toEqual([
      expect.objectContaining({
        Properties: {
          OriginAccessControlConfig: expect.objectContaining({
            OriginAccessControlOriginType: 's3',
            SigningBehavior: 'always',
            SigningProtocol: 'sigv4',
          }),
        },
      }),
    ]);
    expect(distribution().Origins).toEqual([
      expect.objectContaining({
        DomainName: getAtt(pipeline().imageBucket, 'RegionalDomainName'),
        OriginPath: `/${DERIVATIVES_PREFIX.slice(0, -1)}`,
        OriginAccessControlId: expect.anything(),
        S3OriginConfig: { OriginAccessIdentity: '' },
      }),
    ]);
  });

  it('lets only this distribution read the image bucket, and nothing outside derived/', () => {
    const statements = statementsOf(
      synth.template,
      'AWS::S3::BucketPolicy',
      (p) => JSON.stringify(p.Bucket) === JSON.stringify(ref(pipeline().imageBucket)),
    );
    const cloudFront = statements.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudfront.amazonaws.com' }),
    );
    expect(cloudFront).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 's3:GetObject',
          Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:GetObject',
          NotResource: {
            'Fn::Join': ['', [getAtt(pipeline().imageBucket, 'Arn'), `/${DERIVATIVES_PREFIX}*`]],
          },
        }),
      ]),
    );
    expect(JSON.stringify(cloudFront[0]?.Condition)).toContain(logicalId(pipeline().distribution));
  });

  it('serves HTTP/2 and HTTP/3, redirects to HTTPS, caches with CachingOptimized', () => {
    expect(distribution()).toMatchObject({
      HttpVersion: 'http2and3',
      PriceClass: 'PriceClass_100',
      DefaultCacheBehavior: {
        ViewerProtocolPolicy: 'redirect-to-https',
        AllowedMethods: ['GET', 'HEAD'],
        CachePolicyId: CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
      },
      Logging: { Bucket: getAtt(pipeline().logBucket, 'RegionalDomainName') },
    });
    expect(distribution().Restrictions).toBeUndefined();
    expect(distribution().WebACLId).toBeUndefined();
  });

  it('adds security headers to every response', () => {
    const [policy] = Object.entries(resources('AWS::CloudFront::ResponseHeadersPolicy'));
    expect(distribution().DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: policy?.[0] });
    const headers = policy?.[1].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers).toEqual({
      StrictTransportSecurity: expect.objectContaining({ IncludeSubdomains: true, Override: true }),
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
    });
    expect(headers.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(365 * 24 * 3600);
  });
});

describe('sharp layer', () => {
  it('targets Node.js 22 on arm64', () => {
    expect(Object.values(resources('AWS::Lambda::LayerVersion'))).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          CompatibleArchitectures: ['arm64'],
          CompatibleRuntimes: ['nodejs22.x'],
          Content: expect.objectContaining({ S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) }),
        }),
      }),
    ]);
  });
});

describe('monitoring', () => {
  const alarms = () => Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const alarmOn = (metricName: string, dimension: unknown) =>
    alarms().find(
      (a) => a.MetricName === metricName && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)),
    );

  it.each(WORK_LANES)('%s: alarms on any dead letter and on a job waiting over 15 minutes', (lane) => {
    const { queue, deadLetterQueue } = pipeline().queues[lane];
    expect(alarmOn('ApproximateNumberOfMessagesVisible', getAtt(deadLetterQueue, 'QueueName'))).toMatchObject(
      { Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' },
    );
    expect(alarmOn('ApproximateAgeOfOldestMessage', getAtt(queue, 'QueueName'))).toMatchObject({
      Threshold: MAX_QUEUE_AGE.toSeconds(),
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on the API function errors and throttles, and on API 5xx', () => {
    const fn = ref(pipeline().apiFunction);
    expect(alarmOn('Errors', fn)).toMatchObject({ Threshold: 0 });
    expect(alarmOn('Throttles', fn)).toMatchObject({ Threshold: 0 });
    expect(alarms().find((a) => a.MetricName === '5xx')).toMatchObject({ Threshold: 0 });
  });

  it('notifies one TLS-only topic from every alarm, and shows them on a dashboard', () => {
    const topic = ref(pipeline().alarmTopic);
    expect(alarms()).toHaveLength(pipeline().alarms.length);
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([topic]);
    expect(statementsOf(synth.template, 'AWS::SNS::TopicPolicy').some(isTlsOnlyDeny)).toBe(true);
    expect(Object.keys(resources('AWS::CloudWatch::Dashboard'))).toHaveLength(1);
  });
});

describe('stack', () => {
  it('outputs the API URL, CDN domain, bucket and table names', () => {
    for (const output of [
      'ApiUrl',
      'CdnDomainName',
      'CdnBaseUrl',
      'UploadBucketName',
      'ImageBucketName',
      'TableName',
    ]) {
      synth.template.hasOutput(output, {});
    }
  });

  it('hard-codes no physical names', () => {
    const nameProperties = [
      'BucketName',
      'TableName',
      'QueueName',
      'FunctionName',
      'RoleName',
      'TopicName',
      'LogGroupName',
      'DashboardName',
      'AlarmName',
      'LayerName',
    ];
    for (const [id, resource] of Object.entries(synth.template.toJSON().Resources)) {
      const properties = (resource as { Properties?: Record<string, unknown> }).Properties ?? {};
      for (const name of nameProperties) {
        // A reference to another resource's name is fine; a literal would collide between deployments.
        expect(typeof properties[name], `${id}.${name}`).not.toBe('string');
      }
    }
  });
});
