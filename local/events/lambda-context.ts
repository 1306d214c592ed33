import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * The context Lambda passes a handler, for one invocation of `functionName` with `timeoutSeconds`
 * to run: the remaining time counts down from the call, as in Lambda.
 */
export function lambdaContext(
  functionName: string,
  options: { timeoutSeconds?: number; memoryMb?: number } = {},
): Context {
  const { timeoutSeconds = 30, memoryMb = 256 } = options;
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
