import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApertureApp } from '../../lib/aperture-app.js';
import { ApertureStack } from '../../lib/aperture-stack.js';
import { ImagePipeline } from '../../lib/image-pipeline.js';
import { newApp } from './synth.js';
import { webhookStack } from './webhook-stack.js';

interface Finding {
  rule: string;
  path: string;
}

/**
 * Synthesises as `cdk synth` does, cdk-nag running as a validation plugin, and returns what the
 * validation report holds beyond warnings CDK itself raises: every cdk-nag finding left unacknowledged.
 * A finding also makes the synth itself fail, which is checked here too.
 */
function nagFindings(app: App): Finding[] {
  let synthError: unknown;
  try {
    app.synth();
  } catch (error) {
    synthError = error;
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  const findings = report.pluginReports
    .filter((plugin) => plugin.pluginName === new AwsSolutionsChecks().name)
    .flatMap((plugin) =>
      plugin.violations.flatMap((v) =>
        v.violatingConstructs.map((c) => ({ rule: v.ruleName, path: c.constructPath })),
      ),
    );
  expect(synthError !== undefined, `synth failed: ${String(synthError)}`).toBe(findings.length > 0);
  return findings;
}

describe('cdk-nag AwsSolutions', () => {
  it('leaves no finding unacknowledged in the app as deployed', () => {
    const app = newApp();
    buildApertureApp(app);
    expect(nagFindings(app)).toEqual([]);
  });

  it('leaves none with import source buckets named in the context: the import state machine, its functions and buckets', () => {
    const app = newApp({ importSources: 'photo-library,old-archive' });
    const stack = buildApertureApp(app);
    expect(nagFindings(app)).toEqual([]);
    // The clean report is about a stack that has the import machinery, allowed both buckets.
    const template = Template.fromStack(stack);
    // Import's and reconcile's.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    for (const bucket of ['photo-library', 'old-archive']) expect(policies).toContain(`:s3:::${bucket}/*`);
  });

  it('leaves none either with a JWT issuer, a web ACL and tracing', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const issuer = 'https://issuer.example.com/';
    const webAclId = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/aperture/00000000';
    const stack = new ApertureStack(app, 'Configured', {
      pipeline: { jwt: { issuer, audience: ['aperture-app'] }, webAclId, tracing: Tracing.ACTIVE },
      importSourceBucketNames: ['photo-library'],
    });
    expect(nagFindings(app)).toEqual([]);
    // The clean report is about a stack that has all three.
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: issuer } });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { WebACLId: webAclId },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
    });
  });

  it('leaves none with every enrichment model on, the one wildcard (Rekognition) acknowledged with its reason', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new ApertureStack(app, 'Enriched', {
      pipeline: {
        settings: {
          enrichment: {
            enabled: true,
            moderation: { enabled: true, minConfidence: 0.8, holdFlagged: false },
          },
        },
      },
    });
    expect(nagFindings(app)).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::S3Vectors::Index', 1);
  });

  it('leaves none with a custom domain, which enforces TLS 1.2 instead of acknowledging it', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new ApertureStack(app, 'WithDomain', {
      pipeline: {
        domain: {
          names: ['images.example.com'],
          certificate: Certificate.fromCertificateArn(
            app,
            'Certificate',
            'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
          ),
        },
      },
    });
    expect(nagFindings(app)).toEqual([]);
  });

  it('leaves none with buckets brought along, which the stack then does not subscribe to', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'OwnBuckets');
    new ImagePipeline(stack, 'Pipeline', {
      uploadBucket: Bucket.fromBucketName(stack, 'Uploads', 'my-uploads'),
      imageBucket: Bucket.fromBucketName(stack, 'Images', 'my-images'),
    });
    expect(nagFindings(app)).toEqual([]);
  });

  it('leaves none in the webhooks construct: its queues, rule, functions and their grants', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    webhookStack(app);
    expect(nagFindings(app)).toEqual([]);
  });

  it('fails the synth as soon as an insecure resource joins the stack', () => {
    const app = newApp();
    const stack = buildApertureApp(app);
    new Queue(stack.pipeline, 'Unprotected');
    expect(nagFindings(app).map((f) => f.rule)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });
});
