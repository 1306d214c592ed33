import { createRequire } from 'node:module';
import { Annotations, type IAspect, Stack } from 'aws-cdk-lib';
import { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';

interface AslError {
  'Error code': string;
  Message: string;
  path?: string;
}

// asl-validator ships CommonJS without types: its one export is this function.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: AslError[] };

/**
 * Checks every state machine's definition against the Amazon States Language at synth
 * (asl-validator: the language's JSON schema, paths, ARNs, transitions), so a definition Step
 * Functions would refuse fails `cdk synth` instead of the deploy. An error is an error annotation on
 * the state machine, which stops `cdk synth` and `cdk deploy`.
 */
export class StateMachineDefinitionChecks implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnStateMachine)) return;
    const errors = aslErrorsOf(renderedDefinition(node));
    for (const error of errors) {
      Annotations.of(node).addError(
        `invalid state machine definition (${error['Error code']}${error.path ? ` at ${error.path}` : ''}): ${error.Message}`,
      );
    }
  }
}

/** The definition's problems by the States Language; none for a valid one. */
export function aslErrorsOf(definition: unknown): AslError[] {
  const { isValid, errors } = validateAsl(definition, { checkPaths: true, checkArn: true });
  return isValid ? [] : errors;
}

/**
 * The definition as Step Functions will read it, each deploy-time value (a function's ARN, a bucket's
 * name) standing in as an ARN-shaped placeholder that names its resource.
 */
export function renderedDefinition(stateMachine: CfnStateMachine): unknown {
  const stack = Stack.of(stateMachine);
  const resolved: unknown = stack.resolve(stateMachine.definitionString ?? stateMachine.definition);
  if (typeof resolved === 'object' && resolved !== null && !('Fn::Join' in resolved)) return resolved;
  return JSON.parse(joined(resolved));
}

/** What the pseudo parameters stand for in a rendered definition: an ARN built of them stays an ARN. */
const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};

function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const join = (value as Record<string, unknown>)['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, parts] = join as [string, unknown[]];
      return parts.map(joined).join(delimiter);
    }
    const ref = (value as { Ref?: unknown }).Ref;
    if (typeof ref === 'string' && ref in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[ref] as string;
    return `arn:aws:states:us-east-1:123456789012:placeholder:${encodeURIComponent(JSON.stringify(value))}`;
  }
  throw new Error(`cannot render the state machine definition part ${JSON.stringify(value)}`);
}
