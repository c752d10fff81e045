/**
 * Bytes ⇄ "binary strings": one char per byte (0–255), the engine's in-memory form of keys and
 * values. JS string comparison on them is bytewise memcmp order, Map hashing works on them, and a
 * V8 one-byte string costs far less to make and hold than a small Uint8Array (which needs its own
 * ArrayBuffer once it passes 64 bytes). Never TextDecoder('latin1'): that is windows-1252.
 */

import { Buffer } from 'node:buffer';

type SliceFn = (this: Uint8Array, start: number, end: number) => string;

// Node's latin1Slice works on any Uint8Array receiver, so the caller's batch needs no Buffer view.
const nativeSlice = (Buffer.prototype as unknown as { latin1Slice?: SliceFn }).latin1Slice;
const slice: SliceFn =
  nativeSlice ??
  function (this: Uint8Array, start: number, end: number): string {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('latin1', start, end);
  };

const F = String.fromCharCode;

/** Bytes [start, end) of `b` as a binary string. */
export function latin1(b: Uint8Array, start: number, end: number): string {
  const s = start;
  // Short keys and values are the hot path of a put: one fromCharCode call beats a native call.
  switch (end - start) {
    case 0:
      return '';
    case 1:
      return F(b[s]!);
    case 2:
      return F(b[s]!, b[s + 1]!);
    case 3:
      return F(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12:
      return F(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    default:
      return slice.call(b, start, end);
  }
}

const EMPTY = new Uint8Array(0);

/** A fresh Uint8Array (never a Buffer) holding the bytes of a binary string. */
export function bytesOf(s: string): Uint8Array {
  const n = s.length;
  if (n === 0) return EMPTY;
  if (n <= 32) {
    // Small typed arrays live on the V8 heap: a plain copy loop is the cheapest way to fill them.
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = s.charCodeAt(i);
    return a;
  }
  // Buffer.from copies natively (small ones into Node's shared pool); hand out a plain view of it.
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, n);
}
