import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PipelineApi } from '../../cli/bulk/pipeline-api.js';
import { bearerAuth } from '../../cli/bulk/request-auth.js';
import {
  AccessDeniedError,
  type OutgoingImage,
  resumeSend,
  type SendPolicy,
  sendImage,
} from '../../cli/bulk/send-image.js';
import type { UploadGrantView } from '../../lambdas/ports/upload-signer.js';
import { LocalJwt } from '../../local/api/local-jwt.js';
import { bulkWorldForFile } from '../support/bulk.js';
import { makeImage } from '../support/images.js';

// Grants live 10 s here (the shortest the settings allow), so a test can outlast one.
const world = bulkWorldForFile({ presignTtlSeconds: 10 });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const policy: SendPolicy = {
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200, sleep },
  settleTimeoutMs: 30_000,
  expiryGraceMs: 0,
  now: Date.now,
  sleep,
};

async function apiFor(owner: string): Promise<PipelineApi> {
  const jwt = await LocalJwt.inDataDir(world().dataDir);
  return new PipelineApi(world().pipeline.apiUrl, bearerAuth(jwt.issue(owner)));
}

async function outgoing(seed: number, bytes?: Buffer): Promise<OutgoingImage> {
  const image = bytes ?? (await makeImage('png', { seed }));
  return {
    bytes: image,
    sha256: createHash('sha256').update(image).digest('hex'),
    size: image.length,
    contentType: 'image/png',
    filename: `seed-${seed}.png`,
  };
}

/** A journal that remembers what it heard. */
function journal() {
  const heard: string[] = [];
  return {
    heard,
    granted: (grant: UploadGrantView) => heard.push(`granted ${grant.uploadId}`),
    sent: (uploadId: string) => heard.push(`sent ${uploadId}`),
  };
}

describe('sending one image, and finishing a send an earlier run began', () => {
  it('journals the grant before the bytes go and the send before ingest decides', async () => {
    const api = await apiFor('gil');
    const image = await outgoing(5001);
    const heard = journal();
    const outcome = await sendImage(api, image, heard, policy);
    expect(outcome).toEqual({ kind: 'new', imageId: image.sha256, uploadId: expect.any(String) });
    const uploadId = (outcome as { uploadId: string }).uploadId;
    expect(heard.heard).toEqual([`granted ${uploadId}`, `sent ${uploadId}`]);

    expect(await sendImage(api, image, journal(), policy)).toEqual({
      kind: 'duplicate',
      imageId: image.sha256,
    });
  });

  it('sends the bytes of a grant that never got them to that same grant, not a new one', async () => {
    const api = await apiFor('hal');
    const image = await outgoing(5002);
    const { bytes: _bytes, ...request } = image;
    const answer = await api.requestUpload(request);
    if (answer.duplicate) throw new Error('fresh bytes cannot be a duplicate');
    // The earlier run was killed right after the grant was journalled.
    const heard = journal();
    const outcome = await resumeSend(api, { grant: answer.grant, sent: false }, image, heard, policy);
    expect(outcome).toEqual({ kind: 'new', imageId: image.sha256, uploadId: answer.grant.uploadId });
    expect(heard.heard).toEqual([`sent ${answer.grant.uploadId}`]);
    expect(await world().uploadsOf('hal')).toHaveLength(1);
  });

  it('takes the outcome of an upload that landed before the run could journal it, sending nothing', async () => {
    const api = await apiFor('ida');
    const image = await outgoing(5003);
    const first = journal();
    const outcome = await sendImage(api, image, first, policy);
    const grantedId = first.heard[0]?.split(' ')[1];
    const grant = { uploadId: String(grantedId) } as UploadGrantView;
    const heard = journal();
    expect(await resumeSend(api, { grant, sent: false }, image, heard, policy)).toEqual(outcome);
    expect(heard.heard).toEqual([]);
  });

  it('asks for a new grant only once an unsent one has expired and nothing arrived under it', async () => {
    const api = await apiFor('jo');
    const image = await outgoing(5004);
    const { bytes: _bytes, ...request } = image;
    const answer = await api.requestUpload(request);
    if (answer.duplicate) throw new Error('fresh bytes cannot be a duplicate');
    await sleep(Date.parse(answer.grant.expiresAt) - Date.now() + 200);

    const heard = journal();
    const outcome = await resumeSend(api, { grant: answer.grant, sent: false }, image, heard, policy);
    expect(outcome).toMatchObject({ kind: 'new', imageId: image.sha256 });
    expect((outcome as { uploadId: string }).uploadId).not.toBe(answer.grant.uploadId);
    expect(heard.heard).toHaveLength(2);
    const uploads = await world().uploadsOf('jo');
    expect(uploads.map((upload) => upload.state).sort()).toEqual(['accepted', 'pending']);
  });

  it('reports bytes ingest refused as rejected, and stops at once when the API refuses the caller', async () => {
    const api = await apiFor('kim');
    const png = await outgoing(5005);
    // Declared a PNG, and S3 takes the bytes, but they start as a GIF does.
    const lie = await outgoing(5005, Buffer.from('GIF89a, or so it says'));
    expect(await sendImage(api, { ...lie, contentType: 'image/png' }, journal(), policy)).toMatchObject({
      kind: 'rejected',
      reason: 'content_type_mismatch',
    });
    expect(await sendImage(api, { ...png, size: 10 ** 12 }, journal(), policy)).toMatchObject({
      kind: 'rejected',
      reason: 'too_large',
    });

    const stranger = new PipelineApi(world().pipeline.apiUrl, bearerAuth('not-a-token'));
    await expect(sendImage(stranger, png, journal(), policy)).rejects.toBeInstanceOf(AccessDeniedError);
  });
});
