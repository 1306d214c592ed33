import { beforeAll, describe, expect, it } from 'vitest';
import {
  API_MEMORY_MB,
  INGEST_MEMORY_MB,
  ON_DEMAND_MEMORY_MB,
  RENDER_MEMORY_MB,
  REPROCESS_INTERVAL_HOURS,
  REPROCESS_MEMORY_MB,
} from '../../lambdas/contract.js';
import { WORK_LANES } from '../../lambdas/core/render-jobs.js';
import { logicalId, type Synthesized, synthPipeline } from './synth.js';

/**
 * `aperture cost` bills the functions by the deployment contract (lambdas/contract.ts), which the CLI
 * can read without loading CDK; the constructs must give the functions exactly that.
 */
let synth: Synthesized;
beforeAll(() => {
  synth = synthPipeline();
});

describe('what the cost model bills', () => {
  it('is the memory the construct gives each function', () => {
    const pipeline = synth.stack.pipeline;
    const memory = (fn: Parameters<typeof logicalId>[0]) =>
      synth.template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.MemorySize;
    expect({
      api: memory(pipeline.apiFunction),
      ingest: memory(pipeline.ingestFunction),
      ...Object.fromEntries(WORK_LANES.map((lane) => [lane, memory(pipeline.renderFunctions[lane])])),
      onDemand: memory(pipeline.onDemandFunction),
      reprocess: memory(pipeline.reprocessFunction),
    }).toEqual({
      api: API_MEMORY_MB,
      ingest: INGEST_MEMORY_MB,
      ...RENDER_MEMORY_MB,
      onDemand: ON_DEMAND_MEMORY_MB,
      reprocess: REPROCESS_MEMORY_MB,
    });
  });

  it('is how often reprocess runs', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${REPROCESS_INTERVAL_HOURS} hour${REPROCESS_INTERVAL_HOURS === 1 ? '' : 's'})`,
    });
  });
});
