import sharp from 'sharp';
import { ANALYSIS_MAX_EDGE } from '../enrichment.js';
import { type DecodeOptions, inputOptions } from './original.js';

/** Enough for every model it is made for; the JPEG stays some 100–300 KB at 1024 px. */
const ANALYSIS_QUALITY = 85;

/**
 * The image the enrichment lane's models look at: the first page or frame, upright, at most
 * `ANALYSIS_MAX_EDGE` px on its long edge (within every managed model's input limits), flattened on
 * white, sRGB, baseline JPEG without metadata. Made from the original in the thumbnails lane, so
 * no model ever reads an original, and a HEIC or AVIF original needs no special case.
 */
export async function renderAnalysisImage(original: Buffer, options: DecodeOptions): Promise<Buffer> {
  return sharp(original, inputOptions(options))
    .rotate()
    .resize(ANALYSIS_MAX_EDGE, ANALYSIS_MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .jpeg({ quality: ANALYSIS_QUALITY })
    .toBuffer();
}
