import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contract.js';
import {
  type FunctionEnvironment,
  functionEnvironmentVariables,
  readFunctionEnvironment,
} from '../../lambdas/core/environment.js';
import { parseSettings } from '../../lambdas/core/settings.js';

const config: FunctionEnvironment = {
  settings: parseSettings({ presignTtlSeconds: 120 }),
  uploadBucket: 'uploads-bucket',
  imageBucket: 'images-bucket',
  table: 'catalog',
  cdnBaseUrl: 'https://d111.cloudfront.net',
  queueUrls: {
    thumbnails: 'https://sqs.eu-west-1.amazonaws.com/123456789012/thumbnails',
    variants: 'https://sqs.eu-west-1.amazonaws.com/123456789012/variants',
  },
};

describe('function environment', () => {
  it('round-trips what the construct sets into what the handlers read', () => {
    expect(readFunctionEnvironment(functionEnvironmentVariables(config))).toEqual(config);
  });

  it('fits the 4 KB Lambda environment budget with the default variant set', () => {
    const size = Object.entries(functionEnvironmentVariables(config)).reduce(
      (n, [k, v]) => n + k.length + v.length,
      0,
    );
    expect(size).toBeLessThan(4096);
  });

  it('names every missing or invalid variable', () => {
    const env = { ...functionEnvironmentVariables(config), [ENV.settings]: '{"maxUploadBytes":-1}' };
    delete (env as Record<string, string | undefined>)[ENV.table];
    expect(() => readFunctionEnvironment(env)).toThrow(
      /APERTURE_SETTINGS: invalid Aperture settings: maxUploadBytes/,
    );
    expect(() => readFunctionEnvironment(env)).toThrow(/APERTURE_TABLE/);
  });

  it('refuses settings that are not JSON', () => {
    const env = { ...functionEnvironmentVariables(config), [ENV.settings]: 'not json' };
    expect(() => readFunctionEnvironment(env)).toThrow(/APERTURE_SETTINGS/);
  });
});
