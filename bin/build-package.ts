#!/usr/bin/env node
/**
 * Builds what `npm pack` ships (ADR 7) into `dist/`: the construct compiled to JavaScript with its
 * types, the files its modules read at synth, and every handler prebundled. The bundles come from
 * synthesising the pipeline from its sources, so they are made by the very bundling `cdk synth` uses.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { ApertureFunction } from '../lib/aperture-function.js';
import { ImagePipeline } from '../lib/image-pipeline.js';
import { handlerBundleDir, packageBuildDir, packageRoot } from '../lib/paths.js';

/** Read by a compiled module at synth rather than imported, so tsc would leave them behind. */
const FILES_READ_AT_SYNTH = ['lambdas/edge/viewer-request.js'];

rmSync(packageBuildDir, { recursive: true, force: true });
compile();
for (const file of FILES_READ_AT_SYNTH) cpSync(join(packageRoot, file), join(packageBuildDir, file));
bundleHandlers();

function compile(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(packageRoot, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (run.status !== 0)
    throw new Error(`tsc -p tsconfig.build.json failed (exit ${run.status ?? run.signal})`);
}

function bundleHandlers(): void {
  const outdir = mkdtempSync(join(tmpdir(), 'aperture-bundles-'));
  try {
    // The deploy's feature flags, so the bundles are exactly what `cdk synth` would make.
    const context = JSON.parse(readFileSync(join(packageRoot, 'cdk.json'), 'utf8')).context;
    const stack = new Stack(new App({ outdir, context }), 'Bundles');
    // Enrichment on and an import source named, so that their functions are bundled too: a bundle
    // depends on neither the settings nor the source.
    new ImagePipeline(stack, 'Pipeline', {
      settings: { enrichment: { enabled: true } },
      importSources: [Bucket.fromBucketName(stack, 'ImportSource', 'any-library')],
    });

    const bundles = new Map<string, string>();
    for (const construct of stack.node.findAll()) {
      if (!(construct instanceof ApertureFunction)) continue;
      const asset = construct.function.node.findChild('Code') as Asset;
      const bundle = resolve(outdir, asset.assetPath);
      const other = bundles.get(construct.handlerFile);
      if (other !== undefined && other !== bundle) {
        throw new Error(
          `${construct.handlerFile} is bundled two ways; one prebundled copy cannot serve both`,
        );
      }
      bundles.set(construct.handlerFile, bundle);
    }
    for (const [handlerFile, bundle] of bundles) {
      cpSync(bundle, handlerBundleDir(handlerFile), { recursive: true });
    }
    console.log(`prebundled ${[...bundles.keys()].join(', ')} into ${packageBuildDir}`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
