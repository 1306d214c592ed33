/**
 * Peak RSS of one ingest (the real handler, against a running twin): the bench runs this in a fresh
 * process, so the figure is ingest's own and not the twin's. Prints one JSON line.
 *
 *   node --import tsx test/bench/ingest-rss.ts <twin info JSON> <settings JSON> <upload key> <size>
 */
import { parseSettings } from '../../lambdas/core/settings.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import type { TwinInfo } from '../../local/twin/index.js';
import { peakRssMb } from './stats.js';

const [infoJson, settingsJson, key, size] = process.argv.slice(2);
if (!infoJson || !settingsJson || !key || !size) {
  throw new Error('usage: ingest-rss.ts <twin info JSON> <settings JSON> <upload key> <size>');
}
const info = JSON.parse(infoJson) as TwinInfo;
const env = twinFunctionEnvironment(info, parseSettings(JSON.parse(settingsJson)), 'https://cdn.example');
// The jobs are counted, not sent: the figure is ingest's, not a queue client's.
let jobs = 0;
const handler = createIngestHandler({
  ...ingestDependenciesFromEnvironment(env),
  queue: {
    enqueue: async (queued) => {
      jobs += queued.length;
    },
  },
});

// Node, tsx, sharp, libvips and the SDK loaded: what the function holds before its first upload.
const beforeIngestRssMb = peakRssMb();
const [outcome] = await handler(
  objectCreatedEvent({ bucket: info.resources.uploadBucket, key, size: Number(size) }),
  lambdaContext('aperture-ingest'),
);
console.log(JSON.stringify({ beforeIngestRssMb, peakRssMb: peakRssMb(), outcome, jobs }));
