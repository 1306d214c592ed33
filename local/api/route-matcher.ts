/** A request matched to one of the API's route keys, with its path parameters. */
export interface MatchedRoute {
  routeKey: string;
  pathParameters: Record<string, string> | undefined;
}

interface CompiledRoute {
  routeKey: string;
  method: string;
  segments: string[];
}

/**
 * Matches requests to API Gateway v2 route keys (`GET /v1/images/{imageId}`) as the HTTP API does:
 * the method exactly, literal segments exactly, a `{name}` segment against any one non-empty
 * segment, which becomes a (decoded) path parameter.
 */
export function routeMatcher(
  routeKeys: readonly string[],
): (method: string, path: string) => MatchedRoute | undefined {
  const routes: CompiledRoute[] = routeKeys.map((routeKey) => {
    const [method = '', path = ''] = routeKey.split(' ');
    return { routeKey, method, segments: path.split('/').slice(1) };
  });
  return (method, path) => {
    const segments = path.split('/').slice(1);
    for (const route of routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue;
      const parameters: Record<string, string> = {};
      const matches = route.segments.every((expected, i) => {
        const actual = segments[i] ?? '';
        const name = /^\{(\w+)\}$/.exec(expected)?.[1];
        if (!name) return expected === actual;
        if (actual === '') return false;
        parameters[name] = safeDecode(actual);
        return true;
      });
      if (matches) {
        return {
          routeKey: route.routeKey,
          pathParameters: Object.keys(parameters).length > 0 ? parameters : undefined,
        };
      }
    }
    return undefined;
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
