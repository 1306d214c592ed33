import { webhookView } from '../../lambdas/core/webhooks.js';
import { parsePositiveInteger } from '../arguments.js';
import type { PipelineCommand } from '../command.js';
import { count, table } from '../format.js';
import { UsageError } from '../usage-error.js';

export const webhooksReplayCommand: PipelineCommand = {
  target: 'pipeline',
  summary: 'send parked webhook deliveries back for another round of attempts',
  usage: `  --limit N       move at most N deliveries (default: all)
  Needs the webhook queues: --webhook-queue-url and --webhook-dlq-url (or --local).
  Each moved delivery gets the whole retry schedule again, under its own webhook-id.`,
  options: { limit: { type: 'string' } },
  queuesJobs: () => false,
  async run(context, values) {
    const { parkedDeliveries } = context.adapters;
    if (!parkedDeliveries) {
      throw new UsageError('say where the webhook queues are: --webhook-queue-url and --webhook-dlq-url');
    }
    const limit =
      typeof values.limit === 'string' ? parsePositiveInteger(values.limit, '--limit') : undefined;
    let line = () => 'webhooks replay: 0 moved';
    const moved = await parkedDeliveries.redrive(limit, (done) => {
      line = () => `webhooks replay: ${count(done)} moved`;
      context.progress.update(line);
    });
    context.progress.done(line);
    return { text: `${count(moved)} parked webhook deliveries sent back`, json: { replayed: moved } };
  },
};

export const webhooksListCommand: PipelineCommand = {
  target: 'pipeline',
  summary: "list an owner's webhook endpoints (never their secrets)",
  usage: '  --owner ID      whose endpoints (the JWT sub or principal ARN the API knows them by)',
  options: { owner: { type: 'string' } },
  queuesJobs: () => false,
  async run(context, values) {
    if (typeof values.owner !== 'string') throw new UsageError('webhooks list needs --owner');
    const endpoints = (await context.adapters.webhooks.list(values.owner)).map(webhookView);
    const text =
      endpoints.length === 0
        ? `${values.owner} has no webhook endpoints`
        : table([
            ['id', 'events', 'url'],
            ...endpoints.map((endpoint) => [endpoint.webhookId, endpoint.events.join(','), endpoint.url]),
          ]);
    return { text, json: { items: endpoints } };
  },
};
