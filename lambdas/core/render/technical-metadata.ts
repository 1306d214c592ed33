import exifReader from 'exif-reader';
import sharp from 'sharp';
import { SNIFF_BYTES, sniff } from '../sniff.js';

/**
 * What the camera recorded about a photo, as far as it is readable. Every field is optional and
 * flat (a string or a number), so the record stores it as it is.
 */
export type TechnicalMetadata = {
  cameraMake?: string;
  cameraModel?: string;
  lens?: string;
  /** ISO speed. */
  iso?: number;
  /** Seconds (1/250 s is 0.004). */
  exposureTime?: number;
  fNumber?: number;
  /** Millimetres, as on the lens (not 35 mm equivalent). */
  focalLength?: number;
  /**
   * When the photo was taken, ISO 8601 in the camera's local time: with its UTC offset when the
   * camera recorded one (`2024-05-06T07:08:09+02:00`), without one otherwise (`2024-05-06T07:08:09`),
   * since EXIF dates carry no time zone of their own.
   */
  takenAt?: string;
  /** Decimal degrees, WGS 84, north positive; only when asked for, as a location is personal data. */
  latitude?: number;
  /** Decimal degrees, WGS 84, east positive; present exactly when `latitude` is. */
  longitude?: number;
};

export interface TechnicalMetadataOptions {
  includeGps: boolean;
}

type Exif = ReturnType<typeof exifReader>;
type Tags = Record<string, unknown> | null | undefined;

/** Longest text kept from any tag: maker strings are short, garbage is not. */
const MAX_TEXT = 100;

/**
 * Reads camera, exposure, time and (when asked) position from an image's EXIF. Whatever is missing
 * or malformed is left out: no EXIF, garbled EXIF or bytes that are no image at all give `{}`, and
 * this never throws, because none of it is needed to serve the image.
 */
export async function readTechnicalMetadata(
  original: Buffer,
  options: TechnicalMetadataOptions,
): Promise<TechnicalMetadata> {
  try {
    if (sniff(original.subarray(0, SNIFF_BYTES)).kind !== 'image') return {};
    const { exif } = await sharp(original).metadata();
    if (!exif || exif.length === 0) return {};
    return fromExif(exifReader(exif), options);
  } catch {
    return {};
  }
}

/** Picks and checks the fields of parsed EXIF; exported for tests of odd values. */
export function fromExif(exif: Exif, options: TechnicalMetadataOptions): TechnicalMetadata {
  const image = exif.Image as Tags;
  const photo = exif.Photo as Tags;
  const result: TechnicalMetadata = {};
  const set = <K extends keyof TechnicalMetadata>(key: K, value: TechnicalMetadata[K] | undefined) => {
    if (value !== undefined) result[key] = value;
  };
  set('cameraMake', text(image?.Make));
  set('cameraModel', text(image?.Model));
  set('lens', text(photo?.LensModel));
  set('iso', positive(first(photo?.ISOSpeedRatings) ?? photo?.ISOSpeed ?? photo?.StandardOutputSensitivity));
  set('exposureTime', positive(photo?.ExposureTime ?? image?.ExposureTime));
  set('fNumber', positive(photo?.FNumber ?? image?.FNumber));
  set('focalLength', positive(photo?.FocalLength ?? image?.FocalLength));
  set(
    'takenAt',
    localTime(photo?.DateTimeOriginal, photo?.OffsetTimeOriginal) ??
      localTime(photo?.DateTimeDigitized, photo?.OffsetTimeDigitized) ??
      localTime(image?.DateTime, photo?.OffsetTime),
  );
  if (options.includeGps) Object.assign(result, position(exif.GPSInfo as Tags));
  return result;
}

function text(value: unknown): string | undefined {
  // exif-reader hands back bytes for text that is not ASCII; UTF-8 is what writers use now.
  const raw = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof raw !== 'string') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping NULs and control bytes is the point
  const cleaned = raw.replace(/[\u0000-\u001f\u007f\ufffd]/g, '').trim();
  return cleaned.length > 0 && cleaned.length <= MAX_TEXT ? cleaned : undefined;
}

const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

/** Six significant digits: rationals like 1/30 s or a 57.019002375 mm zoom need no more. */
function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? Number(value.toPrecision(6))
    : undefined;
}

/**
 * exif-reader reads `YYYY:MM:DD HH:MM:SS` as if it were UTC, so the UTC fields of its Date are the
 * camera's wall clock. Zeroed dates ("0000:00:00 00:00:00", common) come out before 1900.
 */
function localTime(value: unknown, offset: unknown): string | undefined {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) return undefined;
  const year = value.getUTCFullYear();
  if (year < 1900 || year > 2200) return undefined;
  const wallClock = value.toISOString().slice(0, 19);
  const zone = typeof offset === 'string' ? offset.trim() : '';
  return /^[+-](0\d|1[0-4]):[0-5]\d$/.test(zone) ? `${wallClock}${zone}` : wallClock;
}

function degrees(value: unknown, reference: unknown, negative: string, limit: number): number | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > 3) return undefined;
  const parts = value.map((part) => (typeof part === 'number' && Number.isFinite(part) ? part : Number.NaN));
  const [d = 0, m = 0, s = 0] = parts;
  if (parts.some((part) => Number.isNaN(part) || part < 0) || m >= 60 || s >= 60) return undefined;
  const magnitude = d + m / 60 + s / 3600;
  if (magnitude > limit) return undefined;
  const ref = typeof reference === 'string' ? reference.trim().toUpperCase() : '';
  const signed = ref === negative ? -magnitude : magnitude;
  return Math.round(signed * 1e7) / 1e7;
}

function position(gps: Tags): { latitude: number; longitude: number } | undefined {
  if (!gps) return undefined;
  // 'V' is a void fix: the receiver had no position to give.
  if (typeof gps.GPSStatus === 'string' && gps.GPSStatus.trim().toUpperCase() === 'V') return undefined;
  const latitude = degrees(gps.GPSLatitude, gps.GPSLatitudeRef, 'S', 90);
  const longitude = degrees(gps.GPSLongitude, gps.GPSLongitudeRef, 'W', 180);
  if (latitude === undefined || longitude === undefined) return undefined;
  // 0°, 0° is what cameras without a fix write, not a photo taken in the Gulf of Guinea.
  if (latitude === 0 && longitude === 0) return undefined;
  return { latitude, longitude };
}
