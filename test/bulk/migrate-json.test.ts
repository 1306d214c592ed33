import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MigrateReport } from '../../cli/bulk/migrate-json.js';
import { bulkWorldForFile } from '../support/bulk.js';
import { makeImage } from '../support/images.js';

const world = bulkWorldForFile();

const dataUri = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;

/** A gallery as apps store them: images inline, one of them twice, one broken, one not an image. */
async function writeGallery(dir: string, seed: number) {
  const photo = dataUri('image/png', await makeImage('png', { seed, width: 96, height: 64 }));
  const thumb = dataUri('image/jpeg', await makeImage('jpeg', { seed: seed + 1, width: 40, height: 40 }));
  const cover = dataUri('image/webp', await makeImage('webp', { seed: seed + 2, width: 120, height: 80 }));
  const gallery = {
    title: 'Summer ☀️',
    cover,
    items: [
      { id: 1, photo, thumb },
      { id: 2, photo, note: 'the same photo again' },
      { id: 3, photo: 'data:image/png;base64,iVBORw0KGgo!!!not base64' },
      { id: 4, photo: 'https://example.com/elsewhere.jpg' },
      { id: 5, caption: 'data:text/plain;base64,aGVsbG8=' },
    ],
  };
  // JSON encoders may escape slashes; base64 is full of them.
  const text = JSON.stringify(gallery, null, 2).replace(
    cover.slice(0, 40),
    cover.slice(0, 40).replaceAll('/', '\\/'),
  );
  const file = join(dir, 'gallery.json');
  await writeFile(file, text);
  return { file, gallery, text };
}

async function migrate(
  args: readonly string[],
): Promise<{ status: number; report: MigrateReport; stderr: string }> {
  const run = await world().aperture(['migrate-json', ...args, '--local', '--json']);
  return { status: run.status, report: JSON.parse(run.stdout || '{}') as MigrateReport, stderr: run.stderr };
}

describe('aperture migrate-json FILE', () => {
  it('replaces each embedded image by its CDN URL, keeps a backup, and a second run changes nothing', async () => {
    const dir = await world().tempDir();
    const { file, gallery, text } = await writeGallery(dir, 7000);

    const first = await migrate([file, '--owner', 'lee', '--variant', 'small']);
    expect(first.status, first.stderr).toBe(1);
    expect(first.report).toMatchObject({
      total: 6,
      migrated: 4,
      skipped: 0,
      failed: 2,
      images: { distinct: 3, new: 3 },
      bytesBefore: Buffer.byteLength(text),
    });
    expect(first.report.problems).toEqual([
      expect.objectContaining({ path: '$.items[2].photo', reason: 'bad_base64' }),
      expect.objectContaining({ path: '$.items[4].caption', reason: 'not_an_image' }),
    ]);
    expect(await readFile(String(first.report.backup), 'utf8')).toBe(text);

    const migrated = JSON.parse(await readFile(file, 'utf8')) as typeof gallery;
    expect(first.report.bytesAfter).toBe((await readFile(file)).length);
    expect(first.report.bytesAfter).toBeLessThan(first.report.bytesBefore);
    const [one, two, three, four, five] = migrated.items;
    expect(one?.photo).toMatch(
      new RegExp(`^${world().pipeline.cdnUrl}/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}/small$`),
    );
    expect(two?.photo).toBe(one?.photo);
    expect(three?.photo).toBe(gallery.items[2]?.photo);
    expect(four?.photo).toBe('https://example.com/elsewhere.jpg');
    expect(five?.caption).toBe(gallery.items[4]?.caption);
    expect({ ...migrated, cover: '', items: [] }).toEqual({ ...gallery, cover: '', items: [] });
    // Every URL written serves the image, now.
    for (const url of [one?.photo, one?.thumb, migrated.cover]) {
      const response = await fetch(String(url), { headers: { accept: 'image/webp,image/*' } });
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
    }

    const after = await readFile(file);
    const second = await migrate([file, '--owner', 'lee', '--variant', 'small']);
    expect(second.report).toMatchObject({
      total: 6,
      migrated: 0,
      skipped: 4,
      failed: 2,
      images: { distinct: 0 },
    });
    expect(second.report.backup).toBeUndefined();
    expect(await readFile(file)).toEqual(after);
    expect((await readdir(dir)).filter((name) => name.endsWith('.bak'))).toHaveLength(1);
  });

  it('looks only where --path says, and a dry run uploads and writes nothing', async () => {
    const dir = await world().tempDir();
    const { file, text } = await writeGallery(dir, 7100);

    const dry = await migrate([file, '--owner', 'max', '--dry-run']);
    expect(dry.report).toMatchObject({ migrated: 4, failed: 2, images: { distinct: 3, new: 3 } });
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(await world().uploadsOf('max')).toEqual([]);

    const onlyCover = await migrate([file, '--owner', 'max', '--path', '$.cover', '--variant', 'small']);
    expect(onlyCover.status, onlyCover.stderr).toBe(0);
    expect(onlyCover.report).toMatchObject({ total: 1, migrated: 1, failed: 0 });
    const migrated = JSON.parse(await readFile(file, 'utf8')) as {
      cover: string;
      items: { photo?: string }[];
    };
    expect(migrated.cover).toMatch(/^http/);
    expect(migrated.items[0]?.photo).toMatch(/^data:image\/png;base64,/);

    const wrong = await world().aperture(['migrate-json', file, '--local', '--path', '$.items[']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('--path $.items[');
  });

  it('reports a document that is not JSON and leaves it as it was', async () => {
    const dir = await world().tempDir();
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"photo": "data:image/png;base64,AAAA", ');
    const run = await world().aperture(['migrate-json', file, '--local']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/InvalidJsonError: .*at byte/);
    expect(await readFile(file, 'utf8')).toBe('{"photo": "data:image/png;base64,AAAA", ');
    expect((await readdir(dir)).sort()).toEqual(['broken.json']);
  });
});
