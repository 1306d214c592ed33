import { type App, Aspects, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import { describeIssues } from '../lambdas/core/validation.js';
import { ApertureStack } from './aperture-stack.js';
import { StateMachineDefinitionChecks } from './state-machine-checks.js';

/** `-c key=a,b` arrives as a string, cdk.json may hold a real array: both mean a list. */
const list = z.union([
  z.array(z.string().min(1)).min(1),
  z
    .string()
    .transform((text) => text.split(',').map((item) => item.trim()))
    .pipe(z.array(z.string().min(1)).min(1)),
]);

/** The deploy-time choices read from CDK context (`-c key=value` or cdk.json), all typed. */
const contextSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('Aperture'),
    allowedOrigins: list.optional(),
    jwtIssuer: z.url().optional(),
    jwtAudience: list.optional(),
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    importSources: list.optional(),
  })
  .refine((context) => (context.jwtIssuer === undefined) === (context.jwtAudience === undefined), {
    message: 'jwtIssuer and jwtAudience go together',
    path: ['jwtAudience'],
  });

export type ApertureContext = z.output<typeof contextSchema>;

export function readContext(app: App): ApertureContext {
  const raw = Object.fromEntries(
    Object.keys(contextSchema.shape).map((key) => [key, app.node.tryGetContext(key)]),
  );
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid CDK context: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * The Aperture app: one stack, checked on every synth by cdk-nag's AWS Solutions pack (any finding
 * not fixed or acknowledged next to its resource fails the synth) and by the States Language
 * validator (every state machine's definition).
 */
export function buildApertureApp(app: App): ApertureStack {
  const context = readContext(app);
  const stack = new ApertureStack(app, context.stackName, {
    description: 'Aperture: serverless image pipeline (uploads, dedup, variants, CDN)',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    importSourceBucketNames: context.importSources,
    pipeline: {
      allowedOrigins: context.allowedOrigins,
      jwt:
        context.jwtIssuer && context.jwtAudience
          ? { issuer: context.jwtIssuer, audience: context.jwtAudience }
          : undefined,
      removalPolicy: context.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  Aspects.of(app).add(new StateMachineDefinitionChecks());
  return stack;
}
