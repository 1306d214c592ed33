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
 * The encoders every render uses: still the baseline's. ADR 10's sweep found none that renders a
 * camera photo in less CPU at no more bytes and no less quality: its best candidate (AVIF effort 3,
 * a third of the CPU) costs 0.2% more bytes and up to 0.003 of luma SSIM on the smaller AVIFs, a
 * trade the issue's terms do not allow, so it awaits a decision (`docs/adr/0010-encoder-settings.md`).
 */
export const PRODUCTION_ENCODERS: EncoderSettings = BASELINE_ENCODERS;

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
