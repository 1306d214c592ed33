import { createHash, randomBytes } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lambdas/adapters/aws/clients.js';
import { DynamoCatalog } from '../../lambdas/adapters/aws/dynamo-catalog.js';
import { derivativeKey, derivativesPrefix } from '../../lambdas/core/keys.js';
import type { RenderJob } from '../../lambdas/core/render-jobs.js';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS, type VariantSpec } from '../../lambdas/core/variants.js';
import { createIngestHandler, ingestDependenciesFromEnvironment } from '../../lambdas/handlers/ingest.js';
import { onDemandDependenciesFromEnvironment } from '../../lambdas/handlers/on-demand.js';
import { createRenderHandler, renderDependenciesFromEnvironment } from '../../lambdas/handlers/render.js';
import type { WorkQueue } from '../../lambdas/ports/work-queue.js';
import { renderOnDemand } from '../../lambdas/services/render-on-demand.js';
import { lambdaContext } from '../../local/events/lambda-context.js';
import { objectCreatedEvent } from '../../local/events/s3-event.js';
import { sqsEvent } from '../../local/events/sqs-event.js';
import { twinFunctionEnvironment } from '../../local/twin/environment.js';
import { makeImage } from '../support/images.js';
import { firstSeed } from '../support/isolation.js';
import { twinEnv, twinInfo } from '../support/twin.js';
import { seedUpload } from '../support/uploads.js';

const info = twinInfo();
const clients = createAwsClients(twinEnv());
const catalog = new DynamoCatalog(clients.dynamo, info.resources.table);
const env = twinFunctionEnvironment(info, parseSettings(), 'https://cdn.example');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
let seed = firstSeed();

/** A variant added to the spec after the image was rendered. */
const square: VariantSpec = {
  name: 'square',
  fit: 'cover',
  width: 200,
  height: 200,
  formats: [
    { format: 'webp', quality: 80 },
    { format: 'jpeg', quality: 80 },
  ],
};
const extended = parseSettings({ variants: [...DEFAULT_VARIANTS, square] });

/** The renderer as deployed with `settings`, on the twin. */
const onDemand = (settings = extended) =>
  onDemandDependenciesFromEnvironment(twinFunctionEnvironment(info, settings, 'https://cdn.example'));

/** An image ingested and rendered with the default variants, as the pipeline would. */
async function renderedImage(): Promise<{ imageId: string; owner: string }> {
  const bytes = await makeImage('jpeg', { width: 1200, height: 800, seed: seed++ });
  const jobs: RenderJob[] = [];
  const queue: WorkQueue = { enqueue: async (queued) => void jobs.push(...queued) };
  const ingest = createIngestHandler({ ...ingestDependenciesFromEnvironment(env), queue });
  const owner = `on-demand-${randomBytes(3).toString('hex')}`;
  const sent = await seedUpload(
    { catalog, s3: clients.s3, uploadBucket: info.resources.uploadBucket },
    bytes,
    { owner },
  );
  await ingest(
    objectCreatedEvent({ bucket: info.resources.uploadBucket, ...sent }),
    lambdaContext('aperture-ingest'),
  );
  const render = createRenderHandler(renderDependenciesFromEnvironment(env));
  const messages = jobs.map((job, i) => ({
    MessageId: `m${i}`,
    ReceiptHandle: `r${i}`,
    Body: JSON.stringify(job),
  }));
  await render(
    sqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:render'),
    lambdaContext('aperture-render'),
  );
  return { imageId: sha256(bytes), owner };
}

async function storedKeys(imageId: string): Promise<string[]> {
  const { Contents = [] } = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: info.resources.imageBucket, Prefix: derivativesPrefix(imageId) }),
  );
  return Contents.map((object) => object.Key ?? '').sort();
}

describe('rendering a missing variant on demand', () => {
  it('renders it once under 10 concurrent requests, stores every format and serves them all the same bytes', async () => {
    const { imageId } = await renderedImage();
    const before = await storedKeys(imageId);
    const key = derivativeKey(imageId, square, 'webp');
    expect(before).not.toContain(key);

    const outcomes = await Promise.all(Array.from({ length: 10 }, () => renderOnDemand(onDemand(), key)));
    expect(outcomes.filter((o) => o.outcome === 'rendered')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'waited')).toHaveLength(9);
    const bodies = new Set(outcomes.map((o) => ('bytes' in o ? sha256(o.bytes) : '')));
    expect(bodies.size).toBe(1);

    const after = await storedKeys(imageId);
    expect(after.filter((k) => !before.includes(k)).sort()).toEqual(
      [derivativeKey(imageId, square, 'jpeg'), key].sort(),
    );
    // Served from S3 from now on: asking again renders nothing.
    expect((await renderOnDemand(onDemand(), key)).outcome).toBe('waited');
  });

  it('renders nothing for a key outside the configured spec, an unknown image or a deleted one', async () => {
    const { imageId, owner } = await renderedImage();
    const madeUp: VariantSpec = { ...square, width: 4000, height: 4000 };
    const unknown = randomBytes(32).toString('hex');
    const cases = [
      derivativeKey(imageId, square, 'webp'), // not in the default spec
      derivativeKey(imageId, madeUp, 'webp'), // a size nobody configured
      derivativeKey(imageId, square, 'webp').replace('.webp', '.avif'), // a format the variant lacks
      derivativeKey(unknown, square, 'webp'),
      `derived/${imageId.slice(0, 2)}/${imageId.slice(2, 4)}/${imageId}/../../originals`,
    ];
    const settingsFor = (key: string) => (key === cases[0] ? parseSettings() : extended);
    for (const key of cases) {
      expect((await renderOnDemand(onDemand(settingsFor(key)), key)).outcome, key).toBe('not_found');
    }
    expect(await catalog.unlinkImage(owner, imageId, new Date())).toBe('last_link');
    expect((await renderOnDemand(onDemand(), derivativeKey(imageId, square, 'webp'))).outcome).toBe(
      'not_found',
    );
    expect((await storedKeys(imageId)).filter((key) => key.includes('/square-'))).toEqual([]);
  });
});
