import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { apiDependenciesFromEnvironment, createApiHandler } from '../../lambdas/handlers/api.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { apiEvent } from '../support/api-events.js';
import { twinInfo } from '../support/twin.js';

describe('an API request that runs out of time', () => {
  it('is answered 503 with a JSON error the client may retry, not a 500', async () => {
    const deps = apiDependenciesFromEnvironment(
      twinFunctionEnvironment(twinInfo(), parseSettings(), 'http://127.0.0.1:3001'),
    );
    // The catalog stalls, as DynamoDB does under a burst it must queue or during an outage.
    const stalled: typeof deps.catalog = Object.assign(Object.create(deps.catalog), {
      recordUpload: () => new Promise<never>(() => {}),
    });
    const handler = createApiHandler({ ...deps, catalog: stalled });
    const response = await handler(
      apiEvent(API_ROUTES.createUpload, { body: { contentType: 'image/png', size: 100 }, owner: 'slow' }),
      lambdaContext('aperture-api', { timeoutSeconds: 0.3 }),
    );
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'dependency_unavailable', message: expect.stringContaining('ran out of time') },
    });
  });
});
