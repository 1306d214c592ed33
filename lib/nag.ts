import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one wildcard resource of an IAM policy (AwsSolutions-IAM5). cdk-nag names such a
 * finding after the resource with its intrinsics flattened (`<Bucket1234.Arn>/uploads/*`), and v3
 * matches acknowledgements exactly, so the id is rendered here the same way from the resource itself.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flattened = flatten(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattened}]`, reason });
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const fn = value as Record<string, unknown>;
    const join = fn['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, parts] = join as [string, unknown[]];
      return parts.map(flatten).join(delimiter);
    }
    const getAtt = fn['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    if (typeof fn.Ref === 'string') return `<${fn.Ref}>`;
  }
  throw new Error(`cannot name the nag finding for resource ${JSON.stringify(value)}`);
}
