import { randomUUID } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoWebhookEndpoints } from '../../lambdas/adapters/aws/dynamo-webhook-endpoints.js';
import { ENV } from '../../lambdas/contract.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { newWebhookId, newWebhookSecret, type WebhookDelivery } from '../../lambdas/core/webhooks.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { ensureWorkQueue } from '../../local/twin/provision.js';
import { uniqueOwner } from '../support/isolation.js';
import { aperture } from '../support/operations.js';
import { twinEnv, twinInfo } from '../support/twin.js';

const info = twinInfo();
const clients = createAwsClients(twinEnv());
const env = twinFunctionEnvironment(info, parseSettings(), 'https://cdn.example');
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

async function count(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages);
}

describe('aperture webhooks', () => {
  it('replay moves parked deliveries back to the deliveries queue, unchanged, up to --limit', async () => {
    // A private pair, named by the flags: the replay touches nothing else.
    const queue = await ensureWorkQueue(clients.sqs, `webhooks-cli-${randomUUID().slice(0, 8)}`, 180);
    const owner = uniqueOwner('olga');
    const deliveries: WebhookDelivery[] = [1, 2, 3].map((n) => ({
      owner,
      webhookId: newWebhookId(),
      messageId: `event-${n}`,
      eventType: 'image.deleted',
      body: JSON.stringify({ type: 'image.deleted', n }),
      scope: 'owner',
    }));
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.deadLetterUrl,
        Entries: deliveries.map((delivery, i) => ({ Id: String(i), MessageBody: JSON.stringify(delivery) })),
      }),
    );
    const flags = ['--webhook-queue-url', queue.url, '--webhook-dlq-url', queue.deadLetterUrl];

    const first = await aperture(['webhooks', 'replay', ...flags, '--limit', '2', '--json'], env);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ replayed: 2 });
    const rest = await aperture(['webhooks', 'replay', ...flags], env);
    expect(rest.stdout).toContain('1 parked webhook deliveries sent back');
    expect(await count(queue.deadLetterUrl)).toBe(0);

    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(
      Messages.map((message) => JSON.parse(message.Body ?? '')).sort((a, b) =>
        a.messageId.localeCompare(b.messageId),
      ),
    ).toEqual(deliveries);
    // Nothing parked: nothing to do.
    expect(JSON.parse((await aperture(['webhooks', 'replay', ...flags, '--json'], env)).stdout)).toEqual({
      replayed: 0,
    });
  });

  it('replay says which flags it needs when the environment names no webhook queues', async () => {
    const { [ENV.webhookDeliveryQueueUrl]: _queue, [ENV.webhookDeadLetterQueueUrl]: _dlq, ...bare } = env;
    const run = await aperture(['webhooks', 'replay'], bare);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--webhook-queue-url and --webhook-dlq-url');
  });

  it("list shows an owner's endpoints and never their secrets", async () => {
    const owner = uniqueOwner('pavel');
    const secret = newWebhookSecret();
    const endpoints = new DynamoWebhookEndpoints(clients.dynamo, info.resources.table);
    const webhookId = newWebhookId();
    await endpoints.create(
      {
        webhookId,
        owner,
        url: 'https://hooks.example.com/p',
        events: ['image.ready'],
        secret,
        createdAt: new Date(),
      },
      10,
    );
    const run = await aperture(['webhooks', 'list', '--owner', owner, '--json'], env);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).items).toEqual([
      expect.objectContaining({ webhookId, url: 'https://hooks.example.com/p', events: ['image.ready'] }),
    ]);
    expect(run.stdout).not.toContain(secret.slice(6));
    const text = await aperture(['webhooks', 'list', '--owner', owner], env);
    expect(text.stdout).toContain(webhookId);
  });
});
