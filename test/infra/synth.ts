import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { AssetManifestArtifact, BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { ApertureStack } from '../../lib/aperture-stack.js';
import type { ImagePipelineProps } from '../../lib/image-pipeline.js';

/** The feature flags `cdk synth` runs with, so tests synthesise exactly what a deploy would. */
export const cdkContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/**
 * An app with the deploy's feature flags. Functions are bundled only when `bundle` says so: esbuild
 * takes seconds per function, and most tests read the template, not the code.
 */
export function newApp(context: Record<string, unknown> = {}, { bundle = false } = {}): App {
  const bundling = bundle ? {} : { [BUNDLING_STACKS]: [] };
  return new App({ context: { ...cdkContext, ...bundling, ...context } });
}

export interface Synthesized {
  app: App;
  stack: ApertureStack;
  template: Template;
}

/** One stack with one pipeline; `bundle` bundles the functions with the local esbuild, as `cdk synth` does. */
export function synthPipeline(pipeline?: ImagePipelineProps, { bundle = false } = {}): Synthesized {
  const app = newApp({}, { bundle });
  const stack = new ApertureStack(app, 'Test', { pipeline });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id a construct's CloudFormation resource gets in its stack. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

/** A `Fn::GetAtt` as it appears in a template. */
export const getAtt = (construct: IConstruct, attribute: string) => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});

export interface PolicyStatementJson {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  Principal?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Sid?: string;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every resource policy or identity policy of the given type in the template. */
export function statementsOf(
  template: Template,
  type: string,
  filter: (properties: Record<string, unknown>) => boolean = () => true,
): PolicyStatementJson[] {
  return Object.values(template.findResources(type))
    .map((resource) => resource.Properties as Record<string, unknown>)
    .filter(filter)
    .flatMap((properties) => (properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
}

/** The statements of every identity policy attached to a function's role. */
export function roleStatements(template: Template, fn: IFunction): PolicyStatementJson[] {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  const role = { Ref: logicalId(fn.role) };
  return statementsOf(template, 'AWS::IAM::Policy', (properties) =>
    asArray(properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify(role)),
  );
}

/** Every action a list of statements allows, each paired with every resource it names. */
export function grantsOf(statements: PolicyStatementJson[]): { action: string; resource: unknown }[] {
  return statements.flatMap((statement) => {
    expect(statement).toEqual({ Effect: 'Allow', Action: expect.anything(), Resource: expect.anything() });
    return asArray(statement.Action).flatMap((action) =>
      asArray(statement.Resource).map((resource) => ({ action, resource })),
    );
  });
}

/** The bundled `index.mjs` of a function, read from the cloud assembly's staged asset. */
export function bundleOf(synth: Synthesized, fn: IFunction): string {
  const assembly = synth.app.synth();
  const code = synth.template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.Code;
  expect(code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
  const manifest = assembly.artifacts.find(AssetManifestArtifact.isAssetManifestArtifact);
  const source = manifest?.contents.files?.[code.S3Key.replace(/\.zip$/, '')]?.source.path;
  expect(source, `the code asset of ${fn.node.path}`).toBeDefined();
  return readFileSync(join(assembly.directory, source ?? '', 'index.mjs'), 'utf8');
}
