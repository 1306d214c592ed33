import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { startLocalPipeline } from '../../local/runtime/local-pipeline.js';
import { photoLikeJpeg } from './images.js';
import { MB } from './stats.js';

export interface MigrateRun {
  documentMb: number;
  dataUris: number;
  wallSeconds: number;
  /** Document bytes read per second over both passes' wall time (uploads and renders included). */
  mbPerSecond: number;
  /** The CLI process's peak resident set (VmHWM), MB. */
  peakRssMb: number;
  bytesAfterMb: number;
}

export interface MigrateLargeResult {
  distinctImages: number;
  /** The one big data URI's length, MB: a single string the rewriter must hold. */
  largestDataUriMb: number;
  small: MigrateRun;
  large: MigrateRun;
}

const REPOSITORY = resolve(import.meta.dirname, '../..');
const FILLER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(36);

/**
 * `aperture migrate-json` on a large document against the same on a small one, side by side: the
 * CLI's peak memory must follow the largest string, not the document. Both hold the same images
 * (photo-like JPEGs repeated many times, and one big noise PNG); the large one has far more records.
 */
export async function benchMigrateLarge(options: {
  largeMb: number;
  images: number;
  log: (line: string) => void;
}): Promise<MigrateLargeResult> {
  // The runtime runs in this process: its handlers' info lines would bury the tables.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const dir = await mkdtemp(join(tmpdir(), 'aperture-migrate-bench-'));
  const pipeline = await startLocalPipeline({ dataDir: join(dir, 'data'), apiPort: 0, cdnPort: 0 });
  try {
    const photos = await Promise.all(
      Array.from({ length: options.images }, (_, i) => photoLikeJpeg(320, 240, 5000 + i)),
    );
    const noise = await sharp(randomPixels(1400, 1400), { raw: { width: 1400, height: 1400, channels: 3 } })
      .png({ compressionLevel: 1 })
      .toBuffer();
    const uris = photos.map((photo) => `data:image/jpeg;base64,${photo.toString('base64')}`);
    const big = `data:image/png;base64,${noise.toString('base64')}`;

    const run = async (name: string, targetMb: number): Promise<MigrateRun> => {
      const file = join(dir, `${name}.json`);
      const dataUris = await writeDocument(file, targetMb, uris, big);
      const documentMb = (await stat(file)).size / MB;
      options.log(`migrate-json ${name}: ${documentMb.toFixed(1)} MB, ${dataUris} data URIs`);
      const { wallSeconds, peakRssMb, stdout } = await runCli(
        ['migrate-json', file, '--local', '--variant', 'small', '--json'],
        {
          APERTURE_DATA_DIR: join(dir, 'data'),
        },
      );
      const report = JSON.parse(stdout) as { migrated: number; bytesAfter: number };
      if (report.migrated !== dataUris)
        throw new Error(`${name}: migrated ${report.migrated} of ${dataUris}`);
      return {
        documentMb: round(documentMb),
        dataUris,
        wallSeconds: round(wallSeconds),
        mbPerSecond: round(documentMb / wallSeconds),
        peakRssMb: round(peakRssMb),
        bytesAfterMb: round(report.bytesAfter / MB),
      };
    };
    // The small document first: it sends and renders every image, so the large run measures the
    // streaming passes, with each image a duplicate the API answers at once.
    const small = await run('small', 1 + big.length / MB);
    const large = await run('large', options.largeMb);
    return { distinctImages: photos.length + 1, largestDataUriMb: round(big.length / MB), small, large };
  } finally {
    await pipeline.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Records of text with a photo every fifth one, and the big image once, until the file is `targetMb`. */
async function writeDocument(
  file: string,
  targetMb: number,
  uris: readonly string[],
  big: string,
): Promise<number> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  let written = 0;
  let dataUris = 1;
  await write(`{"title":"bench","cover":"${big}","records":[`);
  written += big.length;
  for (let i = 0; written < targetMb * MB; i++) {
    const photo = i % 5 === 0 ? uris[(i / 5) % uris.length] : undefined;
    if (photo) dataUris += 1;
    const record = JSON.stringify({ id: i, text: FILLER, tags: ['a', 'b', i], photo: photo ?? null });
    await write(`${i === 0 ? '' : ','}${record}`);
    written += record.length + 1;
  }
  await write(']}');
  out.end();
  await once(out, 'finish');
  return dataUris;
}

/** Runs the CLI as its own process, sampling its peak resident set (VmHWM only grows) until it exits. */
async function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ wallSeconds: number; peakRssMb: number; stdout: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/aperture-cli.ts', ...args], {
    cwd: REPOSITORY,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  let peakKb = 0;
  const sampler = setInterval(async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peakKb = Math.max(peakKb, kb);
  }, 20);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(sampler);
  if (code !== 0) throw new Error(`aperture ${args.join(' ')} exited ${code}: ${stdout}`);
  return { wallSeconds: (performance.now() - started) / 1000, peakRssMb: (peakKb * 1024) / MB, stdout };
}

function randomPixels(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = 0x9e3779b9;
  for (let i = 0; i < pixels.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    pixels[i] = state & 0xff;
  }
  return pixels;
}

const round = (value: number) => Math.round(value * 10) / 10;
