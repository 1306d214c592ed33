import { defineConfig } from 'vitest/config';
import { TWIN_CREDENTIALS, TWIN_REGION } from './local/twin/environment.js';

/**
 * Files outside test/unit that need no emulator: they run with the unit tests. Listed by name rather
 * than moved, so a file keeps its place beside the tests of the same subject.
 */
const PURE_ELSEWHERE = [
  'test/bulk/walk-and-checkpoint.test.ts',
  'test/local/enrichment/human-tagger.test.ts',
  'test/local/enrichment/layout-embedder.test.ts',
  'test/local/enrichment/sqlite-vector-index.test.ts',
  'test/local/enrichment/template-captioner.test.ts',
  'test/local/event-stream.test.ts',
  'test/local/local-jwt.test.ts',
  'test/local/page-origins.test.ts',
  'test/local/route-matcher.test.ts',
  'test/operations/cost-cli.test.ts',
];
const UNIT = ['test/unit/**/*.test.ts', ...PURE_ELSEWHERE];
/**
 * Every file of the shared real-world corpus through the render core: no emulator, but a minute and
 * more of encoding, so not in the seconds the unit tests take. Skipped where the corpus is absent.
 */
const CORPUS = ['test/unit/render/corpus.test.ts'];
const INFRA = ['test/infra/**/*.test.ts'];
const E2E = ['test/e2e/**/*.test.ts'];
const FAULTS = ['test/faults/**/*.test.ts'];
/** The local twin, started once for the project by the global setup. */
const TWIN_SETUP = ['test/support/global-setup.ts'];

export default defineConfig({
  test: {
    // Time limits here only catch a hang. CI's machine has two cores that another process may be
    // using, where a synth, a JVM start or a render takes many times its idle time, so no hook or
    // test is bounded by how long it takes on an idle machine.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Child processes rather than worker threads: sharp's native module is not safe to load in
    // several threads of one process.
    pool: 'forks',
    // No test may reach real AWS or pick up a developer's profile: every SDK client in the test
    // workers gets the twin's region and credentials unless a test says otherwise.
    env: {
      AWS_REGION: TWIN_REGION,
      AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
      // Handlers log and emit metrics through Powertools; tests assert on results, not on stdout.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // These machines run Node 20; the SDK's notice that it will need Node 22 from 2027 is known.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // One project per `npm run test:<name>`. The twin starts s3rver in the runner's own process,
    // which then needs the legacy OpenSSL provider: only the scripts of the twin's projects set it.
    // The fault suite (minutes of load with workers killed and DynamoDB restarted, on a pipeline of
    // its own) is defined only under APERTURE_FAULTS, so a bare `vitest run` never starts it:
    // `npm run test:faults`.
    projects: process.env.APERTURE_FAULTS
      ? [{ extends: true, test: { name: 'faults', include: FAULTS } }]
      : [
          // The unit tests mock nothing and change no global state, so their files share worker
          // processes: a fresh process per file, loading sharp and the SDK again, took longer than
          // the tests themselves (45 s instead of 23 s on a shared 2-core machine).
          { extends: true, test: { name: 'unit', include: UNIT, exclude: CORPUS, isolate: false } },
          { extends: true, test: { name: 'corpus', include: CORPUS } },
          { extends: true, test: { name: 'infra', include: INFRA } },
          {
            extends: true,
            test: {
              name: 'integration',
              include: ['test/**/*.test.ts'],
              exclude: [...UNIT, ...INFRA, ...E2E, ...FAULTS],
              globalSetup: TWIN_SETUP,
            },
          },
          // `npm start` brings up emulators of its own, under its own script's Node options.
          { extends: true, test: { name: 'e2e', include: E2E } },
        ],
  },
});
