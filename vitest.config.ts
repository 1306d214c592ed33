import { defineConfig } from 'vitest/config';
import { TWIN_CREDENTIALS, TWIN_REGION } from './local/twin/environment.js';

export default defineConfig({
  test: {
    // The fault suite (minutes of load with workers killed and DynamoDB restarted) runs on its own:
    // `npm run test:faults`.
    include: process.env.APERTURE_FAULTS ? ['test/faults/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: process.env.APERTURE_FAULTS ? [] : ['test/faults/**'],
    globalSetup: ['test/support/global-setup.ts'],
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
  },
});
