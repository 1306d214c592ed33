/** Where a value sits: object keys and array indexes from the root. */
export type JsonPath = readonly (string | number)[];

/** A string value that `select` picked, decoded, with where it sits. */
export interface JsonStringVisit {
  path: JsonPath;
  value: string;
}

/** Where the rewritten document goes. Each write is awaited, which is the reader's backpressure. */
export interface JsonOutput {
  write(chunk: Uint8Array | string): Promise<void>;
}

export interface RewriteJsonStringsOptions {
  /**
   * Decides from the path and the first bytes of the raw (still escaped) string whether to decode it at
   * all. Called for every string value (never for keys) once its first 16 bytes have arrived or it has
   * ended, whichever is first; `rawPrefix` excludes the quotes and never ends inside a UTF-8 character.
   * `path` is the reader's own, valid only during the call (it is asked millions of times, so no copy).
   */
  select: (path: JsonPath, rawPrefix: string) => boolean;
  /** Given a selected string, returns its replacement, or undefined to leave it exactly as it was. */
  replace: (visit: JsonStringVisit) => string | undefined | Promise<string | undefined>;
  /**
   * Receives the document as it is rewritten; without it the document is only read. Untouched bytes
   * arrive as views of the input chunks, so a writer that keeps them after its promise settles needs an
   * input that does not reuse its buffers (file streams do not).
   */
  output?: JsonOutput;
}

export interface RewriteJsonStringsResult {
  bytesIn: number;
  /** The size of the rewritten document, counted whether or not there is an `output`. */
  bytesOut: number;
  stringsSelected: number;
}

/** The input is not JSON. `offset` is the 0-based byte position where reading stopped. */
export class InvalidJsonError extends Error {
  override readonly name: string = 'InvalidJsonError';
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** The input may be valid JSON but goes beyond what the reader will hold: a huge key, or very deep nesting. */
export class JsonLimitError extends InvalidJsonError {
  override readonly name = 'JsonLimitError';
}

/** Keys are held whole for the path; a bigger one is far more likely a broken file than a real key. */
export const MAX_KEY_BYTES = 64 * 1024;
/** The path grows with nesting, so a file of nothing but '[' must not grow it without bound. */
export const MAX_DEPTH = 10_000;
const PREFIX_BYTES = 16;
const RECENT_SLOTS = 4096;
const RECENT_MAX_LENGTH = 64;

/** Where the reader is. An enum, which esbuild inlines as literals, so that the switch can be a jump table. */
enum State {
  // Between tokens, up to End, where whitespace may come first: what may come next.
  Value,
  ValueOrClose, // just after '['
  Key,
  KeyOrClose, // just after '{'
  Colon,
  CommaOrClose,
  End, // after the top-level value
  // Inside a token.
  ByteOrderMark,
  String,
  Escape,
  UnicodeEscape,
  Minus,
  Zero,
  Integer,
  Point,
  Fraction,
  Exponent,
  ExponentSign,
  ExponentDigits,
  Literal,
}

/** What happens to the string value being read. */
enum Capture {
  Pass, // streamed through untouched
  Undecided, // held until `select` has seen its prefix
  Selected, // held whole, for `replace`
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Bytes that a string can hold as they are: neither its end, an escape, a control character nor UTF-8. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x80; b++) PLAIN[b] = b === QUOTE || b === BACKSLASH ? 0 : 1;

/** The characters allowed after a backslash, except 'u'. */
const SHORT_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SHORT_ESCAPE[c.charCodeAt(0)] = 1;

const utf8 = new TextDecoder();

/**
 * Reads JSON from `input` chunk by chunk and copies it to `output` (when given) byte for byte, except
 * for string values (not keys) that `select` picks: those are decoded, handed to `replace`, and, when it
 * returns a string, written as that string JSON-encoded in their place.
 *
 * Only keys (for the path) and selected strings are held in memory. The whole input is validated as
 * RFC 8259 JSON, UTF-8 included (a leading byte order mark is accepted and kept); the first fault throws
 * an InvalidJsonError, possibly after part of the output has been written.
 */
export async function rewriteJsonStrings(
  input: AsyncIterable<Uint8Array>,
  options: RewriteJsonStringsOptions,
): Promise<RewriteJsonStringsResult> {
  const { select, replace, output } = options;
  let bytesIn = 0;
  let bytesOut = 0;
  let stringsSelected = 0;
  const emit = async (bytes: Uint8Array): Promise<void> => {
    if (bytes.length === 0) return;
    bytesOut += bytes.length;
    if (output) await output.write(bytes);
  };

  // An object's entry is its current key ('' before the first), an array's its current index.
  const path: (string | number)[] = [];
  let state = State.Value as State;
  let literal = '';
  let literalIndex = 0;

  // The string being read.
  let inKey = false;
  // Nothing but printable ASCII so far: no escapes, no multi-byte characters.
  let plain = true;
  let stringStart = 0;
  let escapeStart = 0;
  let utf8Needed = 0;
  let utf8Low = 0x80;
  let utf8High = 0xbf;
  let hexDigits = 0;
  let codeUnit = 0;
  let highSurrogate = false;
  let surrogateStart = 0;

  // A string value's bytes from its opening quote: `held` from earlier chunks, then this chunk's from
  // `captureStart`. A key's bytes likewise, in `keyParts` and from `keyStart`.
  let capture: Capture = Capture.Pass;
  let captureStart = 0;
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let selectedPath: JsonPath = [];
  let keyStart = 0;
  let keyParts: Uint8Array[] = [];
  let keyBytes = 0;
  const strings = new RecentStrings();

  const choose = (prefix: string): boolean => {
    if (!select(path, prefix)) return false;
    selectedPath = path.slice();
    stringsSelected++;
    return true;
  };

  for await (const data of input) {
    // A plain view: Buffer's subarray goes through its species constructor, several times slower.
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const n = chunk.length;
    let i = 0;
    // Bytes from here up to `i` (or to `captureStart`) are still to be written as they are.
    let copyStart = 0;

    while (i < n) {
      if (state === State.String) {
        if (
          capture === Capture.Undecided &&
          utf8Needed === 0 &&
          (chunk[i] === QUOTE || heldBytes + i - captureStart > PREFIX_BYTES)
        ) {
          const prefix =
            held.length === 0 && plain
              ? strings.text(chunk, captureStart + 1, i)
              : utf8.decode(joinBytes(held, chunk.subarray(captureStart, i)).subarray(1));
          if (choose(prefix)) {
            capture = Capture.Selected;
          } else {
            capture = Capture.Pass;
            if (held.length > 0) {
              await emit(Buffer.concat(held));
              held = [];
              heldBytes = 0;
            }
          }
        }
        if (utf8Needed === 0 && !highSurrogate) {
          const limit =
            capture === Capture.Undecided ? Math.min(n, captureStart - heldBytes + 1 + PREFIX_BYTES) : n;
          while (i < limit && PLAIN[chunk[i] as number] === 1) i++;
          // Back to the top to let `select` decide before the string goes further or ends.
          if (i === limit || (capture === Capture.Undecided && chunk[i] === QUOTE)) continue;
        }
        const c = chunk[i] as number;
        if (utf8Needed > 0) {
          if (c < utf8Low || c > utf8High) throw invalidUtf8(c, bytesIn + i);
          utf8Needed--;
          utf8Low = 0x80;
          utf8High = 0xbf;
        } else if (highSurrogate && c !== BACKSLASH) {
          throw unpairedSurrogate(surrogateStart);
        } else if (c === BACKSLASH) {
          state = State.Escape;
          plain = false;
          escapeStart = bytesIn + i;
        } else if (c === QUOTE) {
          if (inKey) {
            if (keyBytes + i - keyStart - 1 > MAX_KEY_BYTES) throw keyTooLong(stringStart);
            path[path.length - 1] =
              keyParts.length === 0 && plain
                ? strings.text(chunk, keyStart + 1, i)
                : (JSON.parse(utf8.decode(joinBytes(keyParts, chunk.subarray(keyStart, i + 1)))) as string);
            inKey = false;
            keyParts = [];
            keyBytes = 0;
            state = State.Colon;
          } else {
            if (capture === Capture.Selected) {
              const raw = joinBytes(held, chunk.subarray(captureStart, i + 1));
              held = [];
              heldBytes = 0;
              await emit(chunk.subarray(copyStart, captureStart));
              const value = JSON.parse(utf8.decode(raw)) as string;
              const replacement = await replace({ path: selectedPath, value });
              await emit(replacement === undefined ? raw : Buffer.from(JSON.stringify(replacement)));
              copyStart = i + 1;
              capture = Capture.Pass;
            }
            state = afterValue(path);
          }
        } else if (c < 0x20) {
          throw new InvalidJsonError(
            `control character ${hex(c)} at byte ${bytesIn + i} must be escaped inside a string`,
            bytesIn + i,
          );
        } else {
          // A UTF-8 lead byte; the ranges for the next byte rule out overlong forms and surrogates.
          plain = false;
          if (c >= 0xc2 && c <= 0xdf) {
            utf8Needed = 1;
          } else if (c >= 0xe0 && c <= 0xef) {
            utf8Needed = 2;
            if (c === 0xe0) utf8Low = 0xa0;
            else if (c === 0xed) utf8High = 0x9f;
          } else if (c >= 0xf0 && c <= 0xf4) {
            utf8Needed = 3;
            if (c === 0xf0) utf8Low = 0x90;
            else if (c === 0xf4) utf8High = 0x8f;
          } else {
            throw invalidUtf8(c, bytesIn + i);
          }
        }
        i++;
        continue;
      }

      const b = chunk[i] as number;
      if (state <= State.End && isWhitespace(b)) {
        // Indentation comes in runs: skip a run at once rather than byte by byte through the switch.
        i++;
        while (i < n && isWhitespace(chunk[i] as number)) i++;
        continue;
      }
      const offset = bytesIn + i;
      switch (state) {
        case State.Value:
        case State.ValueOrClose:
          if (b === 0x5d && state === State.ValueOrClose) {
            path.pop();
            state = afterValue(path);
            break;
          }
          if (b === QUOTE) {
            // Most strings start with plain ASCII within the chunk: decide at once, without the
            // general machinery, and skip a short string whole.
            let j = i + 1;
            const prefixEnd = j + PREFIX_BYTES;
            const limit = Math.min(n, prefixEnd);
            while (j < limit && PLAIN[chunk[j] as number] === 1) j++;
            const ended = j < n && chunk[j] === QUOTE;
            if (ended || j === prefixEnd) {
              const selected = choose(strings.text(chunk, i + 1, j));
              if (ended && !selected) {
                state = afterValue(path);
                i = j + 1;
                continue;
              }
              capture = selected ? Capture.Selected : Capture.Pass;
            } else {
              capture = Capture.Undecided;
            }
            state = State.String;
            inKey = false;
            plain = true;
            stringStart = offset;
            captureStart = i;
            i = j;
            continue;
          } else if (b === 0x7b || b === 0x5b) {
            if (path.length >= MAX_DEPTH) {
              throw new JsonLimitError(`nesting deeper than ${MAX_DEPTH} levels at byte ${offset}`, offset);
            }
            path.push(b === 0x7b ? '' : 0);
            state = b === 0x7b ? State.KeyOrClose : State.ValueOrClose;
          } else if (b === 0x2d) {
            state = State.Minus;
          } else if (b === 0x30) {
            state = State.Zero;
          } else if (isDigit(b)) {
            state = State.Integer;
          } else if (b === 0x74 || b === 0x66 || b === 0x6e) {
            literal = b === 0x74 ? 'true' : b === 0x66 ? 'false' : 'null';
            literalIndex = 1;
            state = State.Literal;
          } else if (b === UTF8_BOM[0] && offset === 0) {
            literalIndex = 1;
            state = State.ByteOrderMark;
          } else {
            throw unexpected(b, offset, expectation(state, path, literal));
          }
          break;
        case State.Key:
        case State.KeyOrClose:
          if (b === 0x7d && state === State.KeyOrClose) {
            path.pop();
            state = afterValue(path);
          } else if (b === QUOTE) {
            // Most keys are short plain ASCII within the chunk: read them at once.
            let j = i + 1;
            while (j < n && PLAIN[chunk[j] as number] === 1) j++;
            if (j < n && chunk[j] === QUOTE && j - i - 1 <= MAX_KEY_BYTES) {
              path[path.length - 1] = strings.text(chunk, i + 1, j);
              state = State.Colon;
              i = j + 1;
              continue;
            }
            state = State.String;
            inKey = true;
            plain = true;
            stringStart = offset;
            keyStart = i;
            i = j;
            continue;
          } else {
            throw unexpected(b, offset, expectation(state, path, literal));
          }
          break;
        case State.Colon:
          if (b !== 0x3a) throw unexpected(b, offset, expectation(state, path, literal));
          state = State.Value;
          break;
        case State.CommaOrClose: {
          const top = path[path.length - 1];
          if (b === 0x2c) {
            if (typeof top === 'number') {
              path[path.length - 1] = top + 1;
              state = State.Value;
            } else {
              state = State.Key;
            }
          } else if (b === (typeof top === 'number' ? 0x5d : 0x7d)) {
            path.pop();
            state = afterValue(path);
          } else {
            throw unexpected(b, offset, expectation(state, path, literal));
          }
          break;
        }
        case State.End:
          throw unexpected(b, offset, expectation(state, path, literal));
        case State.ByteOrderMark:
          if (b !== UTF8_BOM[literalIndex]) throw unexpected(b, offset, expectation(state, path, literal));
          if (++literalIndex === UTF8_BOM.length) state = State.Value;
          break;
        case State.Escape:
          if (b === 0x75) {
            state = State.UnicodeEscape;
            hexDigits = 0;
            codeUnit = 0;
          } else if (highSurrogate) {
            throw unpairedSurrogate(surrogateStart);
          } else if (SHORT_ESCAPE[b] === 1) {
            state = State.String;
          } else {
            throw new InvalidJsonError(
              `invalid escape '\\${printable(b)}' at byte ${escapeStart}`,
              escapeStart,
            );
          }
          break;
        case State.UnicodeEscape: {
          const digit = hexValue(b);
          if (digit < 0) throw unexpected(b, offset, 'a hex digit in a \\u escape');
          codeUnit = (codeUnit << 4) | digit;
          if (++hexDigits < 4) break;
          state = State.String;
          const low = codeUnit >= 0xdc00 && codeUnit <= 0xdfff;
          if (highSurrogate !== low) throw unpairedSurrogate(highSurrogate ? surrogateStart : escapeStart);
          highSurrogate = !highSurrogate && codeUnit >= 0xd800 && codeUnit <= 0xdbff;
          surrogateStart = escapeStart;
          break;
        }
        case State.Minus:
          if (!isDigit(b)) throw unexpected(b, offset, expectation(state, path, literal));
          state = b === 0x30 ? State.Zero : State.Integer;
          break;
        case State.Zero:
        case State.Integer:
        case State.Fraction:
        case State.ExponentDigits: {
          if (state !== State.Zero) {
            while (i < n && isDigit(chunk[i] as number)) i++;
            if (i === n) continue;
          }
          const c = chunk[i] as number;
          if (c === 0x2e && (state === State.Zero || state === State.Integer)) {
            state = State.Point;
          } else if ((c === 0x65 || c === 0x45) && state !== State.ExponentDigits) {
            state = State.Exponent;
          } else if (isDigit(c)) {
            throw new InvalidJsonError(
              `leading zero in a number at byte ${bytesIn + i - 1}`,
              bytesIn + i - 1,
            );
          } else {
            // The number has ended: look at this byte again as what follows it.
            state = afterValue(path);
            continue;
          }
          break;
        }
        case State.Point:
        case State.ExponentSign:
          if (!isDigit(b)) throw unexpected(b, offset, expectation(state, path, literal));
          state = state === State.Point ? State.Fraction : State.ExponentDigits;
          break;
        case State.Exponent:
          if (b === 0x2b || b === 0x2d) state = State.ExponentSign;
          else if (isDigit(b)) state = State.ExponentDigits;
          else throw unexpected(b, offset, expectation(state, path, literal));
          break;
        case State.Literal:
          if (b !== literal.charCodeAt(literalIndex)) {
            throw unexpected(b, offset, expectation(state, path, literal));
          }
          if (++literalIndex === literal.length) state = afterValue(path);
          break;
      }
      i++;
    }

    if (state === State.String || state === State.Escape || state === State.UnicodeEscape) {
      if (inKey) {
        keyParts.push(copyOf(chunk, keyStart, n));
        keyBytes += n - keyStart;
        keyStart = 0;
        if (keyBytes - 1 > MAX_KEY_BYTES) throw keyTooLong(stringStart);
      } else if (capture !== Capture.Pass) {
        await emit(chunk.subarray(copyStart, captureStart));
        held.push(copyOf(chunk, captureStart, n));
        heldBytes += n - captureStart;
        captureStart = 0;
        copyStart = n;
      }
    }
    await emit(chunk.subarray(copyStart, n));
    bytesIn += n;
  }

  if (
    state === State.Zero ||
    state === State.Integer ||
    state === State.Fraction ||
    state === State.ExponentDigits
  ) {
    state = afterValue(path);
  }
  if (state !== State.End) {
    throw new InvalidJsonError(
      `unexpected end of input at byte ${bytesIn}, expected ${expectation(state, path, literal, stringStart)}`,
      bytesIn,
    );
  }
  return { bytesIn, bytesOut, stringsSelected };
}

/**
 * Decodes short runs of printable ASCII, remembering the last one seen in each slot: keys recur, and a
 * hit allocates nothing. The slot comes from the length and three bytes, not from every byte, because the
 * comparison that confirms a hit reads them all anyway.
 */
class RecentStrings {
  private readonly slots: (string | undefined)[] = new Array(RECENT_SLOTS);

  text(bytes: Uint8Array, start: number, end: number): string {
    const length = end - start;
    if (length === 0) return '';
    if (length > RECENT_MAX_LENGTH) return utf8.decode(bytes.subarray(start, end));
    const first = bytes[start] as number;
    const middle = bytes[start + (length >> 1)] as number;
    const last = bytes[end - 1] as number;
    const slot = (Math.imul(length, 0x9e3779b1) ^ (first << 14) ^ (middle << 7) ^ last) & (RECENT_SLOTS - 1);
    const known = this.slots[slot];
    if (known !== undefined && known.length === length) {
      let j = 0;
      while (j < length && known.charCodeAt(j) === bytes[start + j]) j++;
      if (j === length) return known;
    }
    const text = utf8.decode(bytes.subarray(start, end));
    this.slots[slot] = text;
    return text;
  }
}

function afterValue(path: JsonPath): State {
  return path.length === 0 ? State.End : State.CommaOrClose;
}

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function joinBytes(parts: readonly Uint8Array[], tail: Uint8Array): Uint8Array {
  return parts.length === 0 ? tail : Buffer.concat([...parts, tail]);
}

/** A copy, because the input may hand out views of memory it goes on to reuse (Buffer#slice would not copy). */
function copyOf(chunk: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(chunk.subarray(start, end));
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

function printable(b: number): string {
  return b > 0x20 && b < 0x7f ? String.fromCharCode(b) : hex(b);
}

function expectation(state: State, path: JsonPath, literal: string, stringStart = 0): string {
  switch (state) {
    case State.Value:
      return 'a value';
    case State.ValueOrClose:
      return "a value or ']'";
    case State.Key:
      return 'a string key';
    case State.KeyOrClose:
      return "a string key or '}'";
    case State.Colon:
      return "':'";
    case State.CommaOrClose:
      return typeof path[path.length - 1] === 'number' ? "',' or ']'" : "',' or '}'";
    case State.End:
      return 'nothing but whitespace after the top-level value';
    case State.ByteOrderMark:
      return 'the rest of a UTF-8 byte order mark';
    case State.String:
    case State.Escape:
    case State.UnicodeEscape:
      return `the end of the string that starts at byte ${stringStart}`;
    case State.Literal:
      return `'${literal}'`;
    default:
      return 'a digit';
  }
}

function unexpected(b: number, offset: number, expected: string): InvalidJsonError {
  const what = b > 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte ${hex(b)}`;
  return new InvalidJsonError(`unexpected ${what} at byte ${offset}, expected ${expected}`, offset);
}

function invalidUtf8(b: number, offset: number): InvalidJsonError {
  return new InvalidJsonError(`invalid UTF-8 (byte ${hex(b)}) at byte ${offset}`, offset);
}

function unpairedSurrogate(offset: number): InvalidJsonError {
  return new InvalidJsonError(`unpaired UTF-16 surrogate in the \\u escape at byte ${offset}`, offset);
}

function keyTooLong(offset: number): JsonLimitError {
  return new JsonLimitError(`object key longer than ${MAX_KEY_BYTES} bytes at byte ${offset}`, offset);
}
