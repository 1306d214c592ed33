import type { ParseArgsConfig } from 'node:util';
import { PipelineApi } from './bulk/pipeline-api.js';
import { bearerAuth, regionOfApiUrl, sigv4Auth } from './bulk/request-auth.js';
import { UsageError } from './usage-error.js';

/** A running `npm start` as an API client reaches it; passed in, so that only `--local` loads local/ (and its emulators). */
export interface LocalApi {
  apiUrl: string;
  /** A token the local API accepts for `owner`. */
  token(owner: string): Promise<string>;
}

export interface ApiTargetDependencies {
  env: Record<string, string | undefined>;
  /** The running local runtime whose data is in `dataDir`; throws when none runs. */
  openLocalApi: (dataDir: string) => Promise<LocalApi>;
  /** A deployed stack's outputs by name (`ApiUrl`, …). */
  stackOutputs: (
    stackName: string,
    env: Record<string, string | undefined>,
  ) => Promise<Record<string, string>>;
}

/** The owner the demo page starts as, so that images brought in locally show up there. */
const LOCAL_OWNER = 'demo';

export const API_TARGET_OPTIONS = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  stack: { type: 'string' },
  local: { type: 'boolean', default: false },
  'data-dir': { type: 'string' },
  owner: { type: 'string' },
} satisfies NonNullable<ParseArgsConfig['options']>;

export const API_TARGET_USAGE = `Which API (the first that says):
  --local [--data-dir DIR] [--owner NAME]
                            the running local runtime (npm start) whose data is in DIR (default
                            .aperture, env APERTURE_DATA_DIR), as NAME (default ${LOCAL_OWNER}, the demo page's)
  --stack NAME              a deployed stack: its ApiUrl output (AWS credentials to read it)
  --api-url URL             the API's base URL (env APERTURE_API_URL)
  and who you are:
  --token JWT               a token from the deployment's issuer (env APERTURE_TOKEN); without one,
                            requests are signed with your AWS credentials (SigV4), for a deployment
                            whose routes use IAM auth`;

type Values = Record<string, string | boolean | string[] | undefined>;

/** The API the flags name, with the caller's identity. */
export async function openApiTarget(values: Values, deps: ApiTargetDependencies): Promise<PipelineApi> {
  const token = stringValue(values.token) ?? deps.env.APERTURE_TOKEN;
  if (values.local) {
    const dataDir = stringValue(values['data-dir']) ?? deps.env.APERTURE_DATA_DIR ?? '.aperture';
    const local = await deps.openLocalApi(dataDir);
    return new PipelineApi(
      local.apiUrl,
      bearerAuth(token ?? (await local.token(stringValue(values.owner) ?? LOCAL_OWNER))),
    );
  }
  if (values.owner !== undefined) throw new UsageError('--owner names a local identity: use it with --local');
  const stack = stringValue(values.stack);
  const apiUrl = stack
    ? (await deps.stackOutputs(stack, deps.env)).ApiUrl
    : (stringValue(values['api-url']) ?? deps.env.APERTURE_API_URL);
  if (!apiUrl) {
    throw new UsageError(
      stack
        ? `the stack ${stack} has no ApiUrl output`
        : 'say which API: --local, --stack NAME or --api-url URL',
    );
  }
  if (!URL.canParse(apiUrl)) throw new UsageError(`--api-url takes a URL, not "${apiUrl}"`);
  if (token) return new PipelineApi(apiUrl, bearerAuth(token));
  const region = regionOfApiUrl(apiUrl) ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError(`no --token, and no AWS region to sign for ${apiUrl}: set AWS_REGION`);
  return new PipelineApi(apiUrl, sigv4Auth(region));
}

function stringValue(value: string | boolean | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
