/** Writing batches in the op codec, version 1 (docs/codec.md). */

import { encodeTextInto, type Bytes } from './bytes.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from '../errors.js';
import type { Op, RangeOp } from '../types.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_MAGIC,
  BatchOffsets,
  CODEC_VERSION,
  COMPACT_FIXED,
  CompactFlag,
  CompactOffsets,
  COMPARE_FIXED,
  CompareOffsets,
  CompareResult,
  CompareTarget,
  DELETE_FIXED,
  DeleteFlag,
  DeleteRangeOffsets,
  enumMax,
  isEnum,
  LEASE_GRANT_FIXED,
  LEASE_REVOKE_FIXED,
  LeaseGrantOffsets,
  LeaseRevokeOffsets,
  OpHeaderOffsets,
  OpType,
  PUT_FIXED,
  PutFlag,
  PutOffsets,
  RANGE_FIXED,
  RangeFlag,
  RangeOffsets,
  SortOrder,
  SortTarget,
  TWO_32,
  TXN_FIXED,
  TxnOffsets,
} from './constants.js';

// The layout (formats/codec.mjs) as this module's own consts: V8 folds a module's consts, and
// their fields, into the code that reads them; an imported binding costs a load at every use.
const [MAGIC0, MAGIC1, MAGIC2] = BATCH_MAGIC;
const BatchAt = BatchOffsets;
const OpAt = OpHeaderOffsets;
const PutAt = PutOffsets;
const DeleteAt = DeleteRangeOffsets;
const RangeAt = RangeOffsets;
const TxnAt = TxnOffsets;
const CompareAt = CompareOffsets;
const LeaseGrantAt = LeaseGrantOffsets;
const LeaseRevokeAt = LeaseRevokeOffsets;
const CompactAt = CompactOffsets;
const SORT_ORDER_MAX = enumMax(SortOrder);
const SORT_TARGET_MAX = enumMax(SortTarget);
const COMPARE_TARGET_MAX = enumMax(CompareTarget);
const COMPARE_RESULT_MAX = enumMax(CompareResult);

/** Options of a put as the codec carries them. */
export interface PutFields {
  /** Lease to attach the key to; 0 or absent = none (detaches the key unless `ignoreLease`). A safe integer. */
  lease?: number;
  /** Ask for the key-value as it was before the put (flag PREV_KV). */
  prevKv?: boolean;
  /** Keep the current value; the value written must be empty (flag IGNORE_VALUE). */
  ignoreValue?: boolean;
  /** Keep the current lease; `lease` must be 0 (flag IGNORE_LEASE). */
  ignoreLease?: boolean;
}

/** Fields of a range request; see {@link RangeOp}. */
export type RangeFields = Partial<Omit<RangeOp, 'type' | 'key'>>;

/** A compare as the writer takes it (unset numbers are 0, unset bytes empty). */
export interface CompareFields {
  key: Bytes;
  rangeEnd?: Bytes;
  target: CompareTarget;
  result: CompareResult;
  operand?: number;
  value?: Bytes;
}

/**
 * Builds one batch. Strings are UTF-8 encoded straight into the batch buffer (one with a lone
 * surrogate, which UTF-8 cannot carry, throws ERR_INVALID_TYPE). The writer can be
 * reused: {@link BatchWriter.reset} starts a new batch in the same memory.
 */
export class BatchWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = BATCH_HEADER_BYTES;
  private ops = 0;

  /** `initial`: a starting size in bytes, or a buffer to write into until it is outgrown. */
  constructor(initial: number | Uint8Array = 256) {
    this.buf = typeof initial === 'number' ? new Uint8Array(Math.max(initial, 64)) : initial;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.reset();
  }

  /** Number of ops written so far. */
  get count(): number {
    return this.ops;
  }

  /** Bytes written so far, header included. */
  get byteLength(): number {
    return this.pos;
  }

  /** Empties the writer to start a new batch (header rewritten, op count 0); earlier {@link BatchWriter.peek} views become invalid. */
  reset(): this {
    this.buf[BatchAt.magic] = MAGIC0;
    this.buf[BatchAt.magic + 1] = MAGIC1;
    this.buf[BatchAt.magic + 2] = MAGIC2;
    this.buf[BatchAt.version] = CODEC_VERSION;
    this.pos = BATCH_HEADER_BYTES;
    this.ops = 0;
    return this;
  }

  /**
   * Appends a PUT of `key` = `value` (strings as UTF-8). Throws ERR_INVALID_OPTION for a lease that
   * is not a safe integer; key and value limits are checked when the batch is validated.
   */
  put(key: Bytes, value: Bytes, fields?: PutFields): this {
    const lease = fields?.lease ?? 0;
    let flags = 0;
    if (fields?.prevKv) flags |= PutFlag.PREV_KV;
    if (fields?.ignoreValue) flags |= PutFlag.IGNORE_VALUE;
    if (fields?.ignoreLease) flags |= PutFlag.IGNORE_LEASE;
    const start = this.pos;
    this.ensure(PUT_FIXED + maxLen(key) + maxLen(value));
    this.buf[start + PutAt.type] = OpType.PUT;
    this.buf[start + PutAt.flags] = flags;
    this.i64(start + PutAt.lease, lease);
    let p = start + PutAt.key;
    const keyLen = this.bytes(p, key, 'key');
    p += keyLen;
    const valueLen = this.bytes(p, value, 'value');
    this.view.setUint32(start + PutAt.keyLen, keyLen, true);
    this.view.setUint32(start + PutAt.valueLen, valueLen, true);
    this.pos = p + valueLen;
    this.ops++;
    return this;
  }

  /** Deletes `key`, or the range [key, rangeEnd) when `rangeEnd` is non-empty. */
  deleteRange(key: Bytes, rangeEnd?: Bytes, prevKv = false): this {
    const end = rangeEnd ?? EMPTY;
    const start = this.pos;
    this.ensure(DELETE_FIXED + maxLen(key) + maxLen(end));
    this.buf[start + DeleteAt.type] = OpType.DELETE_RANGE;
    this.buf[start + DeleteAt.flags] = prevKv ? DeleteFlag.PREV_KV : 0;
    let p = start + DeleteAt.key;
    const keyLen = this.bytes(p, key, 'key');
    p += keyLen;
    const endLen = this.bytes(p, end, 'range end');
    this.view.setUint32(start + DeleteAt.keyLen, keyLen, true);
    this.view.setUint32(start + DeleteAt.endLen, endLen, true);
    this.pos = p + endLen;
    this.ops++;
    return this;
  }

  /**
   * Appends a RANGE read of `key`, or of [key, rangeEnd) with `fields.rangeEnd`; unset numbers are
   * 0 ("unset"). Throws ERR_INVALID_SORT for a sort order/target out of range, ERR_INVALID_OPTION
   * for a number that is not a safe integer.
   */
  range(key: Bytes, fields?: RangeFields): this {
    const end = fields?.rangeEnd ?? EMPTY;
    let flags = 0;
    if (fields?.keysOnly) flags |= RangeFlag.KEYS_ONLY;
    if (fields?.countOnly) flags |= RangeFlag.COUNT_ONLY;
    if (fields?.serializable) flags |= RangeFlag.SERIALIZABLE;
    const sortOrder = fields?.sortOrder ?? 0;
    const sortTarget = fields?.sortTarget ?? 0;
    if (!isEnum(sortOrder, SORT_ORDER_MAX) || !isEnum(sortTarget, SORT_TARGET_MAX)) throw errorFromNumber(ErrorNumber.INVALID_SORT);
    const start = this.pos;
    this.ensure(RANGE_FIXED + maxLen(key) + maxLen(end));
    const b = this.buf;
    b[start + RangeAt.type] = OpType.RANGE;
    b[start + RangeAt.flags] = flags;
    b[start + RangeAt.sortOrder] = sortOrder;
    b[start + RangeAt.sortTarget] = sortTarget;
    this.i64(start + RangeAt.limit, fields?.limit ?? 0);
    this.i64(start + RangeAt.revision, fields?.revision ?? 0);
    this.i64(start + RangeAt.minModRevision, fields?.minModRevision ?? 0);
    this.i64(start + RangeAt.maxModRevision, fields?.maxModRevision ?? 0);
    this.i64(start + RangeAt.minCreateRevision, fields?.minCreateRevision ?? 0);
    this.i64(start + RangeAt.maxCreateRevision, fields?.maxCreateRevision ?? 0);
    let p = start + RangeAt.key;
    const keyLen = this.bytes(p, key, 'key');
    p += keyLen;
    const endLen = this.bytes(p, end, 'range end');
    this.view.setUint32(start + RangeAt.keyLen, keyLen, true);
    this.view.setUint32(start + RangeAt.endLen, endLen, true);
    this.pos = p + endLen;
    this.ops++;
    return this;
  }

  /**
   * A transaction. Its branches' ops are written by `success` and `failure`, which receive this
   * writer (nested transactions included); their ops do not count as top-level ops.
   */
  txn(compare: readonly CompareFields[], success: (w: BatchWriter) => void, failure: (w: BatchWriter) => void): this {
    const start = this.pos;
    this.ensure(TXN_FIXED);
    this.buf[start + TxnAt.type] = OpType.TXN;
    this.buf[start + TxnAt.flags] = 0;
    this.view.setUint32(start + TxnAt.compareCount, compare.length, true);
    this.pos = start + TxnAt.compares;
    for (const c of compare) this.compare(c);
    const top = this.ops;
    success(this);
    const successCount = this.ops - top;
    failure(this);
    const failureCount = this.ops - top - successCount;
    this.view.setUint32(start + TxnAt.successCount, successCount, true);
    this.view.setUint32(start + TxnAt.failureCount, failureCount, true);
    this.ops = top + 1;
    return this;
  }

  /** Appends a LEASE_GRANT of `ttl` seconds; `id` 0 lets the engine pick the id. Top level only: in a transaction branch it makes the batch malformed. */
  leaseGrant(id: number, ttl: number): this {
    const start = this.pos;
    this.ensure(LEASE_GRANT_FIXED);
    this.buf[start + LeaseGrantAt.type] = OpType.LEASE_GRANT;
    this.buf[start + LeaseGrantAt.flags] = 0;
    this.i64(start + LeaseGrantAt.id, id);
    this.i64(start + LeaseGrantAt.ttl, ttl);
    this.pos = start + LEASE_GRANT_FIXED;
    this.ops++;
    return this;
  }

  /** Appends a LEASE_REVOKE of lease `id` (its keys are deleted). Top level only: in a transaction branch it makes the batch malformed. */
  leaseRevoke(id: number): this {
    return this.idOp(OpType.LEASE_REVOKE, 0, LeaseRevokeAt.id, id, LEASE_REVOKE_FIXED);
  }

  /** Appends a COMPACT at `revision`; `physical` is carried but has no effect. Top level only: in a transaction branch it makes the batch malformed. */
  compact(revision: number, physical = false): this {
    return this.idOp(OpType.COMPACT, physical ? CompactFlag.PHYSICAL : 0, CompactAt.revision, revision, COMPACT_FIXED);
  }

  /** An op of a type and flags and one i64 (`n`, at `at`), `fixed` bytes long: LEASE_REVOKE, COMPACT. */
  private idOp(type: number, flags: number, at: number, n: number, fixed: number): this {
    const start = this.pos;
    this.ensure(fixed);
    this.buf[start + OpAt.type] = type;
    this.buf[start + OpAt.flags] = flags;
    this.i64(start + at, n);
    this.pos = start + fixed;
    this.ops++;
    return this;
  }

  private compare(c: CompareFields): void {
    if (!isEnum(c.target, COMPARE_TARGET_MAX) || !isEnum(c.result, COMPARE_RESULT_MAX)) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `invalid compare target ${String(c.target)} or result ${String(c.result)}`);
    }
    const end = c.rangeEnd ?? EMPTY;
    const value = c.value ?? EMPTY;
    const start = this.pos;
    this.ensure(COMPARE_FIXED + maxLen(c.key) + maxLen(end) + maxLen(value));
    this.buf[start + CompareAt.target] = c.target;
    this.buf[start + CompareAt.result] = c.result;
    this.i64(start + CompareAt.operand, c.operand ?? 0);
    let p = start + CompareAt.key;
    const keyLen = this.bytes(p, c.key, 'key');
    p += keyLen;
    const endLen = this.bytes(p, end, 'range end');
    p += endLen;
    const valueLen = this.bytes(p, value, 'value');
    this.view.setUint32(start + CompareAt.keyLen, keyLen, true);
    this.view.setUint32(start + CompareAt.endLen, endLen, true);
    this.view.setUint32(start + CompareAt.valueLen, valueLen, true);
    this.pos = p + valueLen;
  }

  /** Writes any decoded op (the inverse of {@link decodeBatch}). */
  op(op: Op): this {
    switch (op.type) {
      case 'put':
        return this.put(op.key, op.value, op);
      case 'deleteRange':
        return this.deleteRange(op.key, op.rangeEnd, op.prevKv);
      case 'range':
        return this.range(op.key, op);
      case 'txn':
        return this.txn(
          op.compare,
          (w) => op.success.forEach((o) => w.op(o)),
          (w) => op.failure.forEach((o) => w.op(o)),
        );
      case 'leaseGrant':
        return this.leaseGrant(op.id, op.ttl);
      case 'leaseRevoke':
        return this.leaseRevoke(op.id);
      case 'compact':
        return this.compact(op.revision, op.physical);
    }
  }

  /** The batch so far, as a view of the writer's memory (valid until the next write or reset). */
  peek(): Uint8Array {
    this.view.setUint32(BatchAt.count, this.ops, true);
    return this.buf.subarray(0, this.pos);
  }

  /**
   * {@link peek} without the view, for a caller that hands the writer's own memory to the native
   * engine: the batch's length when it is still in `buf` (it moves to a larger buffer when it
   * outgrows it), else -1.
   */
  lengthIn(buf: Uint8Array): number {
    if (this.buf !== buf) return -1;
    this.view.setUint32(BatchAt.count, this.ops, true);
    return this.pos;
  }

  /** A copy of the batch, safe to keep. */
  finish(): Uint8Array {
    return this.peek().slice();
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private i64(at: number, n: number): void {
    if (!Number.isSafeInteger(n)) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `expected a safe integer, got ${String(n)}`);
    }
    const hi = Math.floor(n / TWO_32);
    this.view.setUint32(at, n - hi * TWO_32, true);
    this.view.setInt32(at + 4, hi, true);
  }

  /** Writes a key, range end or value at `at` (`what` names it in errors); returns its length. */
  private bytes(at: number, data: Bytes, what: string): number {
    if (typeof data === 'string') return encodeTextInto(data, this.buf, at, what);
    // A short key is copied faster by a loop than by set()'s builtin call.
    if (data.length <= SHORT_COPY) for (let i = 0; i < data.length; i++) this.buf[at + i] = data[i]!;
    else this.buf.set(data, at);
    return data.length;
  }
}

const EMPTY = new Uint8Array(0);
const SHORT_COPY = 32;

function maxLen(data: Bytes): number {
  return typeof data === 'string' ? data.length * 3 : data.length;
}

/** Encodes ops into one batch. */
export function encodeBatch(ops: Iterable<Op>): Uint8Array {
  const w = new BatchWriter();
  for (const op of ops) w.op(op);
  return w.finish();
}
