import { Match } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANNOUNCE_BATCH_SIZE, ANNOUNCE_RETRY_ATTEMPTS, CATALOG_TABLE, ENV } from '../../lambdas/contract.js';
import { EVENT_TYPES, registryJsonSchema } from '../../lambdas/core/events.js';
import { ApertureStack } from '../../lib/aperture-stack.js';
import { MAX_QUEUE_AGE } from '../../lib/monitoring.js';
import { getAtt, logicalId, newApp, roleStatements, type Synthesized, synthPipeline } from './synth.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthPipeline();
});

const pipeline = () => synth.stack.pipeline;

describe('the pipeline events', () => {
  it('the catalog table streams every change with its before and after', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: Match.arrayWith([{ AttributeName: CATALOG_TABLE.partitionKey, KeyType: 'HASH' }]),
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('the announce function reads the stream in batches, reports failures by record, halves a failing batch, retries it and parks what never passes', () => {
    const mappings = synth.template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: { Ref: logicalId(pipeline().announceFunction) } },
    });
    const [mapping] = Object.values(mappings).map((resource) => resource.Properties);
    expect(Object.keys(mappings)).toHaveLength(1);
    expect(mapping).toMatchObject({
      EventSourceArn: getAtt(pipeline().table, 'StreamArn'),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: ANNOUNCE_BATCH_SIZE,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: ANNOUNCE_RETRY_ATTEMPTS,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: expect.anything() } },
    });
    // Only uploads and images written, and owners' links removed, can announce anything.
    const patterns = (mapping.FilterCriteria.Filters as { Pattern: string }[]).map((f) =>
      JSON.parse(f.Pattern),
    );
    expect(patterns).toEqual([
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { type: { S: ['upload', 'image'] } } } },
      { eventName: ['REMOVE'], dynamodb: { OldImage: { type: { S: ['link'] } } } },
    ]);
  });

  it('the announce function may put events on its bus only, and write only the ledger’s items', () => {
    const statements = roleStatements(synth.template, pipeline().announceFunction);
    const puts = statements.filter((s) => JSON.stringify(s.Action).includes('events:'));
    expect(puts).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: getAtt(pipeline().eventBus, 'Arn') },
    ]);
    const writes = statements.filter((s) =>
      /dynamodb:(Put|Update|Delete)Item/.test(JSON.stringify(s.Action)),
    );
    expect(writes).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: getAtt(pipeline().table, 'Arn'),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EVENT#*'] } },
      },
    ]);
    const environment =
      synth.template.findResources('AWS::Lambda::Function')[logicalId(pipeline().announceFunction)]
        ?.Properties.Environment.Variables;
    expect(environment[ENV.eventBus]).toEqual({ Ref: logicalId(pipeline().eventBus) });
  });

  it('alarms when a change is parked and when the events fall behind', () => {
    const alarms = synth.template.findResources('AWS::CloudWatch::Alarm');
    const byMetric = (name: string) =>
      Object.values(alarms).filter((alarm) => alarm.Properties.MetricName === name);
    expect(byMetric('IteratorAge')).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          Threshold: MAX_QUEUE_AGE.toMilliseconds(),
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(pipeline().announceFunction) } }],
        }),
      }),
    ]);
    expect(Object.keys(alarms).some((id) => id.includes('EventsDeadLetters'))).toBe(true);
  });

  it('registers each event type’s schema, the very JSON Schema the code builds its events by', () => {
    const schemas = Object.values(synth.template.findResources('AWS::EventSchemas::Schema')).map(
      (resource) => resource.Properties,
    );
    expect(schemas.map((schema) => schema.SchemaName).sort()).toEqual(
      EVENT_TYPES.map((type) => `aperture@${type}`).sort(),
    );
    for (const type of EVENT_TYPES) {
      expect(schemas.find((schema) => schema.SchemaName === `aperture@${type}`)).toMatchObject({
        Type: 'JSONSchemaDraft4',
        Content: JSON.stringify(registryJsonSchema(type)),
        RegistryName: getAtt(pipeline().node.findChild('Events').node.findChild('Schemas'), 'RegistryName'),
      });
    }
  });

  it('publishes to a bus it is given instead of making one', () => {
    const app = newApp();
    const stack = new ApertureStack(app, 'Given', {});
    const given = new ApertureStack(app, 'WithBus', {
      pipeline: { eventBus: EventBus.fromEventBusName(stack, 'Shared', 'shared-bus') },
    });
    expect(given.pipeline.eventBus.eventBusName).toBe('shared-bus');
  });
});
