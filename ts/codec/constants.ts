/**
 * Constants of the op codec, version 1: the layout, generated from formats/codec.mjs into
 * ./layout.ts (docs/formats.md), and the integer helpers its readers share.
 */

export * from './layout.js';

export const TWO_32 = 0x1_0000_0000;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Reads a little-endian u32 straight from the bytes (no DataView needed). */
export function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Reads an i64 field; NaN when it is not a safe integer. */
export function readI64(view: DataView, at: number): number {
  const hi = view.getInt32(at + 4, true);
  const n = hi * TWO_32 + view.getUint32(at, true);
  return n > MAX_SAFE || n < -MAX_SAFE ? Number.NaN : n;
}

/** The highest value of an enum of the layout (SortOrder, CompareTarget, ...; each runs from 0 up). */
export function enumMax(values: Readonly<Record<string, number>>): number {
  return Math.max(...Object.values(values));
}

export function isEnum(value: unknown, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max;
}
