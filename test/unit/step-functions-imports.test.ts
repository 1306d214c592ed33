import { ExecutionAlreadyExists, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { StepFunctionsImports } from '../../cli/bulk/step-functions-imports.js';
import { emptyTally, type ImportTally } from '../../lambdas/core/imports.js';
import type { ImportTallies } from '../../lambdas/ports/import-tallies.js';
import { answer, type CannedResponse, cannedTransport, refusal } from '../support/sdk-transport.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ApertureImport';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:ApertureImport:import-1';
const MAP_RUN = `${EXECUTION.replace(':execution:', ':mapRun:')}/Each:abc`;
const INPUT = { bucket: 'library', prefix: 'photos/', owner: 'alice' };

const tally: ImportTally = { new: 7, duplicate: 2, rejected: { truncated: 1 } };
const tallies: ImportTallies = {
  count: async () => {},
  get: async (importId) => (importId === 'import-1' ? tally : emptyTally()),
};

function imports(...responses: CannedResponse[]) {
  const { options, sent } = cannedTransport(...responses);
  return { imports: new StepFunctionsImports(new SFNClient(options), STATE_MACHINE, tallies), sent };
}

/** DescribeExecution, ListMapRuns, DescribeMapRun: what a status is read from. */
const statusAnswers = (status: string, counts?: Record<string, number>) => [
  answer(200, {
    executionArn: EXECUTION,
    stateMachineArn: STATE_MACHINE,
    status,
    input: JSON.stringify(INPUT),
    startDate: 1_765_000_000,
    ...(status === 'FAILED'
      ? { error: 'States.ExceedToleratedFailureThreshold', cause: 'too many failed' }
      : {}),
    ...(status === 'SUCCEEDED'
      ? {
          output: JSON.stringify({
            MapRunArn: MAP_RUN,
            ResultWriterDetails: { Bucket: 'import-results', Key: 'imports/abc/manifest.json' },
          }),
        }
      : {}),
  }),
  answer(200, { mapRuns: counts ? [{ executionArn: EXECUTION, mapRunArn: MAP_RUN, startDate: 1 }] : [] }),
  ...(counts
    ? [
        answer(200, {
          mapRunArn: MAP_RUN,
          executionArn: EXECUTION,
          status: 'RUNNING',
          startDate: 1,
          maxConcurrency: 40,
          toleratedFailurePercentage: 5,
          toleratedFailureCount: 0,
          itemCounts: counts,
          executionCounts: counts,
        }),
      ]
    : []),
];

const targets = (sent: { headers: Record<string, string> }[]) =>
  sent.map((request) => request.headers['x-amz-target']);

describe('StepFunctionsImports (request shapes and answers only: that the state machine runs is not provable offline)', () => {
  it('starts one execution named by the import id with the source as its input', async () => {
    const { imports: subject, sent } = imports(
      answer(200, { executionArn: EXECUTION, startDate: 1 }),
      ...statusAnswers('RUNNING'),
    );
    const view = await subject.start('import-1', INPUT);
    expect(targets(sent)).toEqual([
      'AWSStepFunctions.StartExecution',
      'AWSStepFunctions.DescribeExecution',
      'AWSStepFunctions.ListMapRuns',
    ]);
    expect(sent[0]?.json).toEqual({
      stateMachineArn: STATE_MACHINE,
      name: 'import-1',
      input: JSON.stringify(INPUT),
    });
    expect(sent[1]?.json).toEqual({ executionArn: EXECUTION });
    expect(view).toMatchObject({
      importId: 'import-1',
      status: 'RUNNING',
      input: INPUT,
      items: undefined,
      tally,
    });
  });

  it("reads progress from the map run's item counts and the decisions from the catalog's tally", async () => {
    const counts = {
      pending: 100,
      running: 50,
      succeeded: 800,
      failed: 25,
      timedOut: 5,
      aborted: 20,
      total: 1000,
      resultsWritten: 0,
    };
    const { imports: subject, sent } = imports(...statusAnswers('RUNNING', counts));
    const view = await subject.status('import-1');
    expect(sent[2]?.json).toEqual({ mapRunArn: MAP_RUN });
    expect(view.items).toEqual({ total: 1000, succeeded: 800, failed: 50, pending: 150 });
    expect(view.tally).toEqual(tally);
  });

  it("names the result files from a finished execution's output", async () => {
    const counts = {
      pending: 0,
      running: 0,
      succeeded: 100,
      failed: 0,
      timedOut: 0,
      aborted: 0,
      total: 100,
      resultsWritten: 100,
    };
    const { imports: subject } = imports(...statusAnswers('SUCCEEDED', counts));
    expect((await subject.status('import-1')).results).toBe('s3://import-results/imports/abc/manifest.json');
  });

  it('reports why an import failed', async () => {
    const counts = {
      pending: 0,
      running: 0,
      succeeded: 90,
      failed: 10,
      timedOut: 0,
      aborted: 0,
      total: 100,
      resultsWritten: 100,
    };
    const { imports: subject } = imports(...statusAnswers('FAILED', counts));
    expect(await subject.status('import-1')).toMatchObject({
      status: 'FAILED',
      cause: 'States.ExceedToleratedFailureThreshold: too many failed',
    });
  });

  it('stops with StopExecution and resumes with RedriveExecution, on the same execution', async () => {
    const stop = imports(answer(200, { stopDate: 1 }), ...statusAnswers('ABORTED'));
    expect((await stop.imports.stop('import-1')).status).toBe('ABORTED');
    expect(targets(stop.sent)[0]).toBe('AWSStepFunctions.StopExecution');
    expect(stop.sent[0]?.json).toMatchObject({ executionArn: EXECUTION });

    const resume = imports(answer(200, { redriveDate: 1 }), ...statusAnswers('RUNNING'));
    await resume.imports.resume('import-1');
    expect(targets(resume.sent)[0]).toBe('AWSStepFunctions.RedriveExecution');
    expect(resume.sent[0]?.json).toMatchObject({ executionArn: EXECUTION });
  });

  it('an id already used is refused as Step Functions refuses it', async () => {
    const { imports: subject } = imports(refusal(400, 'ExecutionAlreadyExists', 'Execution Already Exists'));
    await expect(subject.start('import-1', INPUT)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });
});
