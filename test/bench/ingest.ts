import { createHash } from 'node:crypto';
import { assessUpload } from '../../lambdas/core/assess-upload.js';
import { readHashed } from '../../lambdas/core/hashing.js';
import type { Settings } from '../../lambdas/core/settings.js';
import type { BenchImage } from './images.js';
import { interleave, MB, perMb, ratio, type Summary, summarise } from './stats.js';

/** One contender's times: ms/MB from CPU time, which other tenants of the machine hardly move. */
export interface Measured {
  wall: Summary;
  cpu: Summary;
  cpuMsPerMb: Summary;
}

/** The part size S3's GetObject body arrives in, roughly; the ingest reads it as an async iterable. */
const CHUNK_BYTES = 64 * 1024;

async function* chunksOf(bytes: Buffer): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    // A copy, as every chunk of a network stream is its own buffer.
    yield new Uint8Array(bytes.subarray(offset, offset + CHUNK_BYTES));
  }
}

export interface IngestResult {
  image: string;
  source: BenchImage['source'];
  megapixels: number;
  mb: number;
  rawSha256: Measured;
  ingest: Measured;
  /** Median ingest CPU time over median raw hashing CPU time. */
  ratio: number;
}

/** What ingest spends on an upload (stream + hash, sniff, probe, trial decode) against hashing alone. */
export async function benchIngest(
  image: BenchImage,
  settings: Settings,
  iterations: number,
): Promise<IngestResult> {
  const { bytes } = image;
  const declared = { contentType: 'image/jpeg', sha256: undefined };
  const samples = await interleave(iterations, {
    raw: async () => createHash('sha256').update(bytes).digest('hex'),
    ingest: async () => {
      const hashed = await readHashed(chunksOf(bytes), settings.maxUploadBytes);
      const assessment = await assessUpload(hashed.bytes, hashed.sha256, declared, settings);
      if (!assessment.accepted) {
        throw new Error(`${image.name} was rejected: ${assessment.rejection.message}`);
      }
    },
  });
  const measured = (name: keyof typeof samples.cpu): Measured => {
    const cpu = summarise(samples.cpu[name]);
    return { wall: summarise(samples.wall[name]), cpu, cpuMsPerMb: perMb(cpu, bytes.length) };
  };
  const rawSha256 = measured('raw');
  const ingest = measured('ingest');
  return {
    image: image.name,
    source: image.source,
    megapixels: Number(((image.width * image.height) / 1e6).toFixed(1)),
    mb: Number((bytes.length / MB).toFixed(2)),
    rawSha256,
    ingest,
    ratio: ratio(ingest.cpu.medianMs, rawSha256.cpu.medianMs),
  };
}
