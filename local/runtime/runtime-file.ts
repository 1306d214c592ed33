import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSettings, type Settings } from '../../lambdas/core/settings.js';
import type { TwinInfo } from '../twin/index.js';

/**
 * `{dataDir}/runtime.json`: where a running `npm start` can be reached (the emulators' endpoints,
 * its resources, the settings its functions run with), for tools that work on it from outside,
 * such as `aperture --local`. Written once everything is up, removed when it stops.
 */
export interface LocalRuntimeFile extends TwinInfo {
  /** The `npm start` process, to tell a running runtime from a file a crash left behind. */
  pid: number;
  settings: Settings;
  cdnBaseUrl: string;
  /** The local API Gateway's base URL. */
  apiUrl: string;
}

const runtimeFile = (dataDir: string) => join(dataDir, 'runtime.json');

/** Writes the file for this process; returns the function that removes it, for the runtime's stop. */
export async function publishRuntimeFile(
  dataDir: string,
  twin: TwinInfo,
  settings: Settings,
  urls: { cdnBaseUrl: string; apiUrl: string },
): Promise<() => Promise<void>> {
  const runtime: LocalRuntimeFile = {
    pid: process.pid,
    region: twin.region,
    endpoints: twin.endpoints,
    resources: twin.resources,
    settings,
    ...urls,
  };
  await writeFile(runtimeFile(dataDir), `${JSON.stringify(runtime, null, 2)}\n`);
  return () => rm(runtimeFile(dataDir), { force: true });
}

/** The file in `dataDir`, or undefined when there is none. */
export async function readRuntimeFile(dataDir: string): Promise<LocalRuntimeFile | undefined> {
  let text: string;
  try {
    text = await readFile(runtimeFile(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const runtime = JSON.parse(text) as LocalRuntimeFile;
  return { ...runtime, settings: parseSettings(runtime.settings) };
}
