import type { App } from 'aws-cdk-lib';
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { parseSettings, type SettingsInput } from '../../lambdas/core/settings.js';
import { CatalogTable } from '../../lib/catalog-table.js';
import { PipelineMonitoring } from '../../lib/monitoring.js';
import { type DeploymentWebhook, Webhooks } from '../../lib/webhooks.js';
import { WorkQueues } from '../../lib/work-queues.js';

/** The webhooks construct in a stack of its own, on a bus and a catalog table, monitored as the pipeline monitors. */
export function webhookStack(
  app: App,
  settings: SettingsInput = {},
  endpoints?: (stack: Stack) => DeploymentWebhook[],
) {
  const stack = new Stack(app, 'Webhooks');
  const table = new CatalogTable(stack, 'Catalog', { removalPolicy: RemovalPolicy.DESTROY }).table;
  const eventBus = new EventBus(stack, 'Bus');
  const webhooks = new Webhooks(stack, 'Hooks', {
    eventBus,
    table,
    settings: parseSettings(settings),
    logRetention: RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
    tracing: Tracing.DISABLED,
    ...(endpoints ? { endpoints: endpoints(stack) } : {}),
  });
  const apiStage = new HttpApi(stack, 'Api', { createDefaultStage: false }).addStage('Stage', {
    stageName: 'test',
  });
  Validations.of(apiStage).acknowledge({
    id: 'AwsSolutions-APIG1',
    reason: 'Scaffolding of the test: the stage exists only because PipelineMonitoring alarms on an API.',
  });
  const monitoring = new PipelineMonitoring(stack, 'Monitoring', {
    lanes: new WorkQueues(stack, 'Lanes').lanes,
    apiStage,
  });
  webhooks.monitor(monitoring);
  return { stack, table, eventBus, webhooks, monitoring };
}
