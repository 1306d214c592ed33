import { stat } from 'node:fs/promises';
import type { LocalApi } from '../../cli/api-target.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { LocalJwt } from '../api/local-jwt.js';
import { twinImportEnvironment } from '../twin/environment.js';
import { startTwin } from '../twin/index.js';
import { readRuntimeFile } from './runtime-file.js';

/** The local runtime's resources, as a tool outside it reaches them. */
export interface LocalTarget {
  /** What its functions get: the emulators' endpoints and credentials, and the function environment. */
  env: Record<string, string>;
  /**
   * Whether `npm start` is running on the data dir. When it is not, the emulators were started on
   * its data just for this, and their queues (in memory) are thrown away with them.
   */
  running: boolean;
  /** Stops emulators started just for this; nothing when the runtime is running. */
  close(): Promise<void>;
}

/** The data dir holds no local runtime: `npm start` never ran there. */
export class LocalRuntimeNotFoundError extends Error {
  override readonly name = 'LocalRuntimeNotFoundError';
}

/** The CDN address `npm start` uses by default, for an environment that must name one. */
const DEFAULT_CDN_BASE_URL = 'http://127.0.0.1:3001';

/**
 * Reaches the local runtime whose data is in `dataDir`: the running one through the endpoints it
 * published, or, when none runs, its persisted catalog and buckets on emulators started here.
 */
export async function openLocalTarget(dataDir: string): Promise<LocalTarget> {
  const runtime = await readRuntimeFile(dataDir);
  if (runtime && isRunning(runtime.pid)) {
    return {
      env: twinImportEnvironment(runtime, runtime.settings, runtime.cdnBaseUrl),
      running: true,
      close: async () => {},
    };
  }
  const found = await stat(dataDir).then(
    (entry) => entry.isDirectory(),
    () => false,
  );
  if (!found) throw new LocalRuntimeNotFoundError(`no local runtime data in ${dataDir}: run npm start first`);
  const twin = await startTwin({ dataDir });
  return {
    env: twinImportEnvironment(
      twin,
      runtime?.settings ?? parseSettings(),
      runtime?.cdnBaseUrl ?? DEFAULT_CDN_BASE_URL,
    ),
    running: false,
    close: () => twin.stop(),
  };
}

/** The running local runtime's API, with tokens signed by its key, for clients such as `aperture ingest --local`. */
export async function openLocalApi(dataDir: string): Promise<LocalApi> {
  const runtime = await readRuntimeFile(dataDir);
  if (!runtime || !isRunning(runtime.pid)) {
    throw new LocalRuntimeNotFoundError(`no local runtime is running on ${dataDir}: start it (npm start)`);
  }
  const jwt = await LocalJwt.inDataDir(dataDir);
  return { apiUrl: runtime.apiUrl, token: async (owner) => jwt.issue(owner) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
