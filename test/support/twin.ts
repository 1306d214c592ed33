import { inject } from 'vitest';
import { type TwinInfo, twinEnvironment } from '../../local/twin/index.js';

/** Where the run's twin listens and what it provisioned (started once by global-setup.ts). */
export function twinInfo(): TwinInfo {
  return inject('twin');
}

/** The environment a function gets against the twin; feed it to createAwsClients. */
export function twinEnv(): Record<string, string> {
  return twinEnvironment(twinInfo());
}
