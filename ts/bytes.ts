/** Byte helpers shared by the façade, the codec and the pure-TS engine. */

import { MetaStoreError } from './errors.js';

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

/** UTF-8 bytes of a string, or the bytes themselves. Throws ERR_INVALID_TYPE for anything else. */
export function toBytes(input: Bytes, what = 'key'): Uint8Array {
  if (typeof input === 'string') return input.length <= SHORT_ASCII ? shortToBytes(input) : encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  throw new MetaStoreError('ERR_INVALID_TYPE', `${what} must be a string or a Uint8Array, got ${describe(input)}`);
}

function shortToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(text);
    out[i] = c;
  }
  return out;
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
      // A copy, never `prefix.slice()`: on a Buffer that is a view of the caller's memory.
      const end = new Uint8Array(prefix.subarray(0, i + 1));
      end[i]! += 1;
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
 * ASCII), the rest goes through encodeInto.
 */
export function encodeTextInto(text: string, buf: Uint8Array, at: number): number {
  if (text.length > SHORT_STRING) return utf8.encodeInto(text, at === 0 ? buf : buf.subarray(at)).written;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return i + utf8.encodeInto(text.slice(i), buf.subarray(at + i)).written;
    buf[at + i] = c;
  }
  return text.length;
}
