import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ANNOUNCE_BATCH_SIZE,
  ANNOUNCE_MEMORY_MB,
  ANNOUNCE_RETRY_ATTEMPTS,
  ANNOUNCE_TIMEOUT_SECONDS,
  ENV,
} from '../lambdas/contract.js';
import { EVENT_SOURCE, EVENT_TYPES, registryJsonSchema } from '../lambdas/core/events.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';
import { deadLetterStore } from './dead-letter-store.js';

/** The catalog's key prefix of the event ledger's items (`catalogKeys.event`). */
const LEDGER_KEYS = 'EVENT#*';

export interface PipelineEventsProps extends FunctionTelemetryProps {
  /** The pipeline's function environment; the bus's name is added. */
  readonly environment: Record<string, string>;
  /** The catalog, with its stream of new and old images. */
  readonly table: ITable;
  /** @default - a new bus */
  readonly eventBus?: IEventBus;
}

/**
 * The pipeline's events (lambdas/core/events.ts): the announce function reads the catalog table's
 * stream and publishes what each committed change means to the owners concerned on an EventBridge
 * bus. Derived from the stream, an event is never announced for a write that did not happen, nor lost
 * for one that did; the function's ledger publishes each once.
 *
 * The stream hands each batch over until it is announced: a failing change is retried from where it
 * failed, `ANNOUNCE_RETRY_ATTEMPTS` times (halving the batch each time to isolate it), and then
 * parked in `failures` with its position in the stream, and an alarm fires. The pipeline itself never
 * waits on any of this.
 */
export class PipelineEvents extends Construct {
  public readonly eventBus: IEventBus;
  public readonly function: IFunction;
  /** Stream batches that failed every retry: where in the stream they are (the records stay 24 hours). */
  public readonly failures: IQueue;
  /** The events' schemas (one per type, JSON Schema draft 4), for code bindings and discovery. */
  public readonly schemaRegistry: CfnRegistry;

  constructor(scope: Construct, id: string, props: PipelineEventsProps) {
    super(scope, id);
    this.eventBus = props.eventBus ?? new EventBus(this, 'Bus');

    this.schemaRegistry = new CfnRegistry(this, 'Schemas', {
      description: "Aperture's pipeline events (docs/events.md)",
    });
    for (const type of EVENT_TYPES) {
      // Named by the registry's attribute, which already orders the registry first.
      new CfnSchema(this, `Schema-${type}`, {
        registryName: this.schemaRegistry.attrRegistryName,
        schemaName: `${EVENT_SOURCE}@${type}`,
        type: 'JSONSchemaDraft4',
        description: `detail of ${type} (detail.version 1)`,
        content: JSON.stringify(registryJsonSchema(type)),
      });
    }

    const announce = new ApertureFunction(this, 'Announce', {
      handlerFile: 'announce.ts',
      description: "Aperture announce: publishes the pipeline's events from the catalog's changes",
      environment: { ...props.environment, [ENV.eventBus]: this.eventBus.eventBusName },
      memorySize: ANNOUNCE_MEMORY_MB,
      timeout: Duration.seconds(ANNOUNCE_TIMEOUT_SECONDS),
      ...telemetryOf(props),
    });
    this.function = announce.function;

    this.failures = deadLetterStore(this, 'Failures', "the announce function's on-failure destination");

    this.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: ANNOUNCE_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: ANNOUNCE_RETRY_ATTEMPTS,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failures),
        // Only changes that can announce something invoke the function: uploads and images written,
        // owners' links removed. Holders, lookups, leases and the ledger's own items never do.
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { type: { S: FilterRule.or('upload', 'image') } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('REMOVE'),
            dynamodb: { OldImage: { type: { S: FilterRule.isEqual('link') } } },
          }),
        ],
      }),
    );

    // Reads to build the events: an upload's image and link, an image's holders (a query).
    announce.grantTableActions(props.table, 'dynamodb:GetItem', 'dynamodb:Query');
    // Writes only to the ledger's own items.
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [LEDGER_KEYS] } },
      }),
    );
    this.eventBus.grantPutEventsTo(this.function);
    if (this.function.role) {
      Validations.of(this.function.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'dynamodb:ListStreams, which CDK grants the event source mapping of a table stream, supports no resource-level permissions.',
      });
    }
  }
}
