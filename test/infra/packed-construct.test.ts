/**
 * The construct as another CDK app gets it (ADR 7): packed by `npm pack` (whose `prepack` builds the
 * package), installed from the tarball into a new app in a temp folder, type-checked and synthesised
 * there from the package name alone. The app's peers (and @types/node for its type check) are links
 * to this repository's own installs, so the install downloads nothing the npm cache already holds.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthPipeline } from './synth.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const packageName: string = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).name;
const requireFromRepo = createRequire(import.meta.url);
/** The real folder of one of this repository's installed packages. */
const installed = (name: string): string =>
  realpathSync(dirname(requireFromRepo.resolve(`${name}/package.json`)));

/** Packing bundles every handler and installing unpacks the sharp layer: minutes on a busy machine. */
const SETUP_TIMEOUT_MS = 900_000;

/**
 * Inside `npm test`, npm's own settings for this repository arrive as `npm_*` variables; the nested
 * npm runs get none of them, so each acts on its own folder only.
 */
const npmEnvironment = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
);
const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, {
    cwd,
    env: npmEnvironment,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });

const CONSUMER_APP = `import { App, Stack } from 'aws-cdk-lib';
import { ImagePipeline } from '${packageName}';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
const pipeline: ImagePipeline = new ImagePipeline(stack, 'Images');
console.log(pipeline.node.path);
app.synth();
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  },
  files: ['app.ts'],
};

interface AssetManifest {
  files: Record<string, { source: { path: string; packaging?: string } }>;
}

let workDir: string;
let tarballFiles: string[];
let appDir: string;
let installOutput: string;
let template: Template;
let assetManifest: AssetManifest;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'aperture-packed-'));
  run('npm', ['pack', '--pack-destination', workDir, '--loglevel=warn'], repoRoot);
  const [tarball, ...others] = readdirSync(workDir).filter((file) => file.endsWith('.tgz'));
  if (tarball === undefined || others.length > 0) throw new Error(`npm pack made ${readdirSync(workDir)}`);
  const tarballPath = join(workDir, tarball);
  tarballFiles = run('tar', ['-tzf', tarballPath], workDir)
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'));

  appDir = join(workDir, 'app');
  mkdirSync(appDir);
  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify({
      name: 'consumer-app',
      private: true,
      type: 'module',
      dependencies: { [packageName]: `file:${tarballPath}` },
      // npm 11 holds a dependency's install scripts back unless allowed (older npm runs them): allowed
      // here, the package's postinstall runs everywhere and must find the shipped layer current.
      allowScripts: { [`file:${tarballPath}`]: true },
    }),
  );
  // The peers are left to the links below, which npm would otherwise replace with downloads.
  installOutput = run(
    'npm',
    ['install', '--prefer-offline', '--legacy-peer-deps', '--foreground-scripts', '--no-audit', '--no-fund'],
    appDir,
  );
  for (const peer of ['aws-cdk-lib', 'constructs', '@types/node']) {
    mkdirSync(dirname(join(appDir, 'node_modules', peer)), { recursive: true });
    symlinkSync(installed(peer), join(appDir, 'node_modules', peer), 'dir');
  }

  writeFileSync(join(appDir, 'app.ts'), CONSUMER_APP);
  writeFileSync(join(appDir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
  run(process.execPath, [join(installed('typescript'), 'bin', 'tsc'), '-p', appDir], appDir);
  run(process.execPath, ['app.js'], appDir);

  const cdkOut = join(appDir, 'cdk.out');
  template = Template.fromJSON(JSON.parse(readFileSync(join(cdkOut, 'Consumer.template.json'), 'utf8')));
  assetManifest = JSON.parse(readFileSync(join(cdkOut, 'Consumer.assets.json'), 'utf8'));
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The folder a zip asset of the template was staged from, in the app's cloud assembly. */
function assetFolder(s3Key: unknown): string {
  expect(s3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
  const source = assetManifest.files[String(s3Key).replace(/\.zip$/, '')]?.source;
  expect(source?.packaging).toBe('zip');
  return join(appDir, 'cdk.out', source?.path ?? '');
}

/** The properties of every resource of one type, as the test reads them. */
const propertiesOf = <T>(template: Template, type: string): T[] =>
  Object.values(template.findResources(type)).map((resource) => resource.Properties as T);

interface FunctionProperties {
  Runtime: string;
  Architectures?: string[];
  Handler: string;
  MemorySize?: number;
  Timeout?: number;
  Code: { S3Key?: unknown };
}
interface LayerProperties {
  CompatibleArchitectures: string[];
  Content: { S3Key: unknown };
}
interface DistributionProperties {
  DistributionConfig: {
    Enabled: boolean;
    Origins: unknown[];
    OriginGroups?: { Items: { FailoverCriteria: unknown; Members: { Quantity: number } }[] };
  };
}
/** How the CDN falls back between its origins, without the ids, which follow the construct path. */
const failover = (distribution?: DistributionProperties) =>
  distribution?.DistributionConfig.OriginGroups?.Items.map((group) => ({
    criteria: group.FailoverCriteria,
    members: group.Members.Quantity,
  }));
const functionCodes = (template: Template) =>
  propertiesOf<{ FunctionCode: string }>(template, 'AWS::CloudFront::Function').map((fn) => fn.FunctionCode);

describe('the packed construct', () => {
  it('ships the compiled construct, the handler bundles and the built layer, and no sources', () => {
    const outside = tarballFiles.filter(
      (file) =>
        !/^package\/(dist\/|layers\/sharp\/(build\/|build\.mjs$|package(-lock)?\.json$)|LICENSE$|README\.md$|package\.json$)/.test(
          file,
        ),
    );
    expect(outside).toEqual([]);
    expect(tarballFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(tarballFiles).toEqual(
      expect.arrayContaining([
        'package/dist/lib/image-pipeline.js',
        'package/dist/lib/image-pipeline.d.ts',
        'package/layers/sharp/build/nodejs/node_modules/sharp/package.json',
        // Every handler, the enrichment worker's too, though the default settings leave it out.
        ...['api', 'ingest', 'render', 'on-demand', 'reprocess', 'enrich'].map(
          (handler) => `package/dist/functions/${handler}/index.mjs`,
        ),
      ]),
    );
  });

  it('installs without building anything: its postinstall finds the shipped sharp layer current', () => {
    expect(installOutput).toContain('sharp layer: up to date');
  });

  it('is what the app imports, from its own node_modules', () => {
    const resolved = run(
      process.execPath,
      ['--input-type=module', '-e', `console.log(import.meta.resolve('${packageName}'))`],
      appDir,
    ).trim();
    expect(resolved).toBe(
      pathToFileURL(join(appDir, 'node_modules', packageName, 'dist/lib/image-pipeline.js')).href,
    );
  });

  it('synthesises the same functions as the repository, each with its prebundled code', () => {
    const repository = synthPipeline().template;
    const shape = ({ Runtime, Architectures, Handler, MemorySize, Timeout }: FunctionProperties) => ({
      Runtime,
      Architectures,
      Handler,
      MemorySize,
      Timeout,
    });
    const byShape = (a: object, b: object) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    const consumerFunctions = propertiesOf<FunctionProperties>(template, 'AWS::Lambda::Function');
    expect(consumerFunctions.map(shape).sort(byShape)).toEqual(
      propertiesOf<FunctionProperties>(repository, 'AWS::Lambda::Function').map(shape).sort(byShape),
    );

    const apertureFunctions = consumerFunctions.filter((fn) => fn.Runtime === 'nodejs22.x');
    for (const fn of apertureFunctions) {
      expect(fn.Architectures).toEqual(['arm64']);
      const code = assetFolder(fn.Code.S3Key);
      expect(readFileSync(join(code, 'index.mjs'), 'utf8')).toMatch(/\bhandler\b/);
      expect(existsSync(join(code, 'index.mjs.map')), `${code}/index.mjs.map`).toBe(true);
    }
  });

  it('packages the sharp layer from the installed package', () => {
    const [layer, ...others] = propertiesOf<LayerProperties>(template, 'AWS::Lambda::LayerVersion');
    expect(others).toEqual([]);
    expect(layer?.CompatibleArchitectures).toEqual(['arm64']);
    const content = assetFolder(layer?.Content.S3Key);
    expect(existsSync(join(content, 'nodejs', 'node_modules', 'sharp', 'package.json'))).toBe(true);
    expect(
      existsSync(join(content, 'nodejs', 'node_modules', '@img', 'sharp-linux-arm64', 'package.json')),
    ).toBe(true);
  });

  it('puts the CDN in front, with the viewer-request function the repository deploys', () => {
    const repository = synthPipeline().template;
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    const [distribution] = propertiesOf<DistributionProperties>(template, 'AWS::CloudFront::Distribution');
    const [expected] = propertiesOf<DistributionProperties>(repository, 'AWS::CloudFront::Distribution');
    expect(distribution?.DistributionConfig.Enabled).toBe(true);
    expect(distribution?.DistributionConfig.Origins).toHaveLength(
      expected?.DistributionConfig.Origins.length ?? 0,
    );
    expect(failover(distribution)).toEqual(failover(expected));
    expect(failover(distribution)).toHaveLength(1);
    expect(functionCodes(template)).toEqual(functionCodes(repository));
    expect(functionCodes(template)).not.toEqual([]);
  });
});
