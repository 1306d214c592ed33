import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ImportTallies } from '../../lambdas/ports/import-tallies.js';
import type { ImportEngine, ImportStatus, ImportView } from './import-engine.js';
import type { ImportItemCounts, ImportRunInput } from './import-map.js';

/**
 * Imports on the deployment's state machine: an import is one execution, named by the import's id
 * (so an id is used once, as Step Functions allows), its map run's item counts are the progress, and
 * a stopped or failed one is redriven: only the batches that did not succeed run again.
 */
export class StepFunctionsImports implements ImportEngine {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly tallies: ImportTallies,
  ) {}

  async start(importId: string, input: ImportRunInput): Promise<ImportView> {
    await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name: importId,
        input: JSON.stringify(input),
      }),
    );
    return this.status(importId);
  }

  async status(importId: string): Promise<ImportView> {
    const executionArn = this.executionArn(importId);
    const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const { mapRuns = [] } = await this.sfn.send(new ListMapRunsCommand({ executionArn }));
    const mapRunArn = mapRuns[0]?.mapRunArn;
    const mapRun = mapRunArn ? await this.sfn.send(new DescribeMapRunCommand({ mapRunArn })) : undefined;
    const counts = mapRun?.itemCounts;
    const items: ImportItemCounts | undefined = counts && {
      total: counts.total ?? 0,
      succeeded: counts.succeeded ?? 0,
      // Aborted and timed-out items did not finish either: a redrive runs them again.
      failed: (counts.failed ?? 0) + (counts.aborted ?? 0) + (counts.timedOut ?? 0),
      pending: (counts.pending ?? 0) + (counts.running ?? 0),
    };
    const cause = [execution.error, execution.cause].filter(Boolean).join(': ');
    return {
      importId,
      status: (execution.status ?? 'RUNNING') as ImportStatus,
      input: JSON.parse(execution.input ?? '{}') as ImportRunInput,
      items,
      tally: await this.tallies.get(importId),
      results: resultsOf(execution.output),
      cause: cause || undefined,
    };
  }

  async stop(importId: string): Promise<ImportView> {
    await this.sfn.send(
      new StopExecutionCommand({
        executionArn: this.executionArn(importId),
        cause: 'stopped by aperture import stop',
      }),
    );
    return this.status(importId);
  }

  async resume(importId: string): Promise<ImportView> {
    await this.sfn.send(new RedriveExecutionCommand({ executionArn: this.executionArn(importId) }));
    return this.status(importId);
  }

  /** An execution's ARN is its state machine's with `execution` for `stateMachine`, and its name appended. */
  private executionArn(importId: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${importId}`;
  }
}

/** Where the map's ResultWriter filed the results: its manifest, named in a finished execution's output. */
function resultsOf(output: string | undefined): string | undefined {
  if (!output) return undefined;
  const details = (JSON.parse(output) as { ResultWriterDetails?: { Bucket?: string; Key?: string } })
    .ResultWriterDetails;
  return details?.Bucket && details.Key ? `s3://${details.Bucket}/${details.Key}` : undefined;
}
