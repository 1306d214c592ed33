import { Match, Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import {
  CATALOG_TABLE,
  ENV,
  MAX_RECEIVE_COUNT,
  WEBHOOK_DELIVERY_BATCH_SIZE,
  WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
  WEBHOOK_FANOUT_TIMEOUT_SECONDS,
} from '../../lambdas/contract.js';
import { EVENT_TYPES } from '../../lambdas/core/events.js';
import { getAtt, logicalId, newApp, roleStatements } from './synth.js';
import { webhookStack } from './webhook-stack.js';

const synth = webhookStack(newApp(), {
  webhooks: { retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000] },
});
const template = Template.fromStack(synth.stack);
const { webhooks } = synth;
const queue = (construct: Parameters<typeof logicalId>[0]) =>
  template.findResources('AWS::SQS::Queue')[logicalId(construct)]?.Properties;

describe('the webhooks construct', () => {
  it('routes every pipeline event type on the bus to the fan-out queue, failures to its DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(synth.eventBus) },
      EventPattern: { source: ['aperture'], 'detail-type': [...EVENT_TYPES] },
      Targets: [
        {
          Arn: getAtt(webhooks.eventQueue, 'Arn'),
          DeadLetterConfig: { Arn: getAtt(webhooks.eventDeadLetterQueue, 'Arn') },
        },
      ],
    });
    // Only the rule may send to the queue, and to the DLQ what it could not deliver.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(webhooks.eventQueue) }],
      PolicyDocument: {
        Statement: expectStatement({
          Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': getAtt(webhooks.rule, 'Arn') } },
        }),
      },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(webhooks.eventDeadLetterQueue) }],
      PolicyDocument: {
        Statement: expectStatement({
          Action: 'sqs:SendMessage',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': getAtt(webhooks.rule, 'Arn') } },
        }),
      },
    });
  });

  it('gives deliveries one receive per attempt of the schedule, then the DLQ, and time for them all', () => {
    expect(queue(webhooks.deliveryQueue)).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
      // 7 waits adding up to 27.6 hours: 8 attempts, kept 4 days.
      RedrivePolicy: {
        maxReceiveCount: 8,
        deadLetterTargetArn: getAtt(webhooks.deliveryDeadLetterQueue, 'Arn'),
      },
      MessageRetentionPeriod: 4 * 24 * 3600,
    });
    expect(queue(webhooks.deliveryDeadLetterQueue)).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    expect(queue(webhooks.eventQueue)).toMatchObject({
      VisibilityTimeout: 6 * WEBHOOK_FANOUT_TIMEOUT_SECONDS,
      RedrivePolicy: { maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  });

  it('sizes the queue from the settings: a longer schedule keeps deliveries longer', () => {
    const week = 6 * 12 * 3600;
    const longer = webhookStack(newApp(), { webhooks: { retryScheduleSeconds: Array(6).fill(12 * 3600) } });
    const properties = Template.fromStack(longer.stack).findResources('AWS::SQS::Queue')[
      logicalId(longer.webhooks.deliveryQueue)
    ]?.Properties;
    expect(properties).toMatchObject({
      RedrivePolicy: { maxReceiveCount: 7 },
      MessageRetentionPeriod: week + 24 * 3600,
    });
  });

  it('enforces TLS on every queue', () => {
    for (const q of [
      webhooks.eventQueue,
      webhooks.eventDeadLetterQueue,
      webhooks.deliveryQueue,
      webhooks.deliveryDeadLetterQueue,
    ]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(q) }],
        PolicyDocument: {
          Statement: expectStatement({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        },
      });
    }
  });

  it('runs delivery in batches with per-message failures, and tells both functions only the deliveries queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(webhooks.deliveryQueue, 'Arn'),
      FunctionName: { Ref: logicalId(webhooks.deliveryFunction) },
      BatchSize: WEBHOOK_DELIVERY_BATCH_SIZE,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(webhooks.eventQueue, 'Arn'),
      FunctionName: { Ref: logicalId(webhooks.fanOutFunction) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    for (const fn of [webhooks.fanOutFunction, webhooks.deliveryFunction]) {
      const variables =
        template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.Environment.Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [ENV.settings, ENV.table, ENV.webhookDeliveryQueueUrl, 'NODE_OPTIONS'].sort(),
      );
      expect(variables[ENV.webhookDeliveryQueueUrl]).toEqual({ Ref: logicalId(webhooks.deliveryQueue) });
    }
  });

  it('lets each function read webhook items only, and nothing else of the catalog', () => {
    const tableArn = getAtt(synth.table, 'Arn');
    const webhookItems = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${CATALOG_TABLE.webhookPartitionPrefix}*`] },
    };
    const fanOut = roleStatements(template, webhooks.fanOutFunction);
    const delivery = roleStatements(template, webhooks.deliveryFunction);
    const onTable = (statements: ReturnType<typeof roleStatements>) =>
      statements.filter((s) => JSON.stringify(s.Resource).includes(logicalId(synth.table)));
    expect(onTable(fanOut)).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: tableArn, Condition: webhookItems },
    ]);
    expect(onTable(delivery)).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: tableArn, Condition: webhookItems },
    ]);
    // Fan-out sends deliveries; only delivery consumes (and holds back) them.
    const actionsOn = (
      statements: ReturnType<typeof roleStatements>,
      construct: Parameters<typeof logicalId>[0],
    ) =>
      statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(getAtt(construct, 'Arn')))
        .flatMap((s) => [s.Action].flat());
    expect(actionsOn(fanOut, webhooks.deliveryQueue)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(actionsOn(fanOut, webhooks.deliveryQueue)).not.toContain('sqs:ReceiveMessage');
    expect(actionsOn(delivery, webhooks.deliveryQueue)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']),
    );
    expect(actionsOn(delivery, webhooks.deliveryQueue)).not.toContain('sqs:SendMessage');
  });

  it('alarms on anything parked in either DLQ and on both functions', () => {
    for (const dlq of [webhooks.deliveryDeadLetterQueue, webhooks.eventDeadLetterQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(dlq, 'QueueName') }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
    for (const fn of [webhooks.fanOutFunction, webhooks.deliveryFunction]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
      });
    }
  });
});

describe('deployment-configured endpoints', () => {
  it('are given to both functions with their secret ARN, which only delivery may read', () => {
    const configured = webhookStack(newApp(), {}, (stack) => [
      {
        url: 'https://ops.example.com/aperture',
        events: ['image.failed'],
        secret: new Secret(stack, 'OpsHookSecret'),
      },
    ]);
    const t = Template.fromStack(configured.stack);
    const secret = configured.stack.node.findChild('OpsHookSecret') as Secret;
    for (const fn of [configured.webhooks.fanOutFunction, configured.webhooks.deliveryFunction]) {
      const variables =
        t.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.Environment.Variables;
      const endpoints = variables[ENV.webhookDeploymentEndpoints];
      expect(JSON.stringify(endpoints)).toContain('https://ops.example.com/aperture');
      expect(JSON.stringify(endpoints)).toContain(logicalId(secret));
    }
    const readsSecret = (fn: Parameters<typeof roleStatements>[1]) =>
      roleStatements(t, fn).some(
        (s) =>
          [s.Action].flat().includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(s.Resource) === JSON.stringify({ Ref: logicalId(secret) }),
      );
    expect(readsSecret(configured.webhooks.deliveryFunction)).toBe(true);
    expect(readsSecret(configured.webhooks.fanOutFunction)).toBe(false);
  });

  it('fail the synth when the deployment’s URL policy refuses one', () => {
    for (const url of ['http://ops.example.com/hook', 'https://169.254.169.254/', 'https://localhost/']) {
      expect(() =>
        webhookStack(newApp(), {}, (stack) => [{ url, secret: new Secret(stack, 'Hook') }]),
      ).toThrow(/url/);
    }
  });
});

/** A statement list containing one statement like this. */
function expectStatement(statement: Record<string, unknown>) {
  return Match.arrayWith([Match.objectLike(statement)]);
}
