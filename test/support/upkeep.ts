import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoMaintenanceCatalog } from '../../lambdas/adapters/aws/dynamo-maintenance-catalog.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import type { Settings } from '../../lambdas/core/settings.js';
import * as scheduledFunction from '../../lambdas/handlers/reprocess.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { TWIN_REGION } from '../../local/twin/environment.js';
import type { PrivateWorld } from './operations.js';

export interface Read {
  command: string;
  /** The partition key of each item the read returned. */
  keys: string[];
}

/**
 * The scheduled upkeep as deployed under `settings` (EventBridge's event to the function's own
 * handler and adapters), with every DynamoDB read it makes recorded at its client, the jobs it
 * queues captured, and its clock at `now`.
 */
export function deployedUpkeep(world: PrivateWorld, settings: Settings, now = () => new Date()) {
  const reads: Read[] = [];
  const jobs: RenderJob[] = [];
  const env = world.env(settings);
  const clients = createAwsClients(env);
  clients.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as { Item?: Record<string, unknown>; Items?: Record<string, unknown>[] };
      if (output.Item || output.Items) {
        const items = output.Items ?? (output.Item ? [output.Item] : []);
        reads.push({ command: String(context.commandName), keys: items.map(partitionKey) });
      }
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );
  const handler = scheduledFunction.createReprocessHandler({
    ...scheduledFunction.reprocessDependenciesFromEnvironment(env),
    catalog: new DynamoMaintenanceCatalog(clients.dynamo, world.twin.resources.table),
    queue: { enqueue: async (queued) => void jobs.push(...queued) },
    now,
  });
  return {
    reads,
    jobs,
    async run() {
      try {
        return await handler(scheduledEvent(), lambdaContext('aperture-reprocess'));
      } finally {
        clients.dynamo.destroy();
      }
    },
  };
}

/** Every item the reads returned, by partition key. */
export const itemsRead = (reads: readonly Read[]) => reads.flatMap((read) => read.keys);

/** An item's `pk`, whether the middleware sees it marshalled or not. */
function partitionKey(item: Record<string, unknown>): string {
  const pk = item.pk as string | { S: string };
  return typeof pk === 'string' ? pk : pk.S;
}

/** What EventBridge delivers to its target for the upkeep's `rate(1 hour)` rule. */
export function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: TWIN_REGION,
    resources: [`arn:aws:events:${TWIN_REGION}:123456789012:rule/aperture-reprocess-schedule`],
    detail: {},
  };
}
