import type { ParseArgsConfig } from 'node:util';
import { type AwsClients, createAwsClients } from '../lambdas/adapters/aws/clients.js';
import { ENV } from '../lambdas/contract.js';
import { type FunctionEnvironment, readFunctionEnvironment } from '../lambdas/core/environment.js';
import { WORK_LANES } from '../lambdas/core/render-jobs.js';
import { UsageError } from './usage-error.js';

/** Where the pipeline is: an AWS deployment (operator credentials) or the local runtime. */
export interface Target {
  config: FunctionEnvironment;
  /** The whole environment the config was read from, for what only some commands need. */
  env: Record<string, string | undefined>;
  clients: AwsClients;
  /** False when render jobs would be lost: the local runtime is not running, so nothing reads its queues. */
  queuesLive: boolean;
  close(): Promise<void>;
}

/** The local runtime as `local/runtime/local-target.ts` opens it; passed in, so that only `--local` loads local/ (and its emulators). */
export interface LocalTarget {
  env: Record<string, string>;
  running: boolean;
  close(): Promise<void>;
}

export interface TargetDependencies {
  env: Record<string, string | undefined>;
  openLocal: (dataDir: string) => Promise<LocalTarget>;
  readFile: (path: string) => Promise<string>;
}

/** Flags that name one resource each, and the function environment variable each one sets. */
const RESOURCE_FLAGS: Readonly<Record<string, string>> = {
  table: ENV.table,
  'upload-bucket': ENV.uploadBucket,
  'image-bucket': ENV.imageBucket,
  ...Object.fromEntries(WORK_LANES.map((lane) => [`${lane}-queue-url`, ENV.queueUrl(lane)])),
  'webhook-queue-url': ENV.webhookDeliveryQueueUrl,
  'webhook-dlq-url': ENV.webhookDeadLetterQueueUrl,
  'bulk-queue-url': ENV.bulkQueueUrl,
  'import-state-machine-arn': ENV.importStateMachineArn,
};

export const TARGET_OPTIONS = {
  local: { type: 'boolean', default: false },
  'data-dir': { type: 'string' },
  'env-file': { type: 'string' },
  settings: { type: 'string' },
  ...Object.fromEntries(Object.keys(RESOURCE_FLAGS).map((flag) => [flag, { type: 'string' }])),
} satisfies NonNullable<ParseArgsConfig['options']>;

export const TARGET_USAGE = `Where the pipeline is (later ones win):
  APERTURE_* variables      the function environment, as every Aperture function has it
  --env-file FILE           that environment as JSON (aws lambda get-function-configuration
                            --function-name <any Aperture function> --query Environment.Variables)
  --table NAME, --upload-bucket NAME, --image-bucket NAME,
  ${WORK_LANES.map((lane) => `--${lane}-queue-url URL`).join(', ')},
  --webhook-queue-url URL, --webhook-dlq-url URL (webhooks replay; the Webhooks construct's queues)
  --bulk-queue-url URL      the bulk render queue (imports run here queue their renders there)
  --import-state-machine-arn ARN  the import's state machine (imports run on Step Functions)
  --settings FILE           the pipeline's settings as JSON (what the functions run with)
  --local [--data-dir DIR]  the local runtime (npm start) whose data is in DIR (default .aperture,
                            env APERTURE_DATA_DIR); if it is not running, its data is opened
  AWS credentials and region come from the usual AWS_* variables and profiles; AWS_ENDPOINT_URL_S3,
  _DYNAMODB and _SQS point the CLI at emulators.`;

type TargetValues = Record<string, string | boolean | string[] | undefined>;

/** Builds the environment from env, `--local`, `--env-file` and flags, in that order, and reads it as a function would. */
export async function openTarget(values: TargetValues, deps: TargetDependencies): Promise<Target> {
  const dataDir = String(values['data-dir'] ?? deps.env.APERTURE_DATA_DIR ?? '.aperture');
  const local = values.local ? await deps.openLocal(dataDir) : undefined;
  try {
    const env: Record<string, string | undefined> = {
      ...deps.env,
      ...local?.env,
      ...(typeof values['env-file'] === 'string' ? await readEnvFile(values['env-file'], deps) : {}),
      ...(typeof values.settings === 'string'
        ? { [ENV.settings]: await deps.readFile(values.settings) }
        : {}),
      ...Object.fromEntries(
        Object.entries(RESOURCE_FLAGS).flatMap(([flag, name]) =>
          typeof values[flag] === 'string' ? [[name, values[flag]]] : [],
        ),
      ),
    };
    let config: FunctionEnvironment;
    try {
      config = readFunctionEnvironment(env);
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\nSay where the pipeline is (see aperture --help).`);
    }
    const clients = createAwsClients(env);
    return {
      config,
      env,
      clients,
      queuesLive: local?.running ?? true,
      close: async () => {
        for (const client of Object.values(clients)) client.destroy();
        await local?.close();
      },
    };
  } catch (error) {
    await local?.close();
    throw error;
  }
}

async function readEnvFile(path: string, deps: TargetDependencies): Promise<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await deps.readFile(path));
  } catch (error) {
    throw new UsageError(`--env-file ${path}: ${(error as Error).message}`);
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((value) => typeof value === 'string');
  if (!valid) throw new UsageError(`--env-file ${path}: not a JSON object of strings`);
  return parsed as Record<string, string>;
}
