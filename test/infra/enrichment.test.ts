import { describe, expect, it } from 'vitest';
import {
  ANALYSIS_PREFIX,
  ENRICHMENT_BATCH_SIZE,
  ENRICHMENT_MEMORY_MB,
  ENRICHMENT_TIMEOUT_SECONDS,
  MAX_RECEIVE_COUNT,
} from '../../lambdas/contract.js';
import { asArray, getAtt, grantsOf, logicalId, roleStatements, synthPipeline } from './synth.js';

const ENRICHED = {
  settings: {
    enrichment: { enabled: true, moderation: { enabled: true, minConfidence: 0.8, holdFlagged: true } },
  },
};
const synth = synthPipeline(ENRICHED);
const pipeline = synth.stack.pipeline;
const resources = (type: string) => synth.template.findResources(type);
const worker = () => {
  if (!pipeline.enrichmentFunction) throw new Error('no enrichment function');
  return pipeline.enrichmentFunction;
};
const queue = () => {
  if (!pipeline.enrichmentQueue) throw new Error('no enrichment queue');
  return pipeline.enrichmentQueue;
};
const indexArn = () => {
  const [id] = Object.keys(resources('AWS::S3Vectors::Index'));
  return { 'Fn::GetAtt': [id, 'IndexArn'] };
};
const modelArn = (modelId: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, `::foundation-model/${modelId}`],
  ],
});

describe('the enrichment lane, when enabled', () => {
  it('has its own encrypted queue, six visibility timeouts long, and a dead-letter queue after the last try', () => {
    const queues = resources('AWS::SQS::Queue');
    const properties = queues[logicalId(queue())]?.Properties;
    expect(properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * ENRICHMENT_TIMEOUT_SECONDS,
      RedrivePolicy: { maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  });

  it('runs its function on the queue, one image a batch, failures reported per message', () => {
    const fn = resources('AWS::Lambda::Function')[logicalId(worker())]?.Properties;
    expect(fn).toMatchObject({ MemorySize: ENRICHMENT_MEMORY_MB, Timeout: ENRICHMENT_TIMEOUT_SECONDS });
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(queue(), 'Arn'),
      FunctionName: { Ref: logicalId(worker()) },
      BatchSize: ENRICHMENT_BATCH_SIZE,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('keeps the embeddings in an S3 Vectors index of their model, cosine, filtering on the owner only', () => {
    expect(Object.keys(resources('AWS::S3Vectors::VectorBucket'))).toHaveLength(1);
    synth.template.hasResourceProperties('AWS::S3Vectors::Index', {
      DataType: 'float32',
      Dimension: 1024,
      DistanceMetric: 'cosine',
      MetadataConfiguration: { NonFilterableMetadataKeys: ['imageId'] },
    });
  });

  it('lets the worker read analysis images, call only the configured models, and write only this index', () => {
    const grants = grantsOf(roleStatements(synth.template, worker()));
    const of = (action: string) => grants.filter((grant) => grant.action === action).map((g) => g.resource);
    expect(of('s3:GetObject')).toEqual([
      { 'Fn::Join': ['', [getAtt(pipeline.imageBucket, 'Arn'), `/${ANALYSIS_PREFIX}*`]] },
    ]);
    expect(of('rekognition:DetectLabels')).toEqual(['*']);
    expect(of('rekognition:DetectModerationLabels')).toEqual(['*']);
    expect(of('bedrock:InvokeModel')).toEqual([
      modelArn('amazon.nova-lite-v1:0'),
      modelArn('amazon.titan-embed-image-v1'),
    ]);
    expect(of('s3vectors:PutVectors')).toEqual([indexArn()]);
    expect(grants.map((g) => g.action)).not.toContain('s3:PutObject');
    expect(grants.map((g) => g.action)).not.toContain('s3vectors:QueryVectors');
  });

  it('lets the thumbnails lane alone write analysis images and queue enrichment', () => {
    const thumbnails = grantsOf(roleStatements(synth.template, pipeline.renderFunctions.thumbnails));
    expect(thumbnails).toContainEqual({ action: 'sqs:SendMessage', resource: getAtt(queue(), 'Arn') });
    expect(thumbnails).toContainEqual({
      action: 's3:PutObject',
      resource: { 'Fn::Join': ['', [getAtt(pipeline.imageBucket, 'Arn'), `/${ANALYSIS_PREFIX}*`]] },
    });
    const variants = grantsOf(roleStatements(synth.template, pipeline.renderFunctions.variants));
    expect(variants.filter((g) => JSON.stringify(g.resource).includes(ANALYSIS_PREFIX))).toEqual([]);
    expect(variants.map((g) => g.action)).not.toContain('sqs:SendMessage');
  });

  it('lets the API search and delete vectors and embed query text, and ingest file vectors, on this index only', () => {
    // Its listing is conditional (its own prefix), which grantsOf does not take: read without it.
    const api = grantsOf(
      roleStatements(synth.template, pipeline.apiFunction).filter((statement) => !statement.Condition),
    );
    for (const action of ['s3vectors:QueryVectors', 's3vectors:GetVectors', 's3vectors:DeleteVectors'])
      expect(api).toContainEqual({ action, resource: indexArn() });
    expect(api.filter((g) => g.action === 'bedrock:InvokeModel').map((g) => g.resource)).toEqual([
      modelArn('amazon.titan-embed-image-v1'),
    ]);
    expect(api.map((g) => g.action)).not.toContain('s3vectors:PutVectors');
    expect(grantsOf(roleStatements(synth.template, pipeline.ingestFunction))).toContainEqual({
      action: 's3vectors:PutVectors',
      resource: indexArn(),
    });
  });

  it('tells every function the queue and the index, and alarms on parked jobs and on jobs waiting too long', () => {
    const environment =
      resources('AWS::Lambda::Function')[logicalId(pipeline.apiFunction)]?.Properties.Environment.Variables;
    expect(environment.APERTURE_ENRICHMENT_QUEUE_URL).toEqual({ Ref: logicalId(queue()) });
    expect(JSON.stringify(environment.APERTURE_VECTOR_INDEX)).toContain('IndexArn');
    const dlq = pipeline.node.findAll().find((c) => c.node.path.endsWith('Enrichment/Dlq'));
    if (!dlq) throw new Error('no enrichment dead-letter queue');
    const alarmedMetrics = (watched: Parameters<typeof logicalId>[0]) =>
      Object.values(resources('AWS::CloudWatch::Alarm'))
        .filter((alarm) => JSON.stringify(alarm.Properties.Dimensions ?? []).includes(logicalId(watched)))
        .map((alarm) => alarm.Properties.MetricName);
    expect(alarmedMetrics(dlq)).toEqual(['ApproximateNumberOfMessagesVisible']);
    expect(alarmedMetrics(queue())).toEqual(['ApproximateAgeOfOldestMessage']);
  });

  it('grants a cross-region inference profile and its model in the regions it routes to', () => {
    const profiled = synthPipeline({
      settings: {
        enrichment: { enabled: true, captions: { enabled: true, modelId: 'us.amazon.nova-lite-v1:0' } },
      },
    });
    const fn = profiled.stack.pipeline.enrichmentFunction;
    if (!fn) throw new Error('no enrichment function');
    const invoked = grantsOf(roleStatements(profiled.template, fn))
      .filter((g) => g.action === 'bedrock:InvokeModel')
      .map((g) => JSON.stringify(g.resource));
    expect(invoked.some((arn) => arn.includes(':inference-profile/us.amazon.nova-lite-v1:0'))).toBe(true);
    expect(invoked.some((arn) => arn.includes(':bedrock:*::foundation-model/amazon.nova-lite-v1:0'))).toBe(
      true,
    );
  });
});

describe('the enrichment lane, when off (the default)', () => {
  const plain = synthPipeline();

  it('creates nothing of it and grants no model or vector action to anyone', () => {
    expect(plain.stack.pipeline.enrichmentFunction).toBeUndefined();
    expect(Object.keys(plain.template.findResources('AWS::S3Vectors::Index'))).toEqual([]);
    const actions = Object.values(plain.template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((s) =>
        asArray(s.Action),
      ),
    );
    expect(actions.filter((action) => /^(rekognition|bedrock|s3vectors):/.test(action))).toEqual([]);
    // The thumbnails lane then writes no analysis image and queues nothing.
    const thumbnails = grantsOf(
      roleStatements(plain.template, plain.stack.pipeline.renderFunctions.thumbnails),
    );
    expect(thumbnails.filter((g) => JSON.stringify(g.resource).includes(ANALYSIS_PREFIX))).toEqual([]);
    expect(thumbnails.map((g) => g.action)).not.toContain('sqs:SendMessage');
  });
});
