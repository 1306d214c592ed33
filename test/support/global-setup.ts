import type { TestProject } from 'vitest/node';
import { startTwin, type TwinInfo } from '../../local/twin/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    twin: TwinInfo;
  }
}

/** One twin for the whole run: the JVM behind DynamoDB Local costs seconds to start. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const twin = await startTwin();
  const { region, endpoints, resources } = twin;
  project.provide('twin', { region, endpoints, resources });
  return () => twin.stop();
}
