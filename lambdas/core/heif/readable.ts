import sharp from 'sharp';
import { type HeifHeader, readHeifHeader } from './container.js';
import { decodeHeifAsTiff } from './decode.js';

/** Display P3's colour primaries (SMPTE EG 432-1) as an `nclx` box numbers them (ITU-T H.273). */
const DISPLAY_P3_PRIMARIES = 12;

let displayP3: Promise<Uint8Array | undefined> | undefined;

/** libvips' own Display P3 profile, as bytes: the one sharp attaches to its `p3` outputs. */
function displayP3Profile(): Promise<Uint8Array | undefined> {
  displayP3 ??= sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .withIccProfile('p3')
    .png()
    .toBuffer()
    .then(async (png) => (await sharp(png).metadata()).icc);
  return displayP3;
}

/**
 * The profile the pixels are in: the container's ICC profile when it has one (iPhones embed Display
 * P3), else what its `nclx` names. BT.709 primaries are sRGB's, which libvips assumes without a
 * profile; Display P3 gets libvips' own P3 profile. Other primaries (BT.2020, with PQ or HLG for HDR)
 * are left untagged too, so rendered as if sRGB: a limit written in docs/limits.md.
 */
async function colourProfile(header: HeifHeader): Promise<Uint8Array | undefined> {
  if (header.icc) return header.icc;
  return header.nclx?.colourPrimaries === DISPLAY_P3_PRIMARIES ? displayP3Profile() : undefined;
}

/** What a HEIF is, judged from its container, and its primary image as libvips reads it. */
export interface ReadableHeif {
  header: HeifHeader;
  /** Upright 8-bit RGB(A) pixels in an uncompressed TIFF, with the profile they are in. */
  tiff: Buffer;
}

const decoded = new WeakMap<Uint8Array, Promise<ReadableHeif>>();

/**
 * A HEIC/HEIF judged and decoded: first its container alone (structure, tiles, the pixel budget:
 * nothing is decoded for a file that fails), then its primary image, with libheif (WebAssembly;
 * sharp's prebuilt libvips has no HEVC decoder). Throws `UnreadableHeifError`.
 *
 * Whoever reads one original several ways (a render job: variants, placeholder, analysis image) gets
 * the one decode: it is kept with the original's bytes, and goes when they go.
 */
export function readHeif(bytes: Uint8Array, options: { maxInputPixels: number }): Promise<ReadableHeif> {
  let readable = decoded.get(bytes);
  if (!readable) {
    readable = (async () => {
      const header = readHeifHeader(bytes, options);
      return { header, tiff: decodeHeifAsTiff(bytes, await colourProfile(header)) };
    })();
    decoded.set(bytes, readable);
  }
  return readable;
}
