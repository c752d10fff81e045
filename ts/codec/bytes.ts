/** Byte helpers shared by the façade, the codec and the pure-TS engine. */

import { MetaStoreError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** A key or value as users give it: UTF-8 text or raw bytes. */
export type Bytes = string | Uint8Array;

/**
 * Strings up to this many chars are encoded by a loop into a new array when they are ASCII:
 * TextEncoder.encode costs ~290 ns a call on Node 20 whatever the length, the loop 20-60 ns up to
 * ~32 chars, and arrays this small live in V8's heap (no backing-store allocation).
 */
const SHORT_ASCII = 64;

/**
 * UTF-8 bytes of a string, or the bytes themselves. Throws ERR_INVALID_TYPE for anything else,
 * for a string with a lone surrogate and for a view of a detached ArrayBuffer (see
 * {@link checkWellFormed}, {@link checkAttached}).
 */
export function toBytes(input: Bytes, what = 'key'): Uint8Array {
  if (typeof input === 'string') {
    if (input.length <= SHORT_ASCII) return shortToBytes(input, what);
    const bytes = encoder.encode(input);
    // As many bytes as chars: all ASCII, no surrogate (which takes 3 bytes), nothing to check.
    if (bytes.length !== input.length) checkWellFormed(input, what);
    return bytes;
  }
  if (input instanceof Uint8Array) {
    if (input.byteLength === 0) checkAttached(input, what);
    return input;
  }
  throw new MetaStoreError('ERR_INVALID_TYPE', `${what} must be a string or a Uint8Array, got ${describe(input)}`);
}

function shortToBytes(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      checkWellFormed(text, what); // only non-ASCII text can hold a surrogate
      return encoder.encode(text);
    }
    out[i] = c;
  }
  return out;
}

/** `String.prototype.isWellFormed` (ES2024, in Node ≥ 20; not in this build's ES2022 lib). */
interface WellFormedString {
  isWellFormed(): boolean;
}

/**
 * Throws ERR_INVALID_TYPE when `text` has a lone surrogate: UTF-8 has no encoding for one, so it
 * would be stored as U+FFFD and two different strings ('\uD800', '\uDFFF') would be one key.
 * isWellFormed costs 10-30 ns a call on Node 20, so the encoders call this for non-ASCII text only.
 */
export function checkWellFormed(text: string, what: string): void {
  if ((text as unknown as WellFormedString).isWellFormed()) return;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff;
    if (pair) i++;
    else if (c >= 0xd800 && c <= 0xdfff) {
      at = i;
      break;
    }
  }
  const unit = text.charCodeAt(at).toString(16).toUpperCase();
  throw new MetaStoreError(
    'ERR_INVALID_TYPE',
    `${what} is not well-formed Unicode: a lone surrogate U+${unit} at index ${at} has no UTF-8 encoding (it would be stored as U+FFFD)`,
  );
}

/**
 * Throws ERR_INVALID_TYPE when `bytes` is a view of a detached ArrayBuffer (transferred away, e.g.
 * by `structuredClone(buf, { transfer })`): it reads as empty, and would be stored as such. Only
 * an empty view over an empty buffer can be one, so callers check empty views only.
 */
export function checkAttached(bytes: Uint8Array, what: string): void {
  if (bytes.byteLength !== 0 || bytes.buffer.byteLength !== 0) return;
  try {
    // Node 20 has no ArrayBuffer#detached; a view over a detached buffer cannot be made.
    new Uint8Array(bytes.buffer, 0, 0);
  } catch {
    throw new MetaStoreError('ERR_INVALID_TYPE', `${what} is a view of a detached ArrayBuffer (its memory was transferred away)`);
  }
}

/** Decodes UTF-8 bytes to a string (replacement characters for invalid sequences). */
export function bytesToString(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${(value as object).constructor?.name ?? 'Object'})` : typeof value;
}

/** Bytewise comparison (memcmp order, a shorter prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `[0x00]`: as a range end, "every key from the start key on". */
export const FROM_KEY: Uint8Array = Uint8Array.of(0);

/**
 * The end of the range that holds every key starting with `prefix` (etcd's `GetPrefixRangeEnd`):
 * drop trailing 0xff bytes, increment the last byte left; all-0xff or empty → `[0x00]`. Always
 * new memory: `prefix` is never written to.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      // A copy, never `prefix.slice()`: on a Buffer that is a view of the caller's memory. Copied
      // by a loop: `new Uint8Array(prefix.subarray(..))` cost ~230 ns a call here (a view, then
      // the generic typed-array copy), the loop a few ns for a prefix of a few bytes.
      const end = new Uint8Array(i + 1);
      for (let j = 0; j < i; j++) end[j] = prefix[j]!;
      end[i] = prefix[i]! + 1;
      return end;
    }
  }
  return FROM_KEY;
}

const utf8 = new TextEncoder();
/** Strings up to this many chars are encoded by a loop (measured: faster below ~24 ASCII chars). */
const SHORT_STRING = 20;

/**
 * Writes `text` as UTF-8 into `buf` at `at` (the caller made room: 3 bytes per char) and returns
 * the bytes written. A short key costs less copied char by char than through encodeInto's fixed
 * ~50 ns; from the first non-ASCII char on (never half a surrogate pair: the char before is
 * ASCII), the rest goes through encodeInto. Throws ERR_INVALID_TYPE for a lone surrogate
 * ({@link checkWellFormed}; `what` names the argument).
 */
export function encodeTextInto(text: string, buf: Uint8Array, at: number, what = 'key'): number {
  if (text.length > SHORT_STRING) {
    const written = utf8.encodeInto(text, at === 0 ? buf : buf.subarray(at)).written;
    // As many bytes as chars: all ASCII, nothing to check (the caller ignores `buf` past its own end on a throw).
    if (written !== text.length) checkWellFormed(text, what);
    return written;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      checkWellFormed(text, what);
      return i + utf8.encodeInto(text.slice(i), buf.subarray(at + i)).written;
    }
    buf[at + i] = c;
  }
  return text.length;
}
