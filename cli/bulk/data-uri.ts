/** A data URI's image, or why it is not one (the message is for a report, so it reads as a sentence). */
export type DataUri =
  | { ok: true; mediaType: string; bytes: Buffer }
  | {
      ok: false;
      reason: 'not_base64' | 'bad_base64' | 'not_an_image' | 'empty' | 'malformed';
      message: string;
    };

type Failure = Extract<DataUri, { ok: false }>;

/** RFC 2045 `type "/" subtype`, each a token. */
const MEDIA_TYPE = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/;

const OTHER = 0;
const DIGIT = 1;
const PAD = 2;
const SPACE = 3;
/** How base64 data treats each ASCII character; anything else is refused. */
const BASE64_CLASS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  BASE64_CLASS[c.charCodeAt(0)] = DIGIT;
}
BASE64_CLASS['='.charCodeAt(0)] = PAD;
// ASCII whitespace as the WHATWG forgiving-base64 decode (what browsers run on data: URLs) skips it.
for (const c of '\t\n\f\r ') BASE64_CLASS[c.charCodeAt(0)] = SPACE;

/** Whether a string is a data URI at all (starts with `data:`, case-insensitive), the cheap test before parsing. */
export function isDataUri(text: string): boolean {
  return /^data:/i.test(text);
}

/**
 * Parses an RFC 2397 `data:[<mediatype>][;param=value]*[;base64],<data>` URI holding an image. Only
 * `image/*` media types with `;base64` count. The base64 is checked character by character before it is
 * decoded (Buffer.from would skip what it does not know). It may be split by ASCII whitespace (MIME wraps
 * lines; browsers skip it too) and may leave out its `=` padding; padding that is there must be right.
 * The standard alphabet only: URL-safe `-` and `_`, and %-escapes, are refused.
 */
export function parseDataUri(text: string): DataUri {
  if (!isDataUri(text)) return failure('malformed', 'it does not start with "data:"');
  const comma = text.indexOf(',');
  if (comma < 0) return failure('malformed', 'it has no "," between the media type and the data');
  const parameters = text.slice('data:'.length, comma).split(';');
  const mediaType = (parameters[0] as string).trim().toLowerCase();
  const base64 = parameters.length > 1 && parameters.at(-1)?.trim().toLowerCase() === 'base64';
  if (mediaType === '') {
    return failure('not_an_image', 'it has no media type, so it is text/plain, not an image');
  }
  if (!MEDIA_TYPE.test(mediaType)) return failure('malformed', `${quote(mediaType)} is not a media type`);
  if (!mediaType.startsWith('image/')) return failure('not_an_image', `${mediaType} is not an image type`);
  if (!base64) {
    return failure('not_base64', `its ${mediaType} data is not base64-encoded (no ";base64" before the ",")`);
  }
  const decoded = decodeBase64(text, comma + 1);
  return 'bytes' in decoded ? { ok: true, mediaType, bytes: decoded.bytes } : decoded;
}

function decodeBase64(text: string, start: number): { bytes: Buffer } | Failure {
  let digits = 0;
  let padding = 0;
  let whitespace = false;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const kind = code < 128 ? BASE64_CLASS[code] : OTHER;
    if (kind === DIGIT) {
      if (padding > 0)
        return failure('bad_base64', `its base64 data goes on after "=" (at character ${i - start})`);
      digits++;
    } else if (kind === PAD) {
      padding++;
    } else if (kind === SPACE) {
      whitespace = true;
    } else {
      const what = code > 0x20 && code < 0x7f ? quote(text[i] as string) : `U+${hex4(code)}`;
      return failure(
        'bad_base64',
        `its base64 data has ${what} at character ${i - start}, outside the alphabet`,
      );
    }
  }
  if (padding > 2 || (padding > 0 && (digits + padding) % 4 !== 0)) {
    return failure(
      'bad_base64',
      `its base64 data ends in the wrong "=" padding (${padding} after ${digits} characters)`,
    );
  }
  if (digits % 4 === 1) {
    return failure(
      'bad_base64',
      `its base64 data is cut short (${digits} characters cannot make whole bytes)`,
    );
  }
  if (digits === 0) return failure('empty', 'it holds no bytes');
  const data = whitespace ? text.slice(start).replace(/[\t\n\f\r ]+/g, '') : text.slice(start);
  return { bytes: Buffer.from(data, 'base64') };
}

function failure(reason: Failure['reason'], message: string): Failure {
  return { ok: false, reason, message: `not an image data URI: ${message}` };
}

/** Quotes a fragment of the document for a message, cut short: a bogus header can be megabytes long. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}
