/** Constants of the op codec, version 1 (docs/codec.md). */

/** The codec version this build writes and accepts (batch header byte 3); a batch of any other version is rejected with ERR_UNSUPPORTED_VERSION. */
export const CODEC_VERSION = 1;
export const BATCH_HEADER_BYTES = 8;

export const OpType = { PUT: 1, DELETE_RANGE: 2, RANGE: 3, TXN: 4, LEASE_GRANT: 5, LEASE_REVOKE: 6, COMPACT: 7 } as const;

export const PutFlag = { PREV_KV: 1, IGNORE_VALUE: 2, IGNORE_LEASE: 4 } as const;
export const DeleteFlag = { PREV_KV: 1 } as const;
export const RangeFlag = { KEYS_ONLY: 1, COUNT_ONLY: 2, SERIALIZABLE: 4 } as const;
export const CompactFlag = { PHYSICAL: 1 } as const;

/** Fixed part of each op type, in bytes (before its variable-length fields). */
export const PUT_FIXED = 18; // type, flags, lease, keyLen, valueLen
export const DELETE_FIXED = 10; // type, flags, keyLen, endLen
export const RANGE_FIXED = 60; // type, flags, order, target, 6 × i64, keyLen, endLen
export const TXN_FIXED = 14; // type, flags, compareCount, successCount, failureCount
export const COMPARE_FIXED = 22; // target, result, operand, keyLen, endLen, valueLen
export const LEASE_GRANT_FIXED = 18; // type, flags, id, ttl
export const LEASE_REVOKE_FIXED = 10; // type, flags, id
export const COMPACT_FIXED = 10; // type, flags, revision

/** Flag bits each op type defines, by type. */
export const DEFINED_FLAGS = [0, 0b111, 0b1, 0b111, 0, 0, 0, 0b1];

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

export function isEnum(value: unknown, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max;
}
