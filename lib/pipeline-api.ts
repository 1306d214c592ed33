import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IDistribution } from 'aws-cdk-lib/aws-cloudfront';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ANALYSIS_PREFIX,
  API_MEMORY_MB,
  API_ROUTES,
  API_TIMEOUT_SECONDS,
  DERIVATIVES_PREFIX,
  ORIGINALS_PREFIX,
  PUBLIC_API_ROUTES,
  UPLOADS_PREFIX,
} from '../lambdas/contract.js';
import { ApertureFunction, type FunctionTelemetryProps, telemetryOf } from './aperture-function.js';

/** Verifies callers' JWTs at the API (e.g. Cognito, Auth0, Entra ID); the `sub` claim is the owner. */
export interface JwtAuthorization {
  /** The issuer URL; its `/.well-known/openid-configuration` must be reachable by API Gateway. */
  readonly issuer: string;
  /** Accepted `aud` (or `client_id`) values. */
  readonly audience: string[];
}

/**
 * One JSON line per request with HTTP API context variables (the CDK default is the REST API's
 * common log format, several of whose fields HTTP APIs leave empty). Never a token or a body.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

export interface PipelineApiProps extends FunctionTelemetryProps {
  /** The pipeline's function environment (`functionEnvironmentVariables`), shared by every function. */
  readonly environment: Record<string, string>;
  readonly uploadBucket: IBucket;
  /** Where a deleted image's original and derivatives are removed. */
  readonly imageBucket: IBucket;
  /** Whose edge caches a delete clears. */
  readonly distribution: IDistribution;
  readonly table: ITable;
  readonly allowedOrigins: string[];
  /** Absent: every route requires IAM (SigV4) authorization instead. */
  readonly jwt?: JwtAuthorization;
  readonly throttle: ThrottleSettings;
}

/**
 * The pipeline's HTTP API and the function behind all its routes: uploads (presign, status),
 * images (read, list, delete, near-duplicates) and search. The routes are exactly `API_ROUTES`, the list
 * the handler dispatches on. Every route that reads or writes a caller's data needs credentials: a JWT
 * authorizer when an issuer is configured, IAM authorization otherwise; only `PUBLIC_API_ROUTES` (the
 * OpenAPI document) are open.
 */
export class PipelineApi extends Construct {
  public readonly function: IFunction;
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  /** The API's base URL (the `$default` stage), ending in `/`. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: PipelineApiProps) {
    super(scope, id);

    const handler = new ApertureFunction(this, 'Handler', {
      handlerFile: 'api.ts',
      description: 'the Aperture HTTP API',
      environment: props.environment,
      memorySize: API_MEMORY_MB,
      timeout: Duration.seconds(API_TIMEOUT_SECONDS),
      ...telemetryOf(props),
    });
    this.function = handler.function;

    // Presigning needs exactly the permission the signed request will exercise: PutObject on uploads,
    // which also covers starting a multipart upload, its parts and completing it; listing its parts and
    // aborting it are actions of their own.
    handler.grantObjectActions(
      props.uploadBucket,
      UPLOADS_PREFIX,
      ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      'Uploads go to random keys under uploads/ only; only putting, listing the parts of and aborting an upload are granted there.',
    );
    // Recording uploads, reading uploads, images and links, paging the caller's own links and index
    // entries (a Query on the table, or on the collection index), and a delete's unlink transaction,
    // record removal and removal of the owner's index entries (in batches).
    handler.grantTableActions(
      props.table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    );
    // Deleting an image's last link removes its objects: every derivative (listed, since older variant
    // sets left keys no spec names any more), the analysis image and the original; then the CDN forgets them.
    handler.grantListing(props.imageBucket, DERIVATIVES_PREFIX);
    for (const prefix of [DERIVATIVES_PREFIX, ANALYSIS_PREFIX, ORIGINALS_PREFIX]) {
      handler.grantObjectActions(
        props.imageBucket,
        prefix,
        ['s3:DeleteObject'],
        `A deleted image's objects are under ${prefix} at keys derived from its hash; the API deletes only there.`,
      );
    }
    props.distribution.grantCreateInvalidation(handler.function);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${Stack.of(this).stackName}-api`,
      description: 'Aperture: uploads and images',
      createDefaultStage: false,
      defaultAuthorizer: authorizerFor(props.jwt),
      corsPreflight: {
        allowOrigins: props.allowedOrigins,
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.DELETE],
        // Bearer tokens for JWT callers, the SigV4 headers for IAM callers.
        allowHeaders: [
          'authorization',
          'content-type',
          'x-amz-date',
          'x-amz-security-token',
          'x-amz-content-sha256',
        ],
        maxAge: Duration.hours(1),
      },
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    this.url = this.stage.url;

    const integration = new HttpLambdaIntegration('Handler', this.function);
    const open = new Set<string>(PUBLIC_API_ROUTES);
    for (const routeKey of Object.values(API_ROUTES)) {
      const { method, path } = parseRouteKey(routeKey);
      if (!open.has(routeKey)) {
        this.httpApi.addRoutes({ path, methods: [method], integration });
        continue;
      }
      const routes = this.httpApi.addRoutes({
        path,
        methods: [method],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      });
      for (const route of routes) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            "The API's OpenAPI document: the same for everyone, holding nothing of any caller's, fetched by client generators and API consoles before they have credentials; the stage's throttle still applies.",
        });
      }
    }
  }
}

function authorizerFor(jwt: JwtAuthorization | undefined): IHttpRouteAuthorizer {
  if (!jwt) return new HttpIamAuthorizer();
  return new HttpJwtAuthorizer('JwtAuthorizer', jwt.issuer, { jwtAudience: jwt.audience });
}

function parseRouteKey(routeKey: string): { method: HttpMethod; path: string } {
  const [method, path, ...rest] = routeKey.split(' ');
  const httpMethod = Object.values(HttpMethod).find((m) => m === method);
  if (!httpMethod || !path?.startsWith('/') || rest.length > 0) {
    throw new Error(`not an HTTP API route key: ${JSON.stringify(routeKey)}`);
  }
  return { method: httpMethod, path };
}
