import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ApiRouteKey } from '../../lambdas/contract.js';
import { openApiDocument } from '../../lambdas/handlers/openapi.js';

const DOCUMENT_ID = 'https://aperture.invalid/openapi.json';

/** `/` and `~` as a JSON pointer escapes them. */
const pointer = (...segments: string[]) =>
  segments.map((segment) => segment.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Checks a real answer against what the OpenAPI document promises for its route and status, with
 * Ajv's JSON Schema 2020-12 (the document's `jsonSchemaDialect`). The result is Ajv's complaints:
 * none when the answer is as promised; a status the route does not declare is a complaint too.
 */
export function responseValidator(): (routeKey: ApiRouteKey, status: number, body: unknown) => string[] {
  const document = openApiDocument();
  // Formats are decorative here: each `date-time` comes with the pattern that checks it.
  const ajv = new Ajv2020({ allErrors: true, strict: true, formats: { 'date-time': true } });
  // The document itself as a schema whose `paths` and `components` hold the schemas the refs name.
  ajv.addVocabulary([
    'openapi',
    'info',
    'jsonSchemaDialect',
    'servers',
    'security',
    'tags',
    'paths',
    'components',
  ]);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  return (routeKey, status, body) => {
    const [method = '', path = ''] = routeKey.split(' ');
    const responses = (document.paths[path]?.[method.toLowerCase()] as { responses?: object } | undefined)
      ?.responses as Record<string, { content?: unknown }> | undefined;
    const response = responses?.[String(status)];
    if (!response) return [`${routeKey} declares no ${status} answer`];
    if (!response.content) return body === undefined ? [] : [`${routeKey} declares no body for ${status}`];
    const at = pointer(
      'paths',
      path,
      method.toLowerCase(),
      'responses',
      String(status),
      'content',
      'application/json',
      'schema',
    );
    const validate = ajv.getSchema(`${DOCUMENT_ID}#/${at}`);
    if (!validate) return [`no schema at ${at}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
    );
  };
}
