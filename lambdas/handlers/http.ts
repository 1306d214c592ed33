import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import type { ErrorBody } from '../core/error-body.js';
import {
  ApertureError,
  ConflictError,
  NotFoundError,
  RetryableError,
  TooLargeError,
  UnauthorizedError,
  UnsupportedImageError,
  ValidationError,
} from '../core/errors.js';
import { parseOwner } from '../core/identity.js';
import { describeIssues } from '../core/validation.js';

/** The subset of API Gateway v2's structured result this API produces. */
export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function json(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** Order matters: subclasses before the classes they extend. */
const STATUS_BY_ERROR: ReadonlyArray<[new (...args: never[]) => ApertureError, number]> = [
  [TooLargeError, 413],
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnsupportedImageError, 415],
  [RetryableError, 503],
];

/** The one place domain errors become HTTP: a stable code and a message, never a serialised error. */
export function errorResult(error: unknown): HttpResult {
  if (error instanceof ApertureError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 500;
    const field = error instanceof ValidationError ? error.field : undefined;
    // A conflict's reason is what a client decides on (retry, or give up on the upload).
    const reason = error instanceof ConflictError ? error.reason : undefined;
    const body: ErrorBody = {
      error: {
        code: error.code,
        message: error.message,
        ...(field ? { field } : {}),
        ...(reason ? { reason } : {}),
      },
    };
    return json(status, body);
  }
  const body: ErrorBody = { error: { code: 'internal_error', message: 'internal error' } };
  return json(500, body);
}

/** Answers every failure as JSON, logging what the caller must not see. */
export function httpErrors(logger: Logger): MiddlewareObj<APIGatewayProxyEventV2, HttpResult> {
  return {
    onError: async (request) => {
      const { error } = request;
      const result = errorResult(error);
      if (result.statusCode >= 500) logger.error('request failed', { error: error as Error });
      else
        logger.info('request refused', { error: (error as ApertureError).code, status: result.statusCode });
      request.response = result;
    },
  };
}

export function parseJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) throw new ValidationError('a JSON body is required', 'body');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('the body is not valid JSON', 'body');
  }
}

/**
 * A query string checked against its schema; a problem is a `ValidationError` naming the parameter
 * (an unknown one included, and the list itself for one of a list's items), or `query` when it is
 * about the parameters together.
 */
export function parseQueryString<Schema extends z.ZodType>(
  schema: Schema,
  query: Record<string, string | undefined> | undefined,
): z.output<Schema> {
  return parseInput(schema, query ?? {}, 'query');
}

/**
 * An input (a query string, a JSON body) checked against its schema; a problem is a
 * `ValidationError` naming the top-level field (an unknown one included), or `whole` when it is
 * about the input as a whole.
 */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  whole: string,
): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const path = issue?.code === 'unrecognized_keys' ? issue.keys : (issue?.path.slice(0, 1) ?? []);
  throw new ValidationError(describeIssues(parsed.error), path.join('.') || whole);
}

/** A page size parameter: a whole number from 1 to `max`, `fallback` when absent. */
export function pageLimitSchema(max: number, fallback: number) {
  return z
    .string()
    .regex(/^[0-9]{1,3}$/, `a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback)
    .describe(`How many on a page: 1 to ${max}, ${fallback} when absent.`);
}

/** What API Gateway puts in `requestContext.authorizer` for the two authorizers the construct uses. */
interface AuthorizerContext {
  jwt?: { claims?: Record<string, unknown> };
  iam?: { userArn?: string };
}

/**
 * The caller's identity as verified by API Gateway: the JWT `sub`, or for IAM-signed calls (the
 * construct's default without a JWT issuer) the caller's principal ARN. Never read from the body.
 */
export function ownerOf(event: APIGatewayProxyEventV2): string {
  const authorizer = (event.requestContext as { authorizer?: AuthorizerContext }).authorizer;
  return parseOwner(authorizer?.jwt?.claims?.sub ?? authorizer?.iam?.userArn);
}
