import type { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CATALOG_TABLE } from '../lambdas/contract.js';

export interface CatalogTableProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The catalog table, shaped by the design the adapter and the local twin share (`CATALOG_TABLE` in
 * the deployment contract). On-demand: traffic follows uploads, which are bursty.
 */
export class CatalogTable extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: CatalogTableProps) {
    super(scope, id);
    const { partitionKey, sortKey, timeToLiveAttribute, collectionIndex, upkeepIndex } = CATALOG_TABLE;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: AttributeType.STRING },
      sortKey: { name: sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute,
      // The AWS-managed key (aws/dynamodb) rather than the owned default: its use shows in CloudTrail.
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
      // What the announce function reads (lib/pipeline-events.ts): each change, before and after.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: collectionIndex.name,
      partitionKey: { name: collectionIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: collectionIndex.sortKey, type: AttributeType.STRING },
      // Listing a collection returns the links themselves, so the index carries whole items.
      projectionType: ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: upkeepIndex.name,
      partitionKey: { name: upkeepIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: upkeepIndex.sortKey, type: AttributeType.STRING },
      // The upkeep reads each image itself, strongly consistent, before acting on it: keys suffice,
      // and a write that leaves the key alone (most renders) then costs the index nothing.
      projectionType: ProjectionType.KEYS_ONLY,
    });
  }
}
