import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** A deployed stack's outputs by key (`ApiUrl`, `CdnBaseUrl`, …), read with the caller's credentials. */
export async function stackOutputs(
  stackName: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, string>> {
  const client = new CloudFormationClient({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    ...(env.AWS_ENDPOINT_URL_CLOUDFORMATION ? { endpoint: env.AWS_ENDPOINT_URL_CLOUDFORMATION } : {}),
  });
  try {
    const { Stacks: stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries(
      (stacks[0]?.Outputs ?? []).flatMap((output) =>
        output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue]] : [],
      ),
    );
  } finally {
    client.destroy();
  }
}
