import { Duration, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CATALOG_TABLE,
  MAX_RECEIVE_COUNT,
  WEBHOOK_DELIVERY_BATCH_SIZE,
  WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
  WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS,
  WEBHOOK_FANOUT_BATCH_SIZE,
  WEBHOOK_FANOUT_TIMEOUT_SECONDS,
  WEBHOOK_FANOUT_VISIBILITY_TIMEOUT_SECONDS,
  WEBHOOK_MEMORY_MB,
} from '../lambdas/contract.js';
import { webhookEnvironmentVariables } from '../lambdas/core/environment.js';
import { EVENT_SOURCE, EVENT_TYPES, type EventType } from '../lambdas/core/events.js';
import type { Settings } from '../lambdas/core/settings.js';
import { DEPLOYMENT_URL_POLICY, parseWebhookUrl } from '../lambdas/core/webhook-urls.js';
import { type DeploymentEndpoint, deliveryAttempts, deploymentWebhookId } from '../lambdas/core/webhooks.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import type { PipelineMonitoring } from './monitoring.js';

export interface WebhooksProps extends FunctionTelemetryProps {
  /** The bus the pipeline publishes its events on (`source: 'aperture'`). */
  readonly eventBus: IEventBus;
  /** The pipeline's settings: `webhooks.retryScheduleSeconds` sizes the deliveries queue. */
  readonly settings: Settings;
  /** The catalog table, where owners' endpoints are kept. */
  readonly table: ITable;
  /**
   * Endpoints of the deployment itself, besides those owners register: each hears every owner's
   * events of its types, signed with its secret, under the same URL policy (https, public addresses).
   * @default - none
   */
  readonly endpoints?: readonly DeploymentWebhook[];
}

/** A webhook endpoint configured with the deployment (`WebhooksProps.endpoints`). */
export interface DeploymentWebhook {
  readonly url: string;
  /** @default - every event type */
  readonly events?: readonly EventType[];
  /** A secret whose text is the signing secret, `whsec_` and the base64 of 24 to 64 random bytes. */
  readonly secret: ISecret;
}

/** SQS keeps a message 14 days at most; a delivery's retries must all fit in its time in the queue. */
const MAX_RETENTION = Duration.days(14);

/**
 * Webhook delivery: a rule on the pipeline's bus feeds every pipeline event to a queue; the fan-out
 * function turns each into one message per subscribed endpoint of the event's owner, on the
 * deliveries queue; the delivery function POSTs them, signed, retrying on the settings' schedule
 * (about a day by default) and parking the last failure in a dead-letter queue. Nothing here is on
 * the pipeline's path: a slow or failing endpoint delays only its own deliveries.
 */
export class Webhooks extends Construct {
  public readonly rule: Rule;
  /** Pipeline events for fan-out. */
  public readonly eventQueue: Queue;
  /** Events fan-out failed on every attempt (the catalog or SQS down). */
  public readonly eventDeadLetterQueue: Queue;
  /** One message per delivery, held back between attempts. */
  public readonly deliveryQueue: Queue;
  /** Deliveries that failed every attempt: `aperture webhooks replay` resends them. */
  public readonly deliveryDeadLetterQueue: Queue;
  public readonly fanOutFunction: IFunction;
  public readonly deliveryFunction: IFunction;

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const schedule = props.settings.webhooks.retryScheduleSeconds;
    const queueDefaults = { enforceSSL: true, encryption: QueueEncryption.SQS_MANAGED } as const;

    this.eventDeadLetterQueue = new Queue(this, 'EventDlq', {
      retentionPeriod: MAX_RETENTION,
      ...queueDefaults,
    });
    this.eventQueue = new Queue(this, 'EventQueue', {
      visibilityTimeout: Duration.seconds(WEBHOOK_FANOUT_VISIBILITY_TIMEOUT_SECONDS),
      deadLetterQueue: { queue: this.eventDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      ...queueDefaults,
    });
    // A parked delivery keeps its first enqueue time in the DLQ too: the longest retention there.
    this.deliveryDeadLetterQueue = new Queue(this, 'DeliveryDlq', {
      retentionPeriod: MAX_RETENTION,
      ...queueDefaults,
    });
    this.deliveryQueue = new Queue(this, 'DeliveryQueue', {
      visibilityTimeout: Duration.seconds(WEBHOOK_DELIVERY_VISIBILITY_TIMEOUT_SECONDS),
      retentionPeriod: deliveryRetention(schedule),
      deadLetterQueue: { queue: this.deliveryDeadLetterQueue, maxReceiveCount: deliveryAttempts(schedule) },
      ...queueDefaults,
    });

    this.rule = new Rule(this, 'Rule', {
      eventBus: props.eventBus,
      description: 'Aperture pipeline events to webhook fan-out',
      eventPattern: { source: [EVENT_SOURCE], detailType: [...EVENT_TYPES] },
      // What EventBridge could not put on the queue lands in the events' DLQ, under the same alarm.
      targets: [new SqsQueue(this.eventQueue, { deadLetterQueue: this.eventDeadLetterQueue })],
    });

    const environment = webhookEnvironmentVariables({
      settings: props.settings,
      table: props.table.tableName,
      deliveryQueueUrl: this.deliveryQueue.queueUrl,
      deploymentEndpoints: (props.endpoints ?? []).map(deploymentEndpoint),
    });
    const fanOut = new ApertureFunction(this, 'FanOut', {
      handlerFile: 'webhook-fanout.ts',
      description: 'Aperture webhook fan-out: one delivery per subscribed endpoint of an event',
      environment,
      memorySize: WEBHOOK_MEMORY_MB,
      timeout: Duration.seconds(WEBHOOK_FANOUT_TIMEOUT_SECONDS),
      ...telemetryOf(props),
    });
    this.fanOutFunction = fanOut.function;
    this.fanOutFunction.addEventSource(
      new SqsEventSource(this.eventQueue, {
        batchSize: WEBHOOK_FANOUT_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(0),
        reportBatchItemFailures: true,
      }),
    );
    this.deliveryQueue.grantSendMessages(this.fanOutFunction);
    grantWebhookItems(this.fanOutFunction, props.table, 'dynamodb:Query');

    const delivery = new ApertureFunction(this, 'Delivery', {
      handlerFile: 'webhook-delivery.ts',
      description: 'Aperture webhook delivery: signed POSTs, retried on a schedule',
      environment,
      memorySize: WEBHOOK_MEMORY_MB,
      timeout: Duration.seconds(WEBHOOK_DELIVERY_TIMEOUT_SECONDS),
      ...telemetryOf(props),
    });
    this.deliveryFunction = delivery.function;
    // The event source's grant includes ChangeMessageVisibility, which holds a failed delivery back.
    this.deliveryFunction.addEventSource(
      new SqsEventSource(this.deliveryQueue, {
        batchSize: WEBHOOK_DELIVERY_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(0),
        reportBatchItemFailures: true,
      }),
    );
    grantWebhookItems(this.deliveryFunction, props.table, 'dynamodb:GetItem');
    for (const endpoint of props.endpoints ?? []) endpoint.secret.grantRead(this.deliveryFunction);
  }

  /** Alarms on both functions and on anything parked in either dead-letter queue. */
  monitor(monitoring: PipelineMonitoring): void {
    monitoring.monitorFunction(this.fanOutFunction, 'WebhookFanOutFunction');
    monitoring.monitorFunction(this.deliveryFunction, 'WebhookDeliveryFunction');
    monitoring.monitorDeadLetterQueue(
      this.deliveryDeadLetterQueue,
      'WebhookDeliveries',
      'A webhook delivery failed every attempt for about a day and is parked: once its endpoint is fixed, run aperture webhooks replay.',
    );
    monitoring.monitorDeadLetterQueue(
      this.eventDeadLetterQueue,
      'WebhookEvents',
      'A pipeline event could not be fanned out to webhooks: see the fan-out function’s log, then redrive.',
    );
  }
}

/** A configured endpoint as the functions read it; a URL the deployment's policy refuses fails the synth. */
function deploymentEndpoint(endpoint: DeploymentWebhook, index: number): DeploymentEndpoint {
  if (!Token.isUnresolved(endpoint.url)) parseWebhookUrl(endpoint.url, DEPLOYMENT_URL_POLICY);
  return {
    webhookId: deploymentWebhookId(index, endpoint.url),
    url: endpoint.url,
    events: [...(endpoint.events ?? EVENT_TYPES)],
    secretArn: endpoint.secret.secretArn,
  };
}

/**
 * Item actions on webhook endpoints only: the partition key must start with the webhook prefix
 * (`dynamodb:LeadingKeys`), so neither function can read an image, a link or an upload.
 */
function grantWebhookItems(fn: IFunction, table: ITable, ...actions: string[]): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions,
      resources: [table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${CATALOG_TABLE.webhookPartitionPrefix}*`] },
      },
    }),
  );
}

/** Every wait of the schedule, and a day more for the attempts themselves and a backlog, at least 4 days. */
function deliveryRetention(schedule: readonly number[]): Duration {
  const waits = schedule.reduce((sum, wait) => sum + wait, 0);
  const seconds = Math.max(Duration.days(4).toSeconds(), waits + Duration.days(1).toSeconds());
  return Duration.seconds(Math.min(seconds, MAX_RETENTION.toSeconds()));
}
