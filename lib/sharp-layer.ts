import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { sharpLayerBuildDir, sharpLayerDir } from './paths.js';

/**
 * sharp and libvips for Lambda arm64, from `layers/sharp/build` (built by `npm run build:layer`, which
 * `npm ci` runs as postinstall; the packed package ships it built, ADR 7). Synth never installs
 * anything: it packages what the build left.
 * A function using it marks `sharp` external in its bundle, so the native parts come only from here.
 */
export class SharpLayer extends LayerVersion {
  constructor(scope: Construct, id: string) {
    if (!existsSync(join(sharpLayerBuildDir, 'nodejs', 'node_modules', 'sharp', 'package.json'))) {
      throw new Error(
        `the sharp layer is not built (${sharpLayerBuildDir} is missing or incomplete): run \`node ${join(sharpLayerDir, 'build.mjs')}\``,
      );
    }
    super(scope, id, {
      code: Code.fromAsset(sharpLayerBuildDir, { exclude: ['.stamp'] }),
      compatibleArchitectures: [Architecture.ARM_64],
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      description: 'sharp (libvips) for Node.js 22 on linux-arm64',
    });
  }
}
