import { Duration, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FunctionUrlAuthType, type IFunctionUrl, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DERIVATIVES_PREFIX,
  ON_DEMAND_MEMORY_MB,
  ON_DEMAND_TIMEOUT_SECONDS,
  ORIGINALS_PREFIX,
} from '../lambdas/contract.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';

/**
 * Renders at once unless told otherwise: ten renders of 1,769 MB bound what any flood of requests for
 * variants not rendered yet can cost, and real misses are few (a variant added to the spec, a job
 * still queued), each cached for a year once rendered.
 */
export const DEFAULT_ON_DEMAND_CONCURRENCY = 10;

export interface OnDemandRendererProps extends FunctionTelemetryProps {
  /** The renderer's environment (`rendererEnvironmentVariables`): no CDN address, which would be a cycle. */
  readonly environment: Record<string, string>;
  readonly imageBucket: IBucket;
  readonly table: ITable;
  readonly sharpLayer: ILayerVersion;
  /**
   * Renders at once (the function's reserved concurrency). Lambda refuses requests beyond it with a
   * 429, which CloudFront passes on without caching.
   * @default DEFAULT_ON_DEMAND_CONCURRENCY
   */
  readonly reservedConcurrency?: number;
}

/**
 * The CDN's fallback origin: a function URL that renders a variant S3 does not have yet (a variant
 * added to the spec, a job still queued), stores it and answers with it. Only CloudFront may call it
 * (IAM auth, signed by the distribution's Origin Access Control), and it renders only keys of the
 * configured spec (and pages its images have), so no URL can make it burn compute on sizes nobody
 * asked for, and it renders a bounded number at once.
 */
export class OnDemandRenderer extends Construct {
  public readonly url: IFunctionUrl;
  public readonly function: ApertureFunction['function'];
  public readonly reservedConcurrency: number;

  constructor(scope: Construct, id: string, props: OnDemandRendererProps) {
    super(scope, id);
    const concurrency = props.reservedConcurrency ?? DEFAULT_ON_DEMAND_CONCURRENCY;
    if (!Token.isUnresolved(concurrency) && !(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new Error(
        `OnDemandRenderer: reservedConcurrency must be a whole number from 1, not ${concurrency}`,
      );
    }
    this.reservedConcurrency = concurrency;
    const renderer = new ApertureFunction(this, 'Handler', {
      handlerFile: 'on-demand.ts',
      description: 'Aperture on-demand render: a missing variant, once, behind CloudFront',
      environment: props.environment,
      memorySize: ON_DEMAND_MEMORY_MB,
      timeout: Duration.seconds(ON_DEMAND_TIMEOUT_SECONDS),
      ...telemetryOf(props),
      sharpLayer: props.sharpLayer,
      reservedConcurrency: this.reservedConcurrency,
    });
    this.function = renderer.function;

    renderer.grantObjectActions(
      props.imageBucket,
      ORIGINALS_PREFIX,
      ['s3:GetObject'],
      'Originals are keyed by their SHA-256 under originals/; the renderer only reads them.',
    );
    renderer.grantObjectActions(
      props.imageBucket,
      DERIVATIVES_PREFIX,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      'Derivatives are content-addressed keys under derived/; the renderer reads what others stored, writes what it renders, and removes that again for an image deleted meanwhile.',
    );
    // A derivative not there yet must read as 404 while the renderer waits for another's render.
    renderer.grantListing(props.imageBucket, DERIVATIVES_PREFIX);
    // Reading the image, recording a rendered variant, and the render lease (put and delete).
    renderer.grantTableActions(
      props.table,
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    );

    this.url = renderer.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
  }
}
