import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, PUBLIC_API_ROUTES } from '../../lambdas/contract.js';
import { openApiDocument } from '../../lambdas/handlers/openapi.js';

const document = openApiDocument();
const text = `${JSON.stringify(document, null, 2)}\n`;

describe('the OpenAPI document', () => {
  it('is the one committed as docs/openapi.json', async () => {
    await expect(text).toMatchFileSnapshot(
      '../../docs/openapi.json',
      'docs/openapi.json is stale; regenerate it: npx vitest run --project unit test/unit/openapi.test.ts -u',
    );
  });

  it("passes Redocly's recommended rules without an error or a warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: text, absoluteRef: 'openapi.json', config });
    expect(
      problems.map(({ ruleId, severity, message, location }) => ({
        ruleId,
        severity,
        message,
        at: location[0]?.pointer,
      })),
    ).toEqual([]);
  });

  it('describes every route, and asks for credentials on all but the public ones', () => {
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        routeKey: `${method.toUpperCase()} ${path}`,
        operationId: (operation as { operationId: string }).operationId,
        open: (operation as { security?: unknown[] }).security?.length === 0,
      })),
    );
    expect(described.map(({ routeKey }) => routeKey).sort()).toEqual(Object.values(API_ROUTES).sort());
    for (const { routeKey, operationId, open } of described) {
      expect(API_ROUTES[operationId as keyof typeof API_ROUTES]).toBe(routeKey);
      expect(open).toBe((PUBLIC_API_ROUTES as readonly string[]).includes(routeKey));
    }
    expect(document.security).toEqual([{ bearer: [] }, { sigv4: [] }]);
  });
});
