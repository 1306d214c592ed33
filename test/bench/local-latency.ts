import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { ApiClient } from '../support/api-client.js';
import { photoLikeJpeg } from './images.js';
import { type Summary, summarise } from './stats.js';

export interface LatencyResult {
  images: number;
  width: number;
  height: number;
  /** Uploads sent at once, as a handful of users would. */
  uploaders: number;
  workersPerLane: number;
  /** From the end of the S3 upload to the `thumb` variant ready in the catalog, wall ms. */
  toFirstThumbnail: Summary;
  /** From the end of the S3 upload to the image `ready`, wall ms. */
  toReady: Summary;
  /** First upload sent to last image ready, wall s. */
  totalSeconds: number;
}

const POLL_MS = 50;

/**
 * Sends one photo as an app does (presigned POST) and times it from the moment S3 answered: until
 * the API reports its `thumb` variant ready, and then (unless `thumbnailOnly`) the whole image.
 */
export async function timeUpload(
  client: ApiClient,
  photo: Buffer,
  options: { thumbnailOnly?: boolean; pollMs?: number } = {},
): Promise<{ toThumbnail: number; toReady?: number }> {
  const answer = await client.upload(photo, {
    contentType: 'image/jpeg',
    filename: 'photo.jpg',
    method: 'POST',
  });
  if (answer.status !== 201 || (answer.s3Status ?? 500) >= 300)
    throw new Error(`upload refused: ${answer.status}`);
  const uploaded = performance.now();
  const imageId = createHash('sha256').update(photo).digest('hex');
  let thumbnailAt: number | undefined;
  for (;;) {
    const { status, body } = await client.call('GET', `/v1/images/${imageId}`);
    const variants = (body.variants ?? []) as Array<{ name: string; status: string }>;
    if (
      status === 200 &&
      thumbnailAt === undefined &&
      variants.some((v) => v.name === 'thumb' && v.status === 'ready')
    ) {
      thumbnailAt = performance.now();
      if (options.thumbnailOnly) return { toThumbnail: thumbnailAt - uploaded };
    }
    if (body.status === 'ready' || body.status === 'failed') {
      if (body.status === 'failed') throw new Error(`image failed: ${JSON.stringify(body)}`);
      return {
        toThumbnail: (thumbnailAt ?? performance.now()) - uploaded,
        toReady: performance.now() - uploaded,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? POLL_MS));
  }
}

/**
 * Upload-to-thumbnail and upload-to-ready on the local runtime (`npm start` in process, its own
 * emulators and data dir): photo-like JPEGs sent by a few uploaders at once through the presigned
 * POST, each timed from the moment S3 answered the upload until the API reports the thumbnail, then
 * the whole image, ready.
 */
export async function benchLocalLatency(options: {
  images: number;
  width: number;
  height: number;
  uploaders: number;
}): Promise<LatencyResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aperture-latency-'));
  const pipeline = await startLocalPipeline({ dataDir, apiPort: 0, cdnPort: 0 });
  try {
    const client = await ApiClient.forOwner(pipeline.apiUrl, 'latency-bench');
    const photos = await Promise.all(
      Array.from({ length: options.images }, (_, i) =>
        photoLikeJpeg(options.width, options.height, 1000 + i),
      ),
    );
    const toThumbnail: number[] = [];
    const toReady: number[] = [];
    const started = performance.now();
    let next = 0;
    const uploader = async () => {
      for (let photo = photos[next++]; photo; photo = photos[next++]) {
        const timed = await timeUpload(client, photo);
        toThumbnail.push(timed.toThumbnail);
        if (timed.toReady !== undefined) toReady.push(timed.toReady);
      }
    };
    await Promise.all(Array.from({ length: options.uploaders }, uploader));
    return {
      ...options,
      workersPerLane: availableParallelism(),
      toFirstThumbnail: summarise(toThumbnail),
      toReady: summarise(toReady),
      totalSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await pipeline.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
