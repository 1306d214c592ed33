import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { parseSettings, type SettingsInput } from '../../lambdas/core/settings.js';
import { createRenderHandler, renderDependenciesFromEnvironment } from '../../lambdas/handlers/render.js';
import { startRenderLanes } from '../../local/runtime/render-lanes.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { type TwinInfo, twinEnvironment } from '../../local/twin/index.js';

/**
 * A render worker in a process of its own, so the fault suite can kill it mid-batch as a crashed
 * Lambda would die: the render lanes of a running local twin, given as JSON in argv[2]. With
 * `redeliverRate`, that share of messages is handed to two invocations at once.
 */
interface WorkerConfig {
  twin: TwinInfo;
  settings: SettingsInput;
  cdnUrl: string;
  workers: number;
  redeliverRate: number;
}

const config = JSON.parse(String(process.argv[2])) as WorkerConfig;
const env = twinFunctionEnvironment(config.twin, parseSettings(config.settings), config.cdnUrl);
const lanes = startRenderLanes({
  sqs: createAwsClients(twinEnvironment(config.twin)).sqs,
  twin: config.twin,
  handler: createRenderHandler(renderDependenciesFromEnvironment(env)),
  workers: config.workers,
  logger: new Logger({ serviceName: 'aperture-fault-worker' }),
  redeliver: () => Math.random() < config.redeliverRate,
});
process.on('SIGTERM', () => {
  void lanes.stop().then(() => process.exit(0));
});
process.stdout.write('ready\n');
