import { Template } from 'aws-cdk-lib/assertions';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BULK_RENDER_MAX_CONCURRENCY,
  ENV,
  IMPORT_BATCH_SIZE,
  IMPORT_MAX_CONCURRENCY,
  IMPORT_TOLERATED_FAILURE_PERCENTAGE,
  ORIGINALS_PREFIX,
  RENDER_TIMEOUT_SECONDS,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../../lambdas/contract.js';
import { ApertureStack } from '../../lib/aperture-stack.js';
import { IMPORT_RESULTS_DAYS, IMPORT_RETRIED_ERRORS } from '../../lib/bulk-import.js';
import type { ImagePipelineProps } from '../../lib/image-pipeline.js';
import { aslErrorsOf, renderedDefinition } from '../../lib/state-machine-checks.js';
import {
  getAtt,
  grantsOf,
  logicalId,
  newApp,
  roleStatements,
  type Synthesized,
  statementsOf,
  synthPipeline,
} from './synth.js';

const SOURCE = 'photo-library-source';

/** An Aperture stack allowed to import from one library bucket, named as CDK context names it. */
function synthWithSource(pipeline: ImagePipelineProps = {}): Synthesized {
  const app = newApp();
  const stack = new ApertureStack(app, 'Test', { pipeline, importSourceBucketNames: [SOURCE] });
  return { app, stack, template: Template.fromStack(stack) };
}

let synth: Synthesized;
beforeAll(() => {
  synth = synthWithSource({
    importLimits: { maxConcurrency: 25, toleratedFailurePercentage: 2, bulkRenderMaxConcurrency: 7 },
  });
});

const bulk = () => {
  const value = synth.stack.pipeline.bulkImport;
  if (!value) throw new Error('no import machinery although a source was given');
  return value;
};
/** The source bucket's ARN as the template holds it. */
const sourceArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${SOURCE}`]] };
const resources = (type: string) => synth.template.findResources(type);

interface MapState {
  Type: 'Map';
  Label?: string;
  ItemReader: { Resource: string; Arguments: Record<string, string> };
  ItemBatcher: { MaxItemsPerBatch: number; BatchInput: Record<string, string> };
  MaxConcurrency: number;
  ToleratedFailurePercentage: number;
  ResultWriter: { Resource: string; Arguments: { Bucket: unknown; Prefix: string } };
  ItemProcessor: {
    ProcessorConfig: { Mode: string; ExecutionType: string };
    StartAt: string;
    States: Record<string, { Resource: unknown; Retry: { ErrorEquals: string[]; MaxAttempts: number }[] }>;
  };
}

interface ChoiceState {
  Type: 'Choice';
  Choices: { Condition: string; Next: string }[];
  Default: string;
}

interface Definition {
  QueryLanguage: string;
  StartAt: string;
  States: Record<string, MapState | ChoiceState>;
}

const definition = () =>
  renderedDefinition(bulk().stateMachine.node.defaultChild as CfnStateMachine) as Definition;

const maps = () =>
  Object.values(definition().States).filter((state): state is MapState => state.Type === 'Map');

/** Evaluates a `{% … %}` field as Step Functions does, with JSONata. */
async function evaluate(field: string, input: Record<string, string>): Promise<unknown> {
  const { default: jsonata } = await import('jsonata');
  return jsonata(field.replace(/^\{%|%\}$/g, '')).evaluate(
    {},
    { states: { input, context: { Execution: { Name: 'import-1' } } } },
  );
}

/** The map an execution with this input runs, by the start state's choice. */
async function mapFor(input: Record<string, string>): Promise<MapState> {
  const { StartAt, States } = definition();
  const choice = States[StartAt] as ChoiceState;
  expect(choice.Type).toBe('Choice');
  let next = choice.Default;
  for (const rule of choice.Choices) {
    if ((await evaluate(rule.Condition, input)) === true) {
      next = rule.Next;
      break;
    }
  }
  const map = States[next];
  if (map?.Type !== 'Map') throw new Error(`${next} is not a map`);
  return map;
}

/** What each batch of an execution with this input is told. */
async function batchInputFor(input: Record<string, string>): Promise<Record<string, unknown>> {
  const fields = Object.entries((await mapFor(input)).ItemBatcher.BatchInput);
  return Object.fromEntries(await Promise.all(fields.map(async ([k, v]) => [k, await evaluate(v, input)])));
}

describe('the import state machine', () => {
  it('is valid States Language', () => {
    expect(aslErrorsOf(definition())).toEqual([]);
  });

  it('is a Standard workflow (redrive resumes it) in JSONata, starting at a Distributed Map with its label', () => {
    expect(
      resources('AWS::StepFunctions::StateMachine')[logicalId(bulk().stateMachine)]?.Properties
        .StateMachineType,
    ).toBe('STANDARD');
    expect(definition().QueryLanguage).toBe('JSONata');
    expect(
      maps()
        .map((map) => map.Label)
        .sort(),
    ).toEqual(['ImportIntoCollection', 'ImportObjects']);
    for (const map of maps()) {
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    }
  });

  it("lists the execution input's bucket under its prefix, the whole bucket without one", async () => {
    for (const map of maps()) {
      const reader = map.ItemReader;
      expect(reader.Resource).toBe('arn:aws:states:::s3:listObjectsV2');
      const input = { bucket: SOURCE, owner: 'alice' };
      expect(await evaluate(reader.Arguments.Bucket ?? '', input)).toBe(SOURCE);
      expect(await evaluate(reader.Arguments.Prefix ?? '', { ...input, prefix: 'photos/' })).toBe('photos/');
      expect(await evaluate(reader.Arguments.Prefix ?? '', input)).toBe('');
    }
  });

  it('batches IMPORT_BATCH_SIZE objects, each batch told the import, and its collection only when given', async () => {
    for (const map of maps()) expect(map.ItemBatcher.MaxItemsPerBatch).toBe(IMPORT_BATCH_SIZE);
    const base = { bucket: SOURCE, prefix: 'photos/', owner: 'alice' };
    const told = { importId: 'import-1', bucket: SOURCE, owner: 'alice' };
    expect(await batchInputFor(base)).toEqual(told);
    expect(await batchInputFor({ ...base, collection: 'trips' })).toEqual({ ...told, collection: 'trips' });
  });

  it('bounds the batches at once and the failures tolerated by importLimits', () => {
    for (const map of maps()) {
      expect(map.MaxConcurrency).toBe(25);
      expect(map.ToleratedFailurePercentage).toBe(2);
    }
  });

  it('writes the results to its own private bucket, expiring them', () => {
    for (const map of maps()) {
      expect(map.ResultWriter.Resource).toBe('arn:aws:states:::s3:putObject');
      expect(JSON.stringify(map.ResultWriter.Arguments.Bucket)).toContain(logicalId(bulk().resultsBucket));
    }
    const bucket = resources('AWS::S3::Bucket')[logicalId(bulk().resultsBucket)]?.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ ExpirationInDays: IMPORT_RESULTS_DAYS })]),
    );
    const tlsOnly = statementsOf(
      synth.template,
      'AWS::S3::BucketPolicy',
      (p) => JSON.stringify(p.Bucket) === JSON.stringify({ Ref: logicalId(bulk().resultsBucket) }),
    ).some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(tlsOnly).toBe(true);
  });

  it('invokes the import function per batch, retrying RetryableError but never ValidationError', () => {
    for (const map of maps()) {
      const processor = map.ItemProcessor;
      const task = processor.States[processor.StartAt];
      expect(JSON.stringify(task?.Resource)).toContain(logicalId(bulk().importFunction));
      const retried = task?.Retry.flatMap((retry) => retry.ErrorEquals) ?? [];
      expect(retried).toEqual(expect.arrayContaining([...IMPORT_RETRIED_ERRORS]));
      expect(retried).not.toContain('ValidationError');
      expect(retried).not.toContain('States.ALL');
      const own = task?.Retry.find((retry) => retry.ErrorEquals.includes('RetryableError'));
      expect(own?.MaxAttempts).toBeGreaterThanOrEqual(2);
    }
  });

  it('may list the allowed source and nothing else, and never touch its objects', () => {
    const role = bulk().stateMachine.role;
    const statements = statementsOf(synth.template, 'AWS::IAM::Policy', (p) =>
      JSON.stringify(p.Roles).includes(logicalId(role)),
    );
    const listings = grantsOf(statements).filter((g) => g.action === 's3:ListBucket');
    expect(listings.map((g) => g.resource)).toEqual([sourceArn]);
    expect(JSON.stringify(statements)).not.toContain(`${SOURCE}/`);
  });
});

describe('the import function', () => {
  const grants = () => grantsOf(roleStatements(synth.template, bulk().importFunction));
  const onSource = () => grants().filter((g) => JSON.stringify(g.resource).includes(SOURCE));

  it('only reads the source bucket: get its objects, list it; no put, no delete', () => {
    expect(
      onSource()
        .map((g) => g.action)
        .sort(),
    ).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('puts originals only, under originals/, and never touches the upload bucket', () => {
    const imageBucket = logicalId(synth.stack.pipeline.imageBucket);
    const onImages = grants().filter((g) => JSON.stringify(g.resource).includes(imageBucket));
    expect(onImages).toEqual([
      {
        action: 's3:PutObject',
        resource: {
          'Fn::Join': ['', [getAtt(synth.stack.pipeline.imageBucket, 'Arn'), `/${ORIGINALS_PREFIX}*`]],
        },
      },
    ]);
    const uploads = logicalId(synth.stack.pipeline.uploadBucket);
    expect(grants().some((g) => JSON.stringify(g.resource).includes(uploads))).toBe(false);
  });

  it('sends render jobs to the bulk queue only', () => {
    const sends = grants().filter((g) => g.action.startsWith('sqs:'));
    expect(sends).toEqual([{ action: 'sqs:SendMessage', resource: getAtt(bulk().bulkQueue, 'Arn') }]);
    const environment =
      resources('AWS::Lambda::Function')[logicalId(bulk().importFunction)]?.Properties.Environment.Variables;
    expect(environment[ENV.bulkQueueUrl]).toEqual({ Ref: logicalId(bulk().bulkQueue) });
  });
});

describe('the bulk render lane', () => {
  it('consumes the bulk queue one job at a time, at most importLimits.bulkRenderMaxConcurrency invocations at once', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(bulk().bulkQueue, 'Arn'),
      FunctionName: { Ref: logicalId(bulk().bulkRenderFunction) },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 7 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('bounds imports and bulk renders by the contract by default, with a visibility timeout of six variants timeouts', () => {
    const { stack, template } = synthWithSource();
    const defaults = stack.pipeline.bulkImport;
    if (!defaults) throw new Error('no import machinery although a source was given');
    const states = Object.values(
      (renderedDefinition(defaults.stateMachine.node.defaultChild as CfnStateMachine) as Definition).States,
    ).filter((state): state is MapState => state.Type === 'Map');
    expect(states).toHaveLength(2);
    for (const map of states) {
      expect(map.MaxConcurrency).toBe(IMPORT_MAX_CONCURRENCY);
      expect(map.ToleratedFailurePercentage).toBe(IMPORT_TOLERATED_FAILURE_PERCENTAGE);
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(defaults.bulkQueue, 'Arn'),
      ScalingConfig: { MaximumConcurrency: BULK_RENDER_MAX_CONCURRENCY },
    });
    expect(
      template.findResources('AWS::SQS::Queue')[logicalId(defaults.bulkQueue)]?.Properties,
    ).toMatchObject({
      VisibilityTimeout: RENDER_TIMEOUT_SECONDS.variants * VISIBILITY_TIMEOUT_FACTOR,
      RedrivePolicy: { deadLetterTargetArn: getAtt(defaults.bulkDeadLetterQueue, 'Arn') },
    });
    // No reserved concurrency: throttled messages would count as receives and reach the DLQ.
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(defaults.bulkRenderFunction)];
    expect(fn?.Properties).toBeDefined();
    expect(fn?.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('with enrichment on', () => {
  it('the bulk renderer feeds the enrichment lane as the thumbnails lane does, and the import files vectors as ingest does', () => {
    const { stack, template } = synthWithSource({ settings: { enrichment: { enabled: true } } });
    const pipeline = stack.pipeline;
    const enriched = pipeline.bulkImport;
    if (!enriched || !pipeline.enrichmentQueue) throw new Error('no import machinery or enrichment queue');
    const renderGrants = grantsOf(roleStatements(template, enriched.bulkRenderFunction));
    const thumbnailsGrants = grantsOf(roleStatements(template, pipeline.renderFunctions.thumbnails));
    // Every grant of the thumbnails lane's worker on the same resources, but for its own log group
    // and its own queue's consuming: the buckets, the table and the enrichment queue.
    const ownQueue = JSON.stringify(getAtt(pipeline.queues.thumbnails.queue, 'Arn'));
    const shared = thumbnailsGrants.filter(
      (grant) => !grant.action.startsWith('logs:') && JSON.stringify(grant.resource) !== ownQueue,
    );
    expect(shared.length).toBeGreaterThan(5);
    for (const grant of shared) expect(renderGrants).toContainEqual(grant);
    expect(renderGrants).toContainEqual({
      action: 'sqs:SendMessage',
      resource: getAtt(pipeline.enrichmentQueue, 'Arn'),
    });
    const importGrants = grantsOf(roleStatements(template, enriched.importFunction));
    expect(importGrants.map((g) => g.action)).toContain('s3vectors:PutVectors');
  });
});

describe('alarms and outputs', () => {
  it('alarms on failed, aborted and timed-out imports and on a parked bulk render job', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const stateMachine = { Ref: logicalId(bulk().stateMachine) };
    for (const metric of ['ExecutionsFailed', 'ExecutionsAborted', 'ExecutionsTimedOut']) {
      expect(
        alarms.some(
          (a) =>
            a.MetricName === metric &&
            JSON.stringify(a.Dimensions) ===
              JSON.stringify([{ Name: 'StateMachineArn', Value: stateMachine }]),
        ),
        metric,
      ).toBe(true);
    }
    expect(
      alarms.some(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions).includes(logicalId(bulk().bulkDeadLetterQueue)),
      ),
    ).toBe(true);
  });

  it('outputs what the CLI needs: the state machine, the results bucket and the bulk queue', () => {
    const outputs = synth.template.findOutputs('*');
    expect(outputs.ImportStateMachineArn?.Value).toEqual({ Ref: logicalId(bulk().stateMachine) });
    expect(outputs.ImportResultsBucketName?.Value).toEqual({ Ref: logicalId(bulk().resultsBucket) });
    expect(outputs.BulkQueueUrl?.Value).toEqual({ Ref: logicalId(bulk().bulkQueue) });
  });

  it('creates none of it without a source bucket', () => {
    const plain = synthPipeline();
    expect(plain.stack.pipeline.bulkImport).toBeUndefined();
    // The one state machine left is reconcile's.
    expect(Object.keys(plain.template.findResources('AWS::StepFunctions::StateMachine'))).toEqual([
      logicalId(plain.stack.pipeline.reconcile.stateMachine),
    ]);
    expect(Object.keys(plain.template.findOutputs('*'))).not.toContain('ImportStateMachineArn');
  });
});
