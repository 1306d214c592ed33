import { type Duration, type RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, type ILayerVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BucketGrants, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.js';
import { handlerBundleDir, handlerEntry, packageRoot, rootLockfile, runsFromPackageBuild } from './paths.js';

/** Lambda refuses a function whose environment variables add up to more than 4 KB. */
const ENVIRONMENT_LIMIT_BYTES = 4 * 1024;
/** Room for a value only known at deploy time (bucket and table names, the CDN domain). */
const TOKEN_ALLOWANCE_BYTES = 128;

/**
 * Lets CommonJS dependencies that call `require` (or expect Node's builtins through it) keep working
 * inside an ESM bundle, which has no `require` of its own, nor `__dirname` and `__filename`, which
 * Emscripten's output (libheif-js, the HEIC decoder) reads as soon as it starts in Node.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; import { fileURLToPath as topLevelFileURLToPath } from 'node:url'; const require = topLevelCreateRequire(import.meta.url); const __filename = topLevelFileURLToPath(import.meta.url); const __dirname = topLevelFileURLToPath(new URL('.', import.meta.url));";

/** sharp and its per-platform packages (the native addon, libvips): left to the sharp layer. */
const SHARP_MODULES = ['sharp', '@img/*'];

/** How a function's logs and traces are kept: the same for every function of a pipeline. */
export interface FunctionTelemetryProps {
  readonly logRetention: RetentionDays;
  /** Of the function's log group. */
  readonly removalPolicy: RemovalPolicy;
  readonly tracing: Tracing;
}

/** The telemetry part of a construct's props, to hand on to its functions. */
export function telemetryOf({
  logRetention,
  removalPolicy,
  tracing,
}: FunctionTelemetryProps): FunctionTelemetryProps {
  return { logRetention, removalPolicy, tracing };
}

export interface ApertureFunctionProps extends FunctionTelemetryProps {
  /** The handler module's file name in `lambdas/handlers`; it must export `handler`. */
  readonly handlerFile: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * The sharp layer, for a function that imports `sharp`. The layer is attached and `sharp` (with its
   * `@img/*` platform packages) stays out of the bundle, an external import the runtime resolves in
   * the layer: the native parts are then always the linux-arm64 build (ADR 3), never whatever
   * platform the synth ran on.
   * @default - no layer: everything the handler imports is bundled
   */
  readonly sharpLayer?: ILayerVersion;
  /**
   * Invocations at once, at most (and kept free for it out of the account's).
   * @default - none reserved: the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
}

/**
 * One Aperture function: Node 22 on arm64 (Graviton: cheaper per GB-second, and the sharp layer is
 * built for it), bundled by the local esbuild into one minified ESM file, logging to its own log group.
 *
 * The role is built here rather than by `Function` so that it carries no managed policy: writing to
 * its one log group is all it starts with, and each caller grants the rest through `grant*`.
 */
export class ApertureFunction extends Construct {
  public readonly function: NodejsFunction;
  /** The handler module's file name in `lambdas/handlers`, which names its prebundled code too. */
  public readonly handlerFile: string;

  constructor(scope: Construct, id: string, props: ApertureFunctionProps) {
    super(scope, id);
    this.handlerFile = props.handlerFile;
    const environment = {
      ...props.environment,
      // Stack traces point into the TypeScript sources instead of the minified bundle.
      NODE_OPTIONS: '--enable-source-maps',
    };
    assertEnvironmentFits(this, environment);

    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.description}`,
    });
    logGroup.grantWrite(role);

    this.function = new NodejsFunction(this, 'Function', {
      ...handlerCode(props),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: props.tracing,
      environment,
      layers: props.sharpLayer ? [props.sharpLayer] : undefined,
      reservedConcurrentExecutions: props.reservedConcurrency,
    });

    if (props.tracing === Tracing.ACTIVE) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is chosen deliberately (docs/adr/0003): the sharp layer is built and tested for it; moving to a newer runtime is a reviewed change.',
    });
  }

  /**
   * Grants object actions under one key prefix of a bucket, and nothing else there. cdk-nag flags the
   * prefix wildcard (AwsSolutions-IAM5); it is acknowledged here with the caller's reason.
   */
  grantObjectActions(bucket: IBucket, prefix: string, actions: readonly string[], reason: string): void {
    const keys = `${prefix}*`;
    BucketGrants.fromBucket(bucket).actionsOnObjectKeys(this.function, keys, ...actions);
    acknowledgeWildcardResource(this, bucket.arnForObjects(keys), reason);
  }

  /**
   * Grants listing a bucket under one key prefix only (`s3:prefix` condition): S3 then also answers a
   * missing key there with 404 rather than 403.
   */
  grantListing(bucket: IBucket, prefix: string): void {
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
  }

  /** Grants item actions on the catalog table; CDK adds the table's `index/*` to any such grant. */
  grantTableActions(table: ITable, ...actions: string[]): void {
    table.grant(this.function, ...actions);
    acknowledgeWildcardResource(
      this,
      `${table.tableArn}/index/*`,
      "index/* names only this table's own indexes; CDK adds it to every grant on a table that has one.",
    );
  }
}

/**
 * The handler's code: the bundle `npm pack` made, for the installed package (ADR 7); otherwise its
 * sources, bundled now. The pack-time bundles come from this very bundling (`bin/bundle-handlers.ts`).
 */
function handlerCode(props: ApertureFunctionProps): NodejsFunctionProps {
  const handler = 'index.handler';
  if (runsFromPackageBuild) {
    return { code: Code.fromAsset(handlerBundleDir(props.handlerFile)), handler };
  }
  return {
    entry: handlerEntry(props.handlerFile),
    handler,
    projectRoot: packageRoot,
    depsLockFilePath: rootLockfile,
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      mainFields: ['module', 'main'],
      banner: ESM_REQUIRE_BANNER,
      minify: true,
      sourceMap: true,
      // Positions are all a stack trace needs; the sources would only grow the bundle.
      sourcesContent: false,
      // The AWS SDK is bundled too, at the lockfile's version, rather than taken from the runtime:
      // the handlers rely on recent client options, and tests then run the very code that ships.
      // Only sharp is left out, for the layer to provide; nothing is installed beside the bundle.
      externalModules: props.sharpLayer ? SHARP_MODULES : [],
    },
  };
}

function assertEnvironmentFits(scope: Construct, environment: Record<string, string>): void {
  const bytes = Object.entries(environment).reduce(
    (sum, [name, value]) =>
      sum +
      Buffer.byteLength(name) +
      (Token.isUnresolved(value) ? TOKEN_ALLOWANCE_BYTES : Buffer.byteLength(value)),
    0,
  );
  if (bytes > ENVIRONMENT_LIMIT_BYTES) {
    throw new Error(
      `${scope.node.path}: the function environment needs about ${bytes} bytes, over Lambda's 4 KB limit; ` +
        'fewer or shorter variants in `settings` would fit.',
    );
  }
}
