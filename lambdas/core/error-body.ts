/**
 * How the API answers a failure, as a zod schema with its type inferred: the shape `errorResult`
 * (`lambdas/handlers/http.ts`) writes, and the one the OpenAPI document publishes for every error status.
 */

import { z } from 'zod';

export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z
      .string()
      .describe(
        'Stable and machine-readable (`invalid_request`, `not_found`, `conflict`, ...): what to decide on.',
      ),
    message: z.string().describe('For people; may change.'),
    field: z.string().describe('The input at fault, on a 400 or 413.').optional(),
    reason: z
      .string()
      .describe('On a 409: what the request lost against (`upload_not_in_progress`, ...).')
      .optional(),
  }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;

/** What API Gateway answers itself, before the function runs: no token (401), too large a body (413), throttled (429). */
export const gatewayErrorBodySchema = z.strictObject({ message: z.string() });
export type GatewayErrorBody = z.output<typeof gatewayErrorBodySchema>;
