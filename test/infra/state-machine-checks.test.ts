import { type App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { CfnStateMachine, DefinitionBody, DistributedMap, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { describe, expect, it } from 'vitest';
import {
  aslErrorsOf,
  renderedDefinition,
  StateMachineDefinitionChecks,
} from '../../lib/state-machine-checks.js';
import { newApp } from './synth.js';

function checkedStack(): Stack {
  const app = newApp();
  const stack = new Stack(app, 'Checked');
  Aspects.of(stack).add(new StateMachineDefinitionChecks());
  return stack;
}

describe('state machine definitions are checked against the States Language at synth', () => {
  it('a valid definition with deploy-time values renders to JSON and raises no error', () => {
    const stack = checkedStack();
    const fn = new LambdaFunction(stack, 'Fn', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
    const map = new DistributedMap(stack, 'Each', { maxConcurrency: 4, toleratedFailurePercentage: 5 });
    map.itemProcessor(new LambdaInvoke(stack, 'Work', { lambdaFunction: fn }));
    const machine = new StateMachine(stack, 'Machine', { definitionBody: DefinitionBody.fromChainable(map) });

    const definition = renderedDefinition(machine.node.defaultChild as CfnStateMachine) as {
      States: Record<string, { Type: string; MaxConcurrency?: number }>;
    };
    expect(definition.States.Each).toMatchObject({ Type: 'Map', MaxConcurrency: 4 });
    expect(aslErrorsOf(definition)).toEqual([]);
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });

  it('a definition Step Functions would refuse is an error annotation, which fails cdk synth', () => {
    const stack = checkedStack();
    new CfnStateMachine(stack, 'Broken', {
      roleArn: 'arn:aws:iam::123456789012:role/placeholder',
      definitionString: JSON.stringify({
        StartAt: 'Missing',
        States: { First: { Type: 'Pass', Next: 'Nowhere' } },
      }),
    });
    expect(() => (stack.node.root as App).synth()).toThrow(
      /invalid state machine definition \(MISSING_TRANSITION_TARGET\).*Nowhere/,
    );
  });
});
