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
    // cdk-nag writes a selected part of a token (a state machine's name from its ARN) as its JSON.
    if ('Fn::Select' in fn) return JSON.stringify(value);
  }
  throw new Error(`cannot name the nag finding for resource ${JSON.stringify(value)}`);
}

/**
 * S3 notifications are provisioned by a custom resource whose handler CDK builds itself, once per
 * stack, with the AWS-managed basic execution role (AwsSolutions-IAM4). CDK exports neither the
 * construct nor its id, so it is found here by the id's fixed prefix, and only its own finding is
 * acknowledged. Call after the first `addEventNotification` in the stack, which creates it.
 */
export function acknowledgeBucketNotificationsHandler(scope: IConstruct): void {
  const handlers = Stack.of(scope).node.children.filter((child) =>
    child.node.id.startsWith('BucketNotificationsHandler'),
  );
  const [handler] = handlers;
  if (!handler || handlers.length > 1) {
    throw new Error(`expected one S3 notifications handler in the stack, found ${handlers.length}`);
  }
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's own deploy-time handler for S3 notifications; the managed policy only lets it write its logs, and its one other permission is s3:PutBucketNotification on the upload bucket.",
  });
}
