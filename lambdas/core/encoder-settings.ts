import type { OutputFormat } from './formats.js';

/**
 * How each output format is encoded, beyond the quality a variant's spec gives: the options of
 * sharp's encoder of that name. Plain data, free of sharp, because it is part of every derivative's
 * revision (`encodingRevision`), which the ingest, the API and the CDN function compute too.
 */
export interface EncoderSettings {
  avif: {
    /** 0 (fastest) to 9 (smallest): libaom's speed is 9 minus this. */
    effort: number;
    chromaSubsampling: '4:4:4' | '4:2:0';
  };
  webp: {
    /** 0 (fastest) to 6 (smallest). */
    effort: number;
    /** libwebp's sharper RGB→YUV conversion: fewer bleeding edges in saturated colours, more CPU. */
    smartSubsample: boolean;
  };
  /** mozjpeg's tools, each on its own (sharp's `mozjpeg: true` is all four plus progressive). */
  jpeg: {
    trellisQuantisation: boolean;
    overshootDeringing: boolean;
    optimiseScans: boolean;
    /** 0–8: mozjpeg's quantisation tables (3 is its own default, tuned on photos). */
    quantisationTable: number;
    progressive: boolean;
  };
}

/**
 * The encoders as Aperture ran them until ADR 10: AVIF and WebP at effort 4, the middle of their
 * range, AVIF with sharp's default full-resolution chroma; JPEG with every mozjpeg tool, progressive.
 * Kept to measure against (the render bench) and as the revision baseline.
 */
export const BASELINE_ENCODERS: EncoderSettings = {
  avif: { effort: 4, chromaSubsampling: '4:4:4' },
  webp: { effort: 4, smartSubsample: false },
  jpeg: {
    trellisQuantisation: true,
    overshootDeringing: true,
    optimiseScans: true,
    quantisationTable: 3,
    progressive: true,
  },
};

/**
 * The encoders every render uses (ADR 10, `docs/adr/0010-encoder-settings.md`). AVIF was nine tenths
 * of a camera photo's render CPU, and libaom's effort 3 (speed 6) costs a third of effort 4's
 * (3.9 s instead of 13.6 s of CPU for a 12 MP photo's default set) for +0.2% of the set's bytes.
 * Chroma stays 4:4:4: 4:2:0 lost 0.02–0.04 of chroma SSIM on every AVIF output, ten times what one
 * quality step is worth. WebP and JPEG stay as they were: their options saved little CPU, each for
 * more bytes.
 */
export const PRODUCTION_ENCODERS: EncoderSettings = {
  ...BASELINE_ENCODERS,
  avif: { effort: 3, chromaSubsampling: '4:4:4' },
};

/**
 * What of `settings` decides a `format` output's bytes, for its revision: undefined while they are
 * the baseline's, so that revisions computed before encoder settings were part of them still hold.
 */
export function encoderRevisionPart(
  settings: EncoderSettings,
  format: OutputFormat,
): EncoderSettings[OutputFormat] | undefined {
  const own = settings[format];
  return JSON.stringify(own) === JSON.stringify(BASELINE_ENCODERS[format]) ? undefined : own;
}
