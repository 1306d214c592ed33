import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients } from '../adapters/aws/clients.js';
import { type FunctionEnvironment, readFunctionEnvironment } from '../core/environment.js';

/** What every Aperture function builds from its environment, once per cold start. */
export interface FunctionRuntime<Config = FunctionEnvironment> {
  config: Config;
  clients: AwsClients;
  logger: Logger;
  metrics: Metrics;
}

export function functionRuntime<Config = FunctionEnvironment>(
  env: Record<string, string | undefined>,
  serviceName: string,
  readConfig: (env: Record<string, string | undefined>) => Config = readFunctionEnvironment as never,
): FunctionRuntime<Config> {
  return {
    config: readConfig(env),
    clients: createAwsClients(env),
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: 'Aperture', serviceName }),
  };
}

/**
 * The Lambda entry point: builds the handler on the first invocation, not at import, so tests and the
 * local runtime can import a handler module without a function environment.
 */
export function onColdStart<Event, Result>(
  build: () => (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  let built: ((event: Event, context: Context) => Promise<Result>) | undefined;
  return (event, context) => {
    built ??= build();
    return built(event, context);
  };
}

/**
 * Publishes what an invocation recorded, after it or on its error: every handler's one way to emit
 * metrics. It is Powertools' `logMetrics` less one thing: that logs a warning for each invocation
 * that recorded no metric (an API read, a refused request), and this publishes nothing then.
 */
export function publishMetrics(metrics: Metrics): MiddlewareObj {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}
