import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ANALYSIS_PREFIX,
  DERIVATIVES_PREFIX,
  ORIGINALS_PREFIX,
  RECONCILE_MAX_CONCURRENCY,
  RECONCILE_REPORTS_PREFIX,
  UPLOADS_PREFIX,
} from '../../lambdas/contract.js';
import { reconcileSlices } from '../../lambdas/core/reconcile-slices.js';
import { WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { aslErrorsOf, renderedDefinition } from '../../lib/state-machine-checks.js';
import {
  asArray,
  getAtt,
  logicalId,
  type PolicyStatementJson,
  roleStatements,
  type Synthesized,
  statementsOf,
  synthPipeline,
} from './synth.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthPipeline();
});

const reconcile = () => synth.stack.pipeline.reconcile;
const resources = (type: string) => synth.template.findResources(type);

interface MapState {
  Type: string;
  ItemsPath: string;
  MaxConcurrency: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  ItemBatcher: { MaxItemsPerBatch: number; BatchInput: { fix: boolean } };
  ResultWriter: { Resource: string; Parameters: { Bucket: string; Prefix: string } };
  ItemProcessor: {
    ProcessorConfig: { Mode: string; ExecutionType: string };
    StartAt: string;
    States: Record<string, { Resource: string; Retry: { ErrorEquals: string[]; MaxAttempts: number }[] }>;
  };
}

interface Definition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
}

const definition = () =>
  renderedDefinition(reconcile().stateMachine.node.defaultChild as CfnStateMachine) as Definition;

/** Every action a role's statements allow, with the resources (and the condition) each names. */
const grants = (statements: PolicyStatementJson[]) =>
  statements.flatMap((statement) =>
    asArray(statement.Action).flatMap((action) =>
      asArray(statement.Resource).map((resource) => ({
        action,
        resource: JSON.stringify(resource),
        condition: statement.Condition,
      })),
    ),
  );
const objectsIn = (bucket: Parameters<typeof getAtt>[0], prefix: string) =>
  JSON.stringify({ 'Fn::Join': ['', [getAtt(bucket, 'Arn'), `/${prefix}*`]] });

describe('the reconcile state machine', () => {
  it('is a Standard state machine whose definition the States Language accepts', () => {
    const [machine] = Object.values(resources('AWS::StepFunctions::StateMachine')).filter((r) =>
      JSON.stringify(r).includes(logicalId(reconcile().auditFunction)),
    );
    expect(machine?.Properties).toMatchObject({ StateMachineType: 'STANDARD' });
    expect(aslErrorsOf(definition())).toEqual([]);
  });

  it('lists every slice, then a dry run unless the input says fix is true', () => {
    const { StartAt, States } = definition();
    expect(StartAt).toBe('Slices');
    expect(States.Slices).toMatchObject({ Type: 'Pass', Result: reconcileSlices(), ResultPath: '$.slices' });
    expect(reconcileSlices()).toHaveLength(512);
    expect(States['Fix?']).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.fix', IsPresent: true },
            { Variable: '$.fix', IsBoolean: true },
            { Variable: '$.fix', BooleanEquals: true },
          ],
          Next: 'Repair slices',
        },
      ],
      Default: 'Audit slices',
    });
  });

  it.each([
    ['Audit slices', false, () => reconcile().auditFunction],
    ['Repair slices', true, () => reconcile().repairFunction],
  ])(
    '%s: a Distributed Map, bounded, failing on any failed slice, reports to the reports bucket',
    (name, fix, fn) => {
      const map = definition().States[name] as unknown as MapState;
      expect(map).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.slices',
        MaxConcurrency: RECONCILE_MAX_CONCURRENCY,
        ItemBatcher: { MaxItemsPerBatch: 1, BatchInput: { fix } },
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Prefix: RECONCILE_REPORTS_PREFIX },
        },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      });
      // No failure tolerated: CDK writes a percentage of 0 by leaving it out, Step Functions' default.
      expect(map.ToleratedFailurePercentage ?? 0).toBe(0);
      expect(map.ToleratedFailureCount ?? 0).toBe(0);
      expect(map.ResultWriter.Parameters.Bucket).toContain(logicalId(reconcile().reportBucket));
      const task = map.ItemProcessor.States[map.ItemProcessor.StartAt];
      expect(task?.Resource).toContain('lambda:invoke');
      expect(JSON.stringify(task)).toContain(logicalId(fn()));
      // A malformed batch is not retried; everything else is, and States.ALL comes last as it must.
      const retries = task?.Retry ?? [];
      const malformed = retries.findIndex((r) => r.ErrorEquals.includes('ValidationError'));
      expect(retries[malformed]?.MaxAttempts).toBe(0);
      expect(retries.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 });
      expect(malformed).toBeLessThan(retries.length - 1);
    },
  );

  it('may invoke its two functions and write to its reports bucket, nothing of the image bucket', () => {
    const role = reconcile().stateMachine.role;
    const statements = statementsOf(synth.template, 'AWS::IAM::Policy', (p) =>
      JSON.stringify(p.Roles).includes(logicalId(role)),
    );
    const all = grants(statements);
    const s3 = all.filter((g) => g.action.startsWith('s3:'));
    expect(s3.length).toBeGreaterThan(0);
    for (const grant of s3) expect(grant.resource).toContain(logicalId(reconcile().reportBucket));
    expect(JSON.stringify(statements)).not.toContain(logicalId(synth.stack.pipeline.imageBucket));
    const invoked = all.filter((g) => g.action === 'lambda:InvokeFunction').map((g) => g.resource);
    for (const fn of [reconcile().auditFunction, reconcile().repairFunction])
      expect(invoked.some((r) => r.includes(logicalId(fn)))).toBe(true);
    expect(
      invoked.every((r) =>
        [reconcile().auditFunction, reconcile().repairFunction].some((fn) => r.includes(logicalId(fn))),
      ),
    ).toBe(true);
  });

  it('keeps its reports in a private, TLS-only, encrypted bucket that expires them', () => {
    const bucket = resources('AWS::S3::Bucket')[logicalId(reconcile().reportBucket)]?.Properties;
    expect(bucket).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })],
      },
      LoggingConfiguration: expect.objectContaining({ DestinationBucketName: expect.anything() }),
    });
    const policy = statementsOf(synth.template, 'AWS::S3::BucketPolicy', (p) =>
      JSON.stringify(p.Bucket).includes(logicalId(reconcile().reportBucket)),
    );
    expect(policy).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('alarms on a failed or timed-out run', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const on = (metric: string) =>
      alarms.find(
        (a) =>
          a.Namespace === 'AWS/States' &&
          a.MetricName === metric &&
          JSON.stringify(a.Dimensions).includes(logicalId(reconcile().stateMachine)),
      );
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut'])
      expect(on(metric), metric).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('names its ARN in a stack output, for operators', () => {
    expect(synth.template.findOutputs('ReconcileStateMachineArn').ReconcileStateMachineArn?.Value).toEqual({
      Ref: logicalId(reconcile().stateMachine),
    });
  });
});

describe('the reconcile slice functions', () => {
  const pipeline = () => synth.stack.pipeline;

  it('audit: may only read the catalog, list the three prefixes and read originals', () => {
    const all = grants(roleStatements(synth.template, reconcile().auditFunction));
    const actions = [...new Set(all.map((g) => g.action))].sort();
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
    ]);
    expect(all.filter((g) => g.action === 's3:GetObject').map((g) => g.resource)).toEqual([
      objectsIn(pipeline().imageBucket, ORIGINALS_PREFIX),
    ]);
    const listed = all
      .filter((g) => g.action === 's3:ListBucket')
      .map((g) => g.condition?.StringLike?.['s3:prefix'])
      .sort();
    expect(listed).toEqual([[`${DERIVATIVES_PREFIX}*`], [`${ORIGINALS_PREFIX}*`], [`${UPLOADS_PREFIX}*`]]);
  });

  it("repair: the audit's reads and what repairs write, deleting objects only under their prefixes", () => {
    const all = grants(roleStatements(synth.template, reconcile().repairFunction));
    const actions = [...new Set(all.map((g) => g.action))].sort();
    expect(actions).toEqual([
      'cloudfront:CreateInvalidation',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      'sqs:SendMessage',
    ]);
    expect(
      all
        .filter((g) => g.action === 's3:DeleteObject')
        .map((g) => g.resource)
        .sort(),
    ).toEqual(
      [
        objectsIn(pipeline().imageBucket, ANALYSIS_PREFIX),
        objectsIn(pipeline().imageBucket, DERIVATIVES_PREFIX),
        objectsIn(pipeline().imageBucket, ORIGINALS_PREFIX),
        objectsIn(pipeline().uploadBucket, UPLOADS_PREFIX),
      ].sort(),
    );
    expect(
      all
        .filter((g) => g.action === 'sqs:SendMessage')
        .map((g) => g.resource)
        .sort(),
    ).toEqual(WORK_LANES.map((lane) => JSON.stringify(getAtt(pipeline().queues[lane].queue, 'Arn'))).sort());
  });
});
