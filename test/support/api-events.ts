import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** An API Gateway v2 (HTTP API) event as the JWT authorizer delivers it. */
export function apiEvent(
  routeKey: string,
  options: {
    body?: unknown;
    rawBody?: string;
    owner?: string;
    pathParameters?: Record<string, string>;
    queryStringParameters?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const authorizer = options.owner ? { jwt: { claims: { sub: options.owner }, scopes: [] } } : undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: options.queryStringParameters
      ? new URLSearchParams(options.queryStringParameters).toString()
      : '',
    headers: { 'content-type': 'application/json' },
    pathParameters: options.pathParameters,
    ...(options.queryStringParameters ? { queryStringParameters: options.queryStringParameters } : {}),
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: crypto.randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      ...(authorizer ? { authorizer } : {}),
    },
  } as APIGatewayProxyEventV2;
}
