import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { HttpApi, ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { type Distribution, PriceClass } from 'aws-cdk-lib/aws-cloudfront';
import type { Alarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IFunction, type ILayerVersion, Tracing } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionEnvironmentVariables, rendererEnvironmentVariables } from '../lambdas/core/environment.js';
import { mapLanes, WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import { parseSettings, type Settings, type SettingsInput } from '../lambdas/core/settings.js';
import { upkeepVersion } from '../lambdas/core/upkeep.js';
import type { FunctionTelemetryProps } from './aperture-function.js';
import { BulkImport, type ImportLimits } from './bulk-import.js';
import { CatalogTable } from './catalog-table.js';
import { Enrichment } from './enrichment.js';
import { type CdnDomain, ImageCdn } from './image-cdn.js';
import { Ingest } from './ingest.js';
import { PipelineMonitoring } from './monitoring.js';
import { OnDemandRenderer } from './on-demand-renderer.js';
import { type JwtAuthorization, PipelineApi } from './pipeline-api.js';
import { PipelineEvents } from './pipeline-events.js';
import { ReconcileMap } from './reconcile-map.js';
import { RenderWorkers } from './render-workers.js';
import { Reprocess } from './reprocess.js';
import { SharpLayer } from './sharp-layer.js';
import { ImageStorage } from './storage.js';
import { type DeploymentWebhook, Webhooks } from './webhooks.js';
import { type LaneQueues, WorkQueues } from './work-queues.js';

// What the props are built from, for stacks that embed the construct.
export { DEFAULT_VARIANTS, type VariantSpec, watermarkedPreview } from '../lambdas/core/variants.js';
export type { ImportLimits } from './bulk-import.js';
export type { CdnDomain } from './image-cdn.js';
export type { JwtAuthorization } from './pipeline-api.js';
export type { DeploymentWebhook } from './webhooks.js';

/** The key pair of private delivery (see `ImagePipelineProps.privateDelivery`). */
export interface PrivateDelivery {
  /** The public key, PEM-encoded (RSA 2048 or ECDSA P-256), that CloudFront checks signatures with. */
  readonly publicKeyPem: string;
  /** A secret whose text is the matching private key, PEM-encoded. */
  readonly privateKey: ISecret;
  /** How long a signed URL works. @default Duration.hours(1) */
  readonly urlTtl?: Duration;
}

export interface ImagePipelineProps {
  /**
   * What the pipeline accepts and makes: formats, size and pixel limits, presign lifetime, variants.
   * Validated at synth; an invalid value fails the synth naming each offending field.
   * @default - the defaults of `lambdas/core/settings.ts` (jpeg/png/webp/avif/gif/tiff/heic up to 256 MiB;
   * thumb, small, medium and large variants in AVIF, WebP and JPEG)
   */
  readonly settings?: SettingsInput;
  /**
   * Origins allowed to call the API and to upload from a browser (CORS). The wildcard default is safe
   * because no credential travels by cookie: every API call carries its own JWT or SigV4 signature and
   * every upload its own presigned policy, so a foreign page gains nothing a script outside a browser
   * could not do. Name your app's origins to keep other sites from using the API from their pages.
   * @default ['*']
   */
  readonly allowedOrigins?: string[];
  /**
   * Verify JWTs from this issuer on every route; the token's `sub` is the owner.
   * @default - no JWT authorizer: every route requires IAM (SigV4) authorization, so the API is never
   * open; the caller's principal ARN is then the owner
   */
  readonly jwt?: JwtAuthorization;
  /**
   * What happens to the buckets, the table and the log groups when they leave the stack. With DESTROY,
   * a bucket is only deleted once empty.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Which CloudFront edges serve the images. @default PriceClass.PRICE_CLASS_100 (North America and Europe edges: the cheapest) */
  readonly priceClass?: PriceClass;
  /** Your own host names for the CDN, `{names, certificate}`; TLS 1.2 or later then. @default - the distribution's own `*.cloudfront.net` domain */
  readonly domain?: CdnDomain;
  /**
   * ARN of a WAF web ACL (scope CLOUDFRONT, in us-east-1) to attach to the CDN.
   * @default - no web ACL
   */
  readonly webAclId?: string;
  /**
   * Bring your own upload bucket. The construct cannot change an imported bucket: it must block public
   * access, enforce TLS, use SSE-S3, carry CORS for browser uploads and expire `uploads/` itself. Its
   * owner also sends its ObjectCreated events under `uploads/` to `ingestFunction`, e.g.
   * `bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(pipeline.ingestFunction), { prefix: 'uploads/' })`
   * where the bucket is defined; until then nothing is ingested.
   * @default - a new private bucket, subscribed by the construct
   */
  readonly uploadBucket?: IBucket;
  /**
   * Bring your own image bucket, with the same obligations as `uploadBucket`; its policy must also let
   * the distribution read `derived/*` (CDK cannot add the OAC statement to an imported bucket).
   * @default - a new private bucket
   */
  readonly imageBucket?: IBucket;
  /** Retention of the function and API log groups, and of the S3 and CloudFront access logs. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Stage-wide API throttling, a guard on cost and on downstream capacity. @default - 50 requests/s, bursts of 100 */
  readonly apiThrottle?: ThrottleSettings;
  /** X-Ray tracing of the functions. @default Tracing.DISABLED */
  readonly tracing?: Tracing;
  /** Where alarms notify; subscribe to it. @default - a new topic */
  readonly alarmTopic?: ITopic;
  /**
   * Private delivery: the CDN serves only URLs signed with this key pair, and the image API hands
   * out signed URLs. The API reads the private key from the secret when it first signs.
   * @default - public delivery: anyone with a derivative's URL may fetch it
   */
  readonly privateDelivery?: PrivateDelivery;
  /**
   * Renders the on-demand renderer runs at once (its reserved concurrency, 1,769 MB each): the most that
   * requests for variants not rendered yet can cost, whoever sends them. Lambda refuses the rest
   * with a 429, which CloudFront does not cache, and an alarm fires. Reserved concurrency comes out
   * of the account's, and Lambda keeps 100 of it unreserved: an account whose limit is below
   * 100 plus this cannot deploy it.
   * @default 10
   */
  readonly onDemandConcurrency?: number;
  /**
   * The EventBridge bus the pipeline's events (`image.ingested`, `image.ready`, `image.failed`,
   * `image.deleted`, `upload.rejected`; docs/events.md) are published to, `source` `aperture`.
   * @default - a new bus
   */
  readonly eventBus?: IEventBus;
  /**
   * Webhook endpoints of the deployment itself, besides those owners register (`POST /v1/webhooks`):
   * each hears every owner's events of its types, signed with its secret, under the same URL policy
   * (https to public addresses only; a URL that breaks it fails the synth).
   * @default - none
   */
  readonly webhookEndpoints?: DeploymentWebhook[];
  /**
   * Buckets a server-side import (`aperture import s3://bucket/prefix`) may read, read-only: the import
   * lists them and gets their objects, never writes or deletes there. Naming any creates the import
   * machinery (`bulkImport`: a Step Functions Distributed Map, the import function, the bulk render
   * queue and its capped function, a results bucket); more with `bulkImport.addSource()`.
   * @default - none, and no import machinery
   */
  readonly importSources?: IBucket[];
  /**
   * How hard an import may push: batches at once, the share of batches that may fail before it stops,
   * and render invocations at once for what it queues (app uploads' lanes keep the rest of the
   * account's concurrency).
   * @default - 40 batches of 50 objects at once, 5% of batches may fail, 10 renders at once
   */
  readonly importLimits?: ImportLimits;
}

/**
 * Aperture as one construct: presigned uploads through an HTTP API, ingest of each upload, the catalog,
 * the render queues and their sharp workers, a CDN for the derivatives, alarms and a dashboard. The
 * minimal deployment is `new ImagePipeline(stack, 'Images')`.
 */
export class ImagePipeline extends Construct {
  /** The validated settings every function receives. */
  public readonly settings: Settings;
  public readonly uploadBucket: IBucket;
  public readonly imageBucket: IBucket;
  /** Receives S3 server access logs of both buckets and the CDN's standard logs. */
  public readonly logBucket: IBucket;
  public readonly table: ITable;
  public readonly queues: Readonly<Record<WorkLane, LaneQueues>>;
  public readonly sharpLayer: ILayerVersion;
  public readonly distribution: Distribution;
  /** The base of every image URL, without a trailing slash. */
  public readonly cdnBaseUrl: string;
  public readonly api: HttpApi;
  /** The API's base URL, ending in `/`. */
  public readonly apiUrl: string;
  public readonly apiFunction: IFunction;
  /** Invoked by S3 for each new object under `uploads/` of the upload bucket. */
  public readonly ingestFunction: IFunction;
  /** Ingest events that failed every attempt, with their errors; an alarm fires on any. */
  public readonly ingestFailures: IQueue;
  /** One sharp function per render lane, each consuming its lane's queue. */
  public readonly renderFunctions: Readonly<Record<WorkLane, IFunction>>;
  /** The CDN's fallback origin: renders a variant S3 does not have yet. */
  public readonly onDemandFunction: IFunction;
  /** Moves images to the current variant set after a deploy that changes it, and hourly. */
  public readonly reprocessFunction: IFunction;
  /**
   * `aperture reconcile` over every slice of the catalog and buckets: its state machine (a
   * Distributed Map; a dry run unless started with `{"fix": true}`), functions and reports bucket.
   */
  public readonly reconcile: ReconcileMap;
  /** The enrichment lane's queue, fed by the thumbnails lane; absent unless `settings.enrichment.enabled`. */
  public readonly enrichmentQueue: IQueue | undefined;
  /** Tags, colours, captions and embeddings of each image; absent unless `settings.enrichment.enabled`. */
  public readonly enrichmentFunction: IFunction | undefined;
  /** Where the pipeline's events go; add rules to it. */
  public readonly eventBus: IEventBus;
  /** Reads the catalog's stream and publishes the events. */
  public readonly announceFunction: IFunction;
  /** Signed deliveries of the events to owners' (and the deployment's) webhook endpoints. */
  public readonly webhooks: Webhooks;
  /** Catalog changes that could not be announced after every retry, by their place in the stream; an alarm fires on any. */
  public readonly announceFailures: IQueue;
  /** Server-side import from S3: absent unless `importSources` names a bucket. */
  public readonly bulkImport: BulkImport | undefined;
  public readonly alarmTopic: ITopic;
  public readonly alarms: readonly Alarm[];
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ImagePipelineProps = {}) {
    super(scope, id);
    this.settings = parseSettings(props.settings);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const allowedOrigins = props.allowedOrigins ?? ['*'];
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const tracing = props.tracing ?? Tracing.DISABLED;
    const telemetry: FunctionTelemetryProps = { logRetention, removalPolicy, tracing };

    const storage = new ImageStorage(this, 'Storage', {
      removalPolicy,
      allowedOrigins,
      multipartUploadDays: this.settings.multipartUploadDays,
      logRetention,
      uploadBucket: props.uploadBucket,
      imageBucket: props.imageBucket,
    });
    this.uploadBucket = storage.uploadBucket;
    this.imageBucket = storage.imageBucket;
    this.logBucket = storage.logBucket;

    // The id is older than the construct's name and stays: a new one would replace the table, records and all.
    this.table = new CatalogTable(this, 'Catalog', { removalPolicy }).table;
    this.queues = new WorkQueues(this, 'WorkQueues').lanes;
    this.sharpLayer = new SharpLayer(this, 'SharpLayer');
    const enrichment = this.settings.enrichment.enabled
      ? new Enrichment(this, 'Enrichment', { settings: this.settings.enrichment, removalPolicy })
      : undefined;

    const onDemand = new OnDemandRenderer(this, 'OnDemand', {
      environment: rendererEnvironmentVariables({
        settings: this.settings,
        imageBucket: this.imageBucket.bucketName,
        table: this.table.tableName,
      }),
      imageBucket: this.imageBucket,
      table: this.table,
      sharpLayer: this.sharpLayer,
      ...telemetry,
      reservedConcurrency: props.onDemandConcurrency,
    });
    this.onDemandFunction = onDemand.function;

    const cdn = new ImageCdn(this, 'Cdn', {
      fallbackOrigin: onDemand.url,
      signersPublicKeyPem: props.privateDelivery?.publicKeyPem,
      settings: this.settings,
      imageBucket: this.imageBucket,
      logBucket: this.logBucket,
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      domain: props.domain,
      webAclId: props.webAclId,
    });
    this.distribution = cdn.distribution;
    this.cdnBaseUrl = cdn.baseUrl;

    // One environment for every function: `ENV` in the deployment contract, lambdas/contract.ts.
    const environment = functionEnvironmentVariables({
      settings: this.settings,
      uploadBucket: this.uploadBucket.bucketName,
      imageBucket: this.imageBucket.bucketName,
      table: this.table.tableName,
      cdnBaseUrl: this.cdnBaseUrl,
      distributionId: this.distribution.distributionId,
      signedUrls:
        props.privateDelivery && cdn.keyPairId
          ? {
              keyPairId: cdn.keyPairId,
              privateKeySecret: props.privateDelivery.privateKey.secretArn,
              ttlSeconds: (props.privateDelivery.urlTtl ?? Duration.hours(1)).toSeconds(),
            }
          : undefined,
      queueUrls: mapLanes((lane) => this.queues[lane].queue.queueUrl),
      enrichmentQueueUrl: enrichment?.queue.queueUrl,
      vectorIndex: enrichment?.vectorIndex,
    });

    const api = new PipelineApi(this, 'Api', {
      environment,
      uploadBucket: this.uploadBucket,
      imageBucket: this.imageBucket,
      distribution: this.distribution,
      table: this.table,
      allowedOrigins,
      jwt: props.jwt,
      throttle: props.apiThrottle ?? { rateLimit: 50, burstLimit: 100 },
      ...telemetry,
    });
    this.api = api.httpApi;
    this.apiUrl = api.url;
    this.apiFunction = api.function;
    props.privateDelivery?.privateKey.grantRead(this.apiFunction);

    const ingest = new Ingest(this, 'Ingest', {
      environment,
      uploadBucket: this.uploadBucket,
      imageBucket: this.imageBucket,
      table: this.table,
      queues: this.queues,
      sharpLayer: this.sharpLayer,
      // An imported bucket's notifications are its owner's to wire (see `uploadBucket`).
      subscribe: props.uploadBucket === undefined,
      ...telemetry,
    });
    this.ingestFunction = ingest.function;
    this.ingestFailures = ingest.failures;

    this.renderFunctions = new RenderWorkers(this, 'Render', {
      environment,
      imageBucket: this.imageBucket,
      table: this.table,
      queues: this.queues,
      sharpLayer: this.sharpLayer,
      enrichmentQueue: enrichment?.queue,
      ...telemetry,
    }).functions;

    this.enrichmentQueue = enrichment?.queue;
    this.enrichmentFunction = enrichment?.addWorker({
      environment,
      imageBucket: this.imageBucket,
      table: this.table,
      sharpLayer: this.sharpLayer,
      ...telemetry,
    });
    // Search ranks by meaning with a text embedding; a delete removes the owner's vector; a new link
    // files the image's stored vector for its owner.
    enrichment?.grantTextEmbedding(this.apiFunction);
    enrichment?.grantVectors(
      this.apiFunction,
      's3vectors:QueryVectors',
      's3vectors:GetVectors',
      's3vectors:DeleteVectors',
    );
    enrichment?.grantVectors(this.ingestFunction, 's3vectors:PutVectors');

    // The id is older than the construct's name and stays: a new one would replace the function, its
    // role, its log group and its schedule in every deployed stack, for no change in what they do.
    this.reprocessFunction = new Reprocess(this, 'VariantSetUpkeep', {
      environment,
      imageBucket: this.imageBucket,
      table: this.table,
      queues: this.queues,
      upkeepVersion: upkeepVersion(this.settings),
      ...telemetry,
    }).function;

    this.reconcile = new ReconcileMap(this, 'Reconcile', {
      environment,
      uploadBucket: this.uploadBucket,
      imageBucket: this.imageBucket,
      table: this.table,
      queues: this.queues,
      distribution: this.distribution,
      logBucket: this.logBucket,
      ...telemetry,
    });

    const events = new PipelineEvents(this, 'Events', {
      environment,
      table: this.table,
      eventBus: props.eventBus,
      ...telemetry,
    });
    this.eventBus = events.eventBus;
    this.announceFunction = events.function;
    this.announceFailures = events.failures;
    // The events show each image as the API does, signed under private delivery.
    props.privateDelivery?.privateKey.grantRead(this.announceFunction);
    this.webhooks = new Webhooks(this, 'Webhooks', {
      eventBus: this.eventBus,
      settings: this.settings,
      table: this.table,
      endpoints: props.webhookEndpoints,
      ...telemetry,
    });

    const importSources = props.importSources ?? [];
    this.bulkImport =
      importSources.length > 0
        ? new BulkImport(this, 'Import', {
            environment,
            imageBucket: this.imageBucket,
            table: this.table,
            sharpLayer: this.sharpLayer,
            logBucket: this.logBucket,
            enrichmentQueue: enrichment?.queue,
            sources: importSources,
            ...props.importLimits,
            ...telemetry,
          })
        : undefined;
    // An imported image's owner entries carry its stored vector, as an uploaded one's do.
    if (this.bulkImport) enrichment?.grantVectors(this.bulkImport.importFunction, 's3vectors:PutVectors');

    const monitoring = new PipelineMonitoring(this, 'Monitoring', {
      lanes: this.queues,
      apiStage: api.stage,
      alarmTopic: props.alarmTopic,
    });
    monitoring.monitorFunction(this.apiFunction, 'ApiFunction');
    monitoring.monitorFunction(this.ingestFunction, 'IngestFunction');
    monitoring.monitorFunction(
      this.onDemandFunction,
      'OnDemandFunction',
      `OnDemandFunction ran ${onDemand.reservedConcurrency} renders at once and refused more: viewers of ` +
        'variants not rendered yet got 429s. Raise onDemandConcurrency, or find in the CDN logs who asks for so many.',
    );
    monitoring.monitorFunction(this.reprocessFunction, 'ReprocessFunction');
    monitoring.monitorFunction(this.reconcile.auditFunction, 'ReconcileAuditFunction');
    monitoring.monitorFunction(this.reconcile.repairFunction, 'ReconcileRepairFunction');
    monitoring.monitorStateMachine(
      this.reconcile.stateMachine,
      'Reconcile',
      'A slice failed every retry (or the run was stopped), so its report is incomplete: see the map run, fix the cause, then redrive it.',
    );
    if (enrichment && this.enrichmentFunction) {
      monitoring.monitorFunction(this.enrichmentFunction, 'EnrichmentFunction');
      // A parked job's image says enrichment failed and is still served: fix the cause, then redrive.
      monitoring.monitorWorkQueue('enrichment', enrichment, 'enrichments');
    }
    for (const lane of WORK_LANES) {
      monitoring.monitorFunction(this.renderFunctions[lane], `${capitalize(lane)}RenderFunction`);
    }
    monitoring.monitorFunction(this.announceFunction, 'AnnounceFunction');
    monitoring.monitorStream(this.announceFunction, events.failures, 'Events');
    this.webhooks.monitor(monitoring);
    monitoring.monitorDeadLetterQueue(
      this.ingestFailures,
      'Ingest',
      'An upload event failed every ingest attempt and is parked with its error: fix the cause, then replay it.',
    );
    if (this.bulkImport) {
      monitoring.monitorFunction(this.bulkImport.importFunction, 'ImportFunction');
      monitoring.monitorFunction(this.bulkImport.bulkRenderFunction, 'BulkRenderFunction');
      monitoring.monitorStateMachine(
        this.bulkImport.stateMachine,
        'Import',
        'Its result files and map run say which batches failed and why: fix the cause, then redrive the execution.',
      );
      // No alarm on the bulk queue's age: a backlog is how an import at a capped concurrency works.
      monitoring.monitorDeadLetterQueue(
        this.bulkImport.bulkDeadLetterQueue,
        'BulkRender',
        "An imported image's render job failed every attempt and is parked in the bulk DLQ: fix the cause, then redrive.",
      );
    }
    this.alarmTopic = monitoring.alarmTopic;
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
  }
}

const capitalize = (word: string): string => `${word.charAt(0).toUpperCase()}${word.slice(1)}`;
