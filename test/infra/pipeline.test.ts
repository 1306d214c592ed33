import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CachePolicy } from 'aws-cdk-lib/aws-cloudfront';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ANALYSIS_PREFIX,
  API_ROUTES,
  CATALOG_TABLE,
  DERIVATIVES_PREFIX,
  ENV,
  MAX_RECEIVE_COUNT,
  ORIGINALS_PREFIX,
  RENDER_TIMEOUT_SECONDS,
  UPLOADS_PREFIX,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../../lambdas/contract.js';
import { WORK_LANES, type WorkLane } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { upkeepVersion } from '../../lambdas/core/upkeep.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';
import { MAX_QUEUE_AGE } from '../../lib/monitoring.js';
import { DEFAULT_ON_DEMAND_CONCURRENCY } from '../../lib/on-demand-renderer.js';
import {
  asArray,
  bundleOf,
  getAtt,
  grantsOf,
  logicalId,
  roleStatements,
  type Synthesized,
  statementsOf,
  synthPipeline,
} from './synth.js';

let synth: Synthesized;
// Bundled, as some tests read the functions' code.
beforeAll(() => {
  synth = synthPipeline(undefined, { bundle: true });
});

const pipeline = () => synth.stack.pipeline;
const resources = (type: string) => synth.template.findResources(type);
const ref = (construct: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(construct) });
const functionProperties = (fn: IFunction) => resources('AWS::Lambda::Function')[logicalId(fn)]?.Properties;
/** The functions Aperture builds (ApertureFunction), as opposed to CDK's deploy-time helpers. */
const apertureFunctions = () => [
  pipeline().apiFunction,
  pipeline().ingestFunction,
  ...WORK_LANES.map((lane) => pipeline().renderFunctions[lane]),
  pipeline().onDemandFunction,
  pipeline().reprocessFunction,
  pipeline().reconcile.auditFunction,
  pipeline().reconcile.repairFunction,
  pipeline().announceFunction,
  pipeline().webhooks.fanOutFunction,
  pipeline().webhooks.deliveryFunction,
];
/** An object ARN pattern in a bucket, as CDK renders it. */
const objectsIn = (bucket: Parameters<typeof logicalId>[0], pattern: string) => ({
  'Fn::Join': ['', [getAtt(bucket, 'Arn'), `/${pattern}`]],
});

/** Orders grants (or anything JSON) so that lists can be compared whatever order CDK wrote them in. */
const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/**
 * Checks that a function imports sharp from the layer and bundles none of its code: sharp's loader
 * carries a message (checked here to be there), so its absence means sharp was not bundled.
 */
function expectSharpFromLayer(fn: IFunction): void {
  const marker = 'Could not load the "sharp" module';
  const sharpDist = dirname(createRequire(import.meta.url).resolve('sharp'));
  const sharpSources = readdirSync(sharpDist).filter((file) => /\.[cm]?js$/.test(file));
  expect(sharpSources.some((file) => readFileSync(join(sharpDist, file), 'utf8').includes(marker))).toBe(
    true,
  );

  expect(functionProperties(fn).Layers, fn.node.path).toEqual([ref(pipeline().sharpLayer)]);
  // Booleans, so that a failure names what went wrong instead of printing a megabyte of bundle.
  const bundle = bundleOf(synth, fn);
  expect(/\bimport\s*\w+\s*from\s*["']sharp["']/.test(bundle), 'sharp is an external import').toBe(true);
  expect(bundle.includes(marker), "sharp's loader is in the bundle").toBe(false);
  expect(bundle.includes('@img/sharp-'), "sharp's platform packages are named in the bundle").toBe(false);
}

/** The statement every TLS-only resource policy carries: deny anything sent without TLS. */
const isTlsOnlyDeny = (statement: { Effect: string; Condition?: Record<string, Record<string, unknown>> }) =>
  statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false';

describe('buckets', () => {
  const buckets = () => [
    pipeline().uploadBucket,
    pipeline().imageBucket,
    pipeline().logBucket,
    pipeline().reconcile.reportBucket,
  ];

  it('creates exactly the upload, image, access-log and reconcile report buckets', () => {
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

  it('logs accesses to the upload, image and report buckets into the log bucket', () => {
    for (const bucket of [
      pipeline().uploadBucket,
      pipeline().imageBucket,
      pipeline().reconcile.reportBucket,
    ]) {
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
  it('is on-demand, point-in-time recoverable, KMS-encrypted, with TTL, the collection and upkeep indexes', () => {
    const { partitionKey, sortKey, timeToLiveAttribute, collectionIndex, upkeepIndex } = CATALOG_TABLE;
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
            {
              IndexName: upkeepIndex.name,
              KeySchema: [
                { AttributeName: upkeepIndex.partitionKey, KeyType: 'HASH' },
                { AttributeName: upkeepIndex.sortKey, KeyType: 'RANGE' },
              ],
              // Keys only: renders rewrite an image's variants, never its key, so they cost the index nothing.
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
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
    const queues = [
      ...WORK_LANES.flatMap((lane) => Object.values(pipeline().queues[lane])),
      pipeline().ingestFailures,
      pipeline().announceFailures,
      pipeline().webhooks.eventQueue,
      pipeline().webhooks.eventDeadLetterQueue,
      pipeline().webhooks.deliveryQueue,
      pipeline().webhooks.deliveryDeadLetterQueue,
    ];
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
    for (const fn of apertureFunctions()) {
      expect(functionProperties(fn), fn.node.path).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
      });
    }
  });

  it("are the only functions but CDK's own handlers of S3 notifications and of AwsCustomResource", () => {
    const ours = apertureFunctions().map(logicalId);
    const others = Object.entries(resources('AWS::Lambda::Function')).filter(([id]) => !ours.includes(id));
    expect(others).toEqual([
      [
        expect.stringMatching(/^BucketNotificationsHandler/),
        expect.objectContaining({
          Properties: expect.objectContaining({
            Description: expect.stringContaining('Custom::S3BucketNotifications'),
          }),
        }),
      ],
      // The variant set trigger's (lib/reprocess.ts).
      [expect.stringMatching(/^AWS679f53fac002430cb0da5b7982bd2287/), expect.anything()],
    ]);
  });

  it('are bundled by the local esbuild into an ESM file that can still require', () => {
    for (const fn of apertureFunctions()) {
      expect(bundleOf(synth, fn).slice(0, 200)).toMatch(
        /^import \{ createRequire as \w+ \} from 'node:module';/,
      );
    }
  });

  it('log to their own log group with a retention', () => {
    const logGroups = apertureFunctions().map((fn) => functionProperties(fn).LoggingConfig.LogGroup.Ref);
    expect(new Set(logGroups).size).toBe(logGroups.length);
    for (const logGroup of logGroups) {
      expect(resources('AWS::Logs::LogGroup')[logGroup]?.Properties.RetentionInDays).toBe(30);
    }
  });

  it("carry no managed policy (only CDK's own handlers have the basic execution role)", () => {
    const withManagedPolicies = Object.entries(resources('AWS::IAM::Role')).filter(
      ([, role]) => role.Properties.ManagedPolicyArns !== undefined,
    );
    const basicExecution = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      ],
    };
    // Sorted by id: their order in the template follows construction, which is not this test's concern.
    expect(withManagedPolicies.sort(([a], [b]) => a.localeCompare(b))).toEqual([
      [
        expect.stringMatching(/^AWS679f53fac002430cb0da5b7982bd2287/),
        expect.objectContaining({
          Properties: expect.objectContaining({ ManagedPolicyArns: [basicExecution] }),
        }),
      ],
      [
        expect.stringMatching(/^BucketNotificationsHandler/),
        expect.objectContaining({
          Properties: expect.objectContaining({ ManagedPolicyArns: [basicExecution] }),
        }),
      ],
    ]);
  });

  it('reprocess hourly, finding images through the upkeep index alone, listing derivatives and queuing jobs, nothing else', () => {
    // Beside the webhooks' rule on the pipeline's bus (test/infra/webhooks.test.ts).
    const rules = Object.values(resources('AWS::Events::Rule'))
      .map((r) => r.Properties)
      .filter((rule) => rule.ScheduleExpression !== undefined);
    expect(rules).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(1 hour)',
        Targets: [expect.objectContaining({ Arn: getAtt(pipeline().reprocessFunction, 'Arn') })],
      }),
    ]);
    const statements = roleStatements(synth.template, pipeline().reprocessFunction);
    const actions = statements
      .flatMap((s) => asArray(s.Action))
      .filter((a) => !a.startsWith('logs:'))
      .sort();
    expect([...new Set(actions)]).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      's3:ListBucket',
      'sqs:SendMessage',
    ]);
    // No scan of anything; queries of the upkeep index, and of the table only where the upkeep's
    // version records are (their partition key), which is all it may delete.
    const table = getAtt(pipeline().table, 'Arn');
    const upkeepIndex = { 'Fn::Join': ['', [table, `/index/${CATALOG_TABLE.upkeepIndex.name}`]] };
    const onVersions = {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CATALOG_TABLE.upkeepVersions.partition] },
    };
    const queriesAndDeletes = statements.filter((s) =>
      asArray(s.Action).some((action) => /dynamodb:(Query|DeleteItem)/.test(action)),
    );
    expect(queriesAndDeletes).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: upkeepIndex },
      {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:Query'],
        Resource: table,
        Condition: onVersions,
      },
    ]);
  });

  it('record the upkeep version and start the upkeep when a deploy changes it, and only then', () => {
    const calls = (template: typeof synth.template) => {
      const found = Object.entries(template.findResources('Custom::AWS'));
      expect(found).toHaveLength(2);
      const [record, start] = ['RecordUpkeepVersion', 'OnUpkeepVersionChange'].map((id) => {
        const [, resource] = found.find(([logical]) => logical.includes(id)) ?? [];
        return resource as { Properties: { Create: unknown; Update: unknown }; DependsOn?: string[] };
      });
      if (!record || !start) throw new Error('both custom resources are there');
      return { record, start };
    };
    const deployed = calls(synth.template);
    const version = upkeepVersion(parseSettings());
    const start = JSON.stringify(deployed.start.Properties.Update);
    expect(start).toContain('"service\\":\\"Lambda\\"');
    expect(start).toContain('"action\\":\\"invoke\\"');
    expect(start).toContain('InvocationType\\":\\"Event');
    expect(start).toContain(JSON.stringify(ref(pipeline().reprocessFunction)));
    expect(start).toContain(version);
    const record = JSON.stringify(deployed.record.Properties.Update);
    expect(record).toContain('"action\\":\\"putItem\\"');
    expect(record).toContain(`${CATALOG_TABLE.upkeepVersions.sortPrefix}${version}`);
    for (const { Properties } of [deployed.record, deployed.start])
      expect(Properties.Create).toEqual(Properties.Update);
    // Recorded before the run starts, so the run always finds the version it runs on recorded.
    expect(deployed.start.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/RecordUpkeepVersion/)]),
    );

    // CloudFormation calls the resources again only when their properties change: a changed variant
    // set or a changed enrichment does, another deploy does not.
    const same = calls(synthPipeline().template);
    expect(same.start.Properties.Update).toEqual(deployed.start.Properties.Update);
    const square = {
      name: 'square',
      fit: 'cover' as const,
      width: 600,
      height: 600,
      formats: [{ format: 'webp' as const, quality: 70 }],
    };
    for (const settings of [{ variants: [...DEFAULT_VARIANTS, square] }, { nearDuplicates: false }]) {
      const changed = calls(synthPipeline({ settings }).template);
      expect(changed.start.Properties.Update).not.toEqual(deployed.start.Properties.Update);
      expect(changed.record.Properties.Update).not.toEqual(deployed.record.Properties.Update);
    }
  });

  it('the upkeep version triggers may invoke the reprocess function and write version records, nothing else', () => {
    const all = statementsOf(synth.template, 'AWS::IAM::Policy');
    const invoking = all.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(
      invoking.filter((s) => JSON.stringify(s.Resource).includes(logicalId(pipeline().reprocessFunction))),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: getAtt(pipeline().reprocessFunction, 'Arn'),
      },
    ]);
    // The one PutItem on the version records is the trigger's: the reprocess function only dates them.
    const onVersions = all.filter((s) =>
      JSON.stringify(s.Condition ?? {}).includes(CATALOG_TABLE.upkeepVersions.partition),
    );
    expect(onVersions.map((s) => s.Action)).toEqual([
      ['dynamodb:DeleteItem', 'dynamodb:Query'],
      'dynamodb:PutItem',
    ]);
    expect(roleStatements(synth.template, pipeline().reprocessFunction)).not.toContainEqual(
      expect.objectContaining({ Action: 'dynamodb:PutItem' }),
    );
  });

  it('grant no wildcard action anywhere in the stack', () => {
    const actions = statementsOf(synth.template, 'AWS::IAM::Policy').flatMap((s) => asArray(s.Action));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).not.toMatch(/\*/);
  });
});

describe('API function', () => {
  const apiFunction = () => functionProperties(pipeline().apiFunction);
  const apiStatements = () => roleStatements(synth.template, pipeline().apiFunction);

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

  it('may put uploads, list their parts and abort them, and delete and list (its own prefix) only where a deleted image lives', () => {
    const s3 = apiStatements().filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
    const objects = (bucket: IConstruct, prefix: string) => ({
      'Fn::Join': ['', [getAtt(bucket, 'Arn'), `/${prefix}*`]],
    });
    expect(s3).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          // PutObject covers creating a multipart upload, its parts and completing it.
          Action: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject'],
          Resource: objects(pipeline().uploadBucket, UPLOADS_PREFIX),
        },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: getAtt(pipeline().imageBucket, 'Arn'),
          Condition: { StringLike: { 's3:prefix': [`${DERIVATIVES_PREFIX}*`] } },
        },
        {
          Effect: 'Allow',
          Action: 's3:DeleteObject',
          Resource: [
            // CDK merges the three grants and sorts their resources.
            objects(pipeline().imageBucket, ANALYSIS_PREFIX),
            objects(pipeline().imageBucket, DERIVATIVES_PREFIX),
            objects(pipeline().imageBucket, ORIGINALS_PREFIX),
          ],
        },
      ]),
    );
    expect(s3).toHaveLength(3);
  });

  it('may invalidate its own distribution only', () => {
    const cloudfront = apiStatements().filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('cloudfront:')),
    );
    expect(cloudfront).toHaveLength(1);
    expect(cloudfront[0]?.Action).toBe('cloudfront:CreateInvalidation');
    expect(JSON.stringify(cloudfront[0]?.Resource)).toContain(JSON.stringify(ref(pipeline().distribution)));
  });

  it('may get, put, update and delete items of the catalog table (one at a time or in batches), and query it and its index', () => {
    const dynamo = apiStatements().filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(asArray(dynamo[0]?.Action).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamo[0]?.Resource).toEqual([
      getAtt(pipeline().table, 'Arn'),
      { 'Fn::Join': ['', [getAtt(pipeline().table, 'Arn'), '/index/*']] },
    ]);
  });

  it('is told the distribution whose caches a delete clears', () => {
    expect(apiFunction().Environment.Variables[ENV.distributionId]).toEqual(ref(pipeline().distribution));
  });
});

describe('ingest function', () => {
  const ingest = () => pipeline().ingestFunction;

  it('has 1 GB, 60 s, no reserved concurrency, the sharp layer and the API function environment', () => {
    const fn = functionProperties(ingest());
    expect(fn).toMatchObject({ MemorySize: 1024, Timeout: 60, Layers: [ref(pipeline().sharpLayer)] });
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Environment).toEqual(functionProperties(pipeline().apiFunction).Environment);
  });

  it('imports sharp from the layer and bundles none of its code', () => {
    expectSharpFromLayer(ingest());
  });

  it('is invoked by S3 for objects created under uploads/ of the upload bucket, and nothing else', () => {
    const notifications = Object.values(resources('Custom::S3BucketNotifications')).map((r) => r.Properties);
    expect(notifications).toEqual([
      expect.objectContaining({
        BucketName: ref(pipeline().uploadBucket),
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: UPLOADS_PREFIX }] } },
              LambdaFunctionArn: getAtt(ingest(), 'Arn'),
            },
          ],
        },
      }),
    ]);
    const invokers = Object.values(resources('AWS::Lambda::Permission'))
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(getAtt(ingest(), 'Arn')));
    expect(invokers).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(ingest(), 'Arn'),
        Principal: 's3.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: getAtt(pipeline().uploadBucket, 'Arn'),
      },
    ]);
  });

  it('retries a failed event twice within 6 hours, then parks it with its error', () => {
    expect(Object.values(resources('AWS::Lambda::EventInvokeConfig')).map((r) => r.Properties)).toEqual([
      {
        FunctionName: ref(ingest()),
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: getAtt(pipeline().ingestFailures, 'Arn') } },
      },
    ]);
    expect(resources('AWS::SQS::Queue')[logicalId(pipeline().ingestFailures)]?.Properties).toEqual({
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
  });

  it("may read and delete uploads, put originals, write catalog items (a new owner's lookup entries in a batch) and queue jobs, nothing else", () => {
    const table = getAtt(pipeline().table, 'Arn');
    const tableIndexes = { 'Fn::Join': ['', [table, '/index/*']] };
    const logGroup = functionProperties(ingest()).LoggingConfig.LogGroup.Ref;
    const expected = [
      ...['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
        action,
        resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
      })),
      ...['s3:GetObject', 's3:DeleteObject'].map((action) => ({
        action,
        resource: objectsIn(pipeline().uploadBucket, `${UPLOADS_PREFIX}*`),
      })),
      { action: 's3:PutObject', resource: objectsIn(pipeline().imageBucket, `${ORIGINALS_PREFIX}*`) },
      ...['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'].flatMap(
        (action) => [
          { action, resource: table },
          { action, resource: tableIndexes },
        ],
      ),
      ...[...WORK_LANES.map((lane) => pipeline().queues[lane].queue), pipeline().ingestFailures].map(
        (queue) => ({ action: 'sqs:SendMessage', resource: getAtt(queue, 'Arn') }),
      ),
    ];
    expect(grantsOf(roleStatements(synth.template, ingest())).sort(byJson)).toEqual(expected.sort(byJson));
  });
});

describe('render functions', () => {
  const render = (lane: WorkLane) => pipeline().renderFunctions[lane];
  const queueOf = (lane: WorkLane) => pipeline().queues[lane].queue;

  it.each(WORK_LANES)(
    '%s: times out at its lane timeout, a sixth of its queue visibility or less',
    (lane) => {
      const fn = functionProperties(render(lane));
      expect(fn.Timeout).toBe(RENDER_TIMEOUT_SECONDS[lane]);
      const visibility = resources('AWS::SQS::Queue')[logicalId(queueOf(lane))]?.Properties.VisibilityTimeout;
      expect(visibility).toBeGreaterThanOrEqual(6 * fn.Timeout);
    },
  );

  it('have one whole vCPU each (1,769 MB): both lanes are CPU-bound on one thread', () => {
    expect(WORK_LANES.map((lane) => [lane, functionProperties(render(lane)).MemorySize])).toEqual([
      ['thumbnails', 1769],
      ['variants', 1769],
    ]);
  });

  it.each(WORK_LANES)('%s: has no reserved concurrency and the API function environment', (lane) => {
    const fn = functionProperties(render(lane));
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Environment).toEqual(functionProperties(pipeline().apiFunction).Environment);
  });

  it.each(WORK_LANES)('%s: imports sharp from the layer and bundles none of its code', (lane) => {
    expectSharpFromLayer(render(lane));
  });

  it('consume their own lane, reporting failures per message: thumbnails 5 at once, variants 1', () => {
    const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping')).map((r) => r.Properties);
    const mappingOf = (lane: WorkLane) =>
      mappings.filter((m) => JSON.stringify(m.FunctionName) === JSON.stringify(ref(render(lane))));
    // And the announce function's, on the catalog's stream (test/infra/pipeline-events.test.ts), and
    // the two webhook functions' (test/infra/webhooks.test.ts).
    expect(mappings).toHaveLength(WORK_LANES.length + 3);
    // Exactly these properties: no ScalingConfig (maxConcurrency is deliberately unset), no filters.
    expect(mappingOf('thumbnails')).toEqual([
      {
        FunctionName: ref(render('thumbnails')),
        EventSourceArn: getAtt(queueOf('thumbnails'), 'Arn'),
        BatchSize: 5,
        MaximumBatchingWindowInSeconds: 0,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
    expect(mappingOf('variants')).toEqual([
      {
        FunctionName: ref(render('variants')),
        EventSourceArn: getAtt(queueOf('variants'), 'Arn'),
        BatchSize: 1,
        MaximumBatchingWindowInSeconds: 0,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
  });

  it.each(WORK_LANES)(
    '%s: may get originals, put and delete derivatives, get and update items (thumbnails: and file fingerprints) and consume its queue, nothing else',
    (lane) => {
      const table = getAtt(pipeline().table, 'Arn');
      const logGroup = functionProperties(render(lane)).LoggingConfig.LogGroup.Ref;
      const expected = [
        ...['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
          action,
          resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
        })),
        { action: 's3:GetObject', resource: objectsIn(pipeline().imageBucket, `${ORIGINALS_PREFIX}*`) },
        ...['s3:PutObject', 's3:DeleteObject'].map((action) => ({
          action,
          resource: objectsIn(pipeline().imageBucket, `${DERIVATIVES_PREFIX}*`),
        })),
        ...[
          'dynamodb:GetItem',
          'dynamodb:UpdateItem',
          // Listing an image's holders and writing their index entries, for its fingerprint.
          ...(lane === 'thumbnails' ? ['dynamodb:Query', 'dynamodb:BatchWriteItem'] : []),
        ].flatMap((action) => [
          { action, resource: table },
          { action, resource: { 'Fn::Join': ['', [table, '/index/*']] } },
        ]),
        // What the SQS event source grants its function, on this lane's queue alone.
        ...[
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ].map((action) => ({ action, resource: getAtt(queueOf(lane), 'Arn') })),
      ];
      expect(grantsOf(roleStatements(synth.template, render(lane))).sort(byJson)).toEqual(
        expected.sort(byJson),
      );
    },
  );

  it.each(WORK_LANES)('%s: may not list, delete originals, nor touch uploads', (lane) => {
    const s3 = grantsOf(roleStatements(synth.template, render(lane))).filter((g) =>
      g.action.startsWith('s3:'),
    );
    expect(s3.map((g) => g.action).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(s3.filter((g) => g.action === 's3:DeleteObject').map((g) => g.resource)).toEqual([
      objectsIn(pipeline().imageBucket, `${DERIVATIVES_PREFIX}*`),
    ]);
    expect(JSON.stringify(s3)).not.toContain(logicalId(pipeline().uploadBucket));
  });
});

describe('on-demand function', () => {
  it('renders at most 10 at once by default (reserved concurrency), with a vCPU and 28 s each', () => {
    expect(DEFAULT_ON_DEMAND_CONCURRENCY).toBe(10);
    expect(functionProperties(pipeline().onDemandFunction)).toMatchObject({
      ReservedConcurrentExecutions: DEFAULT_ON_DEMAND_CONCURRENCY,
      MemorySize: 1769,
      Timeout: 28,
    });
  });

  it('imports sharp from the layer and bundles none of its code', () => {
    expectSharpFromLayer(pipeline().onDemandFunction);
  });
});

describe('HTTP API', () => {
  it('routes exactly API_ROUTES to the API function, each behind IAM authorization but the open document', () => {
    const routes = Object.values(resources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(Object.values(API_ROUTES).sort());
    expect(routes.map((r) => r.RouteKey)).toContain('GET /v1/search');
    for (const route of routes) {
      expect([route.RouteKey, route.AuthorizationType]).toEqual([
        route.RouteKey,
        route.RouteKey === API_ROUTES.getOpenApi ? 'NONE' : 'AWS_IAM',
      ]);
    }
    expect(resources('AWS::ApiGatewayV2::Authorizer')).toEqual({});
  });

  it('answers CORS preflights for the allowed origins', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: ['*'], AllowMethods: ['GET', 'POST', 'DELETE'] },
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
    const controls = Object.values(resources('AWS::CloudFront::OriginAccessControl')).map(
      (r) => r.Properties.OriginAccessControlConfig,
    );
    for (const type of ['s3', 'lambda']) {
      expect(controls).toContainEqual(
        expect.objectContaining({
          OriginAccessControlOriginType: type,
          SigningBehavior: 'always',
          SigningProtocol: 'sigv4',
        }),
      );
    }
    expect(controls).toHaveLength(2);
    expect(distribution().Origins).toContainEqual(
      expect.objectContaining({
        DomainName: getAtt(pipeline().imageBucket, 'RegionalDomainName'),
        OriginPath: `/${DERIVATIVES_PREFIX.slice(0, -1)}`,
        OriginAccessControlId: expect.anything(),
        S3OriginConfig: { OriginAccessIdentity: '' },
      }),
    );
  });

  it('fails over to the on-demand renderer, only CloudFront may call it, and only for a missing object', () => {
    const config = distribution();
    const [group] = config.OriginGroups.Items;
    expect(config.DefaultCacheBehavior.TargetOriginId).toBe(group.Id);
    expect(group.FailoverCriteria.StatusCodes.Items.sort()).toEqual([403, 404]);
    const [primary, fallback] = group.Members.Items.map((m: { OriginId: string }) =>
      config.Origins.find((o: { Id: string }) => o.Id === m.OriginId),
    );
    expect(primary.S3OriginConfig).toBeDefined();
    const urls = Object.entries(resources('AWS::Lambda::Url'));
    expect(urls).toHaveLength(1);
    const [[urlId, url]] = urls as [[string, { Properties: Record<string, unknown> }]];
    expect(url.Properties).toMatchObject({
      AuthType: 'AWS_IAM',
      TargetFunctionArn: getAtt(pipeline().onDemandFunction, 'Arn'),
    });
    expect(JSON.stringify(fallback.DomainName)).toContain(urlId);
    expect(fallback.OriginAccessControlId).toBeDefined();
    const invokers = Object.values(resources('AWS::Lambda::Permission'))
      .map((r) => r.Properties)
      .filter((p) => p.Principal === 'cloudfront.amazonaws.com');
    // Only the distribution (SourceArn) may invoke the renderer, through its URL or directly.
    expect(invokers.map((p) => p.Action).sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunctionUrl',
    ]);
    for (const invoker of invokers) {
      expect(JSON.stringify(invoker.SourceArn)).toContain(`"Ref":"${logicalId(pipeline().distribution)}"`);
    }
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

  it('alarms on the ingest function errors and throttles, and on any parked ingest event', () => {
    const fn = ref(pipeline().ingestFunction);
    expect(alarmOn('Errors', fn)).toMatchObject({ Threshold: 0 });
    expect(alarmOn('Throttles', fn)).toMatchObject({ Threshold: 0 });
    expect(
      alarmOn('ApproximateNumberOfMessagesVisible', getAtt(pipeline().ingestFailures, 'QueueName')),
    ).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it.each(WORK_LANES)('%s: alarms on its render function errors and throttles', (lane) => {
    const fn = ref(pipeline().renderFunctions[lane]);
    expect(alarmOn('Errors', fn)).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarmOn('Throttles', fn)).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on the on-demand function errors, and on throttles: its reserved concurrency ran out', () => {
    const fn = ref(pipeline().onDemandFunction);
    expect(alarmOn('Errors', fn)).toMatchObject({ Threshold: 0 });
    expect(alarmOn('Throttles', fn)).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: expect.stringContaining(
        `ran ${DEFAULT_ON_DEMAND_CONCURRENCY} renders at once and refused more`,
      ),
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
