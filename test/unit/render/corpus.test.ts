import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UnrenderableImageError } from '../../../lambdas/core/render/errors.js';
import { makePlaceholder } from '../../../lambdas/core/render/placeholder.js';
import { renderVariants } from '../../../lambdas/core/render/render-variants.js';
import { readTechnicalMetadata } from '../../../lambdas/core/render/technical-metadata.js';
import { SNIFF_BYTES, sniff } from '../../../lambdas/core/sniff.js';
import { DEFAULT_VARIANTS } from '../../../lambdas/core/variants.js';
import { CORPUS_DIR, CORPUS_MANIFEST, readCorpusManifest } from '../../support/corpus.js';

/**
 * Real-world files (camera JPEGs with odd EXIF, CMYK, 16-bit, Lab and fax TIFFs, animations, HEIC,
 * truncated and hostile files), shared beside the repository when a machine has them. Each must
 * render every default variant (and a placeholder) or fail with `UnrenderableImageError`; nothing
 * may crash, come out larger than its box or the original, or carry metadata, and reading its EXIF
 * never throws.
 *
 * AVIF at effort 4 is what makes this slow: every default format over the 152 files took 11.5
 * minutes on a (shared) 2-core machine, WebP and JPEG alone under one. The file-specific work (sniff,
 * decode, orientation, colour, alpha, frames, pages) happens before any encoder and is the same
 * for all three, and the AVIF encoder is covered by the other render tests, so by default the
 * corpus is encoded to WebP and JPEG; APERTURE_CORPUS_DIR_AVIF=1 adds AVIF.
 */
const files = existsSync(CORPUS_DIR)
  ? readdirSync(CORPUS_DIR)
      .filter((name) => !name.endsWith('.tsv') && !name.startsWith('.'))
      .sort()
  : [];
const LIMIT = { maxInputPixels: 100_000_000 };

/**
 * The corpus manifest says which files sharp itself renders (`sharp_result` "ok"); those of an input
 * format must render here too, so the test cannot pass by refusing everything. So must every HEIC,
 * which the manifest's sharp had no HEVC decoder for, and libheif decodes.
 */
function sharpRenders(): ReadonlySet<string> {
  const manifest = readCorpusManifest() ?? [];
  return new Set(
    manifest
      .filter((entry) => entry.sharpResult.startsWith('ok') || entry.format === 'heic')
      .map((entry) => entry.file),
  );
}
const mustRender = sharpRenders();
const VARIANTS =
  process.env.APERTURE_CORPUS_DIR_AVIF === '1'
    ? DEFAULT_VARIANTS
    : DEFAULT_VARIANTS.map((v) => ({ ...v, formats: v.formats.filter((f) => f.format !== 'avif') }));

describe.skipIf(files.length === 0)('the shared corpus', () => {
  it.skipIf(!existsSync(CORPUS_MANIFEST))('names the files sharp renders', () => {
    expect(mustRender.size).toBeGreaterThan(files.length / 2);
    for (const name of mustRender) expect(files).toContain(name);
  });

  it.each(files)(
    '%s renders or is refused with a reason',
    async (name) => {
      const bytes = readFileSync(join(CORPUS_DIR, name));
      const sniffed = sniff(bytes.subarray(0, SNIFF_BYTES));
      // Whatever the EXIF holds, reading it never throws.
      expect(await readTechnicalMetadata(bytes, { includeGps: true })).toBeTypeOf('object');
      let result: Awaited<ReturnType<typeof renderVariants>>;
      try {
        result = await renderVariants(bytes, VARIANTS, LIMIT);
      } catch (error) {
        expect(error).toBeInstanceOf(UnrenderableImageError);
        const { reason, message } = error as UnrenderableImageError;
        expect(message).toMatch(/\w{3}/);
        expect(sniffed.kind === 'image' && mustRender.has(name), `${name} was refused: ${message}`).toBe(
          false,
        );
        if (sniffed.kind !== 'image') expect(reason).toBe('unsupported_format');
        return;
      }
      expect(sniffed.kind).toBe('image');
      const placeholder = await makePlaceholder(bytes, LIMIT);
      expect(placeholder.dominantColour).toMatch(/^#[0-9a-f]{6}$/);
      const original = await sharp(bytes).metadata();
      const upright = original.autoOrient;
      expect(result.objects.length).toBeGreaterThan(0);
      for (const object of result.objects) {
        const box = VARIANTS.find((v) => v.name === object.variant);
        if (!box) throw new Error(`unexpected variant ${object.variant}`);
        const metadata = await sharp(object.bytes, { animated: true }).metadata();
        const label = `${object.variant}.${object.format}${object.page ? ` page ${object.page}` : ''}`;
        expect([metadata.width, metadata.pageHeight ?? metadata.height], label).toEqual([
          object.width,
          object.height,
        ]);
        expect(object.width, label).toBeLessThanOrEqual(box.width);
        expect(object.height, label).toBeLessThanOrEqual(box.height);
        if (
          (object.page ?? 1) === 1 &&
          !(original.pages && original.pages > 1 && original.format === 'tiff')
        ) {
          expect(object.width, label).toBeLessThanOrEqual(upright.width);
          expect(object.height, label).toBeLessThanOrEqual(upright.height);
        }
        expect([metadata.exif, metadata.xmp, metadata.icc], label).toEqual([undefined, undefined, undefined]);
      }
    },
    120_000,
  );
});
