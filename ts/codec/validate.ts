/**
 * Validation of a whole batch before anything is applied (docs/codec.md, "Validation"), and of
 * range requests given to an engine directly. Both engines call these, so both refuse the same
 * input with the same code.
 */

import { compareBytes } from './bytes.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from '../errors.js';
import {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_TXN_DEPTH,
  DEFAULT_MAX_TXN_OPS,
  DEFAULT_MAX_VALUE_BYTES,
  MAX_LEASE_TTL,
  TXN_DEPTH_CEILING,
  type Op,
  type RangeOp,
  type RequestOp,
} from '../types.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_MAGIC,
  BatchOffsets,
  CODEC_VERSION,
  COMPACT_FIXED,
  CompactOffsets,
  COMPARE_FIXED,
  CompareOffsets,
  CompareResult,
  CompareTarget,
  DEFINED_FLAGS,
  DELETE_FIXED,
  DeleteRangeOffsets,
  enumMax,
  isEnum,
  LEASE_GRANT_FIXED,
  LEASE_REVOKE_FIXED,
  LeaseGrantOffsets,
  LeaseRevokeOffsets,
  OP_HEADER_BYTES,
  OpHeaderOffsets,
  OpType,
  PUT_FIXED,
  PutFlag,
  PutOffsets,
  RANGE_FIXED,
  RangeOffsets,
  MAX_SAFE,
  readI64,
  readU32,
  SortOrder,
  SortTarget,
  TWO_32,
  TXN_FIXED,
  TxnOffsets,
} from './constants.js';
import { decodeOpAt } from './reader.js';

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
const COMPARE_VALUE = CompareTarget.VALUE;

/** Limits a reader checks while validating. */
export interface BatchLimits {
  /** Longest key accepted, in bytes (ERR_KEY_TOO_LARGE above it). Default {@link DEFAULT_MAX_KEY_BYTES}, 1.5 MiB. */
  maxKeyBytes?: number;
  /** Longest value (also a compare's value) accepted, in bytes (ERR_VALUE_TOO_LARGE above it). Default {@link DEFAULT_MAX_VALUE_BYTES}, 1.5 MiB. */
  maxValueBytes?: number;
  /** Most compares or ops per branch of a top-level transaction (ERR_TOO_MANY_OPS above it). Default {@link DEFAULT_MAX_TXN_OPS}, 128. */
  maxTxnOps?: number;
  /** Most levels of transaction nesting (ERR_TXN_TOO_DEEP deeper). Default {@link DEFAULT_MAX_TXN_DEPTH}, 64; at most {@link TXN_DEPTH_CEILING}. */
  maxTxnDepth?: number;
}

/** The nesting limit validation enforces: `maxTxnDepth` (default 64), at most {@link TXN_DEPTH_CEILING}. */
export function txnDepthLimit(limits?: BatchLimits): number {
  return Math.min(limits?.maxTxnDepth ?? DEFAULT_MAX_TXN_DEPTH, TXN_DEPTH_CEILING);
}

interface Ctx {
  bytes: Uint8Array;
  view: DataView;
  len: number;
  maxKey: number;
  maxValue: number;
  /** Most levels of TXN nesting. */
  maxDepth: number;
  /** Top-level op index, for error reports. */
  index: number;
}

function fail(ctx: Ctx, num: number, detail?: string): never {
  throw errorFromNumber(num, ctx.index, detail);
}

const FIXED: Record<number, number> = {
  [OpType.PUT]: PUT_FIXED,
  [OpType.DELETE_RANGE]: DELETE_FIXED,
  [OpType.RANGE]: RANGE_FIXED,
  [OpType.TXN]: TXN_FIXED,
  [OpType.LEASE_GRANT]: LEASE_GRANT_FIXED,
  [OpType.LEASE_REVOKE]: LEASE_REVOKE_FIXED,
  [OpType.COMPACT]: COMPACT_FIXED,
};

function checkKey(ctx: Ctx, keyLen: number): void {
  if (keyLen === 0) fail(ctx, ErrorNumber.KEY_NOT_PROVIDED);
  if (keyLen > ctx.maxKey) fail(ctx, ErrorNumber.KEY_TOO_LARGE, `${keyLen} > ${ctx.maxKey} bytes`);
}

function safeInts(ctx: Ctx, from: number, to: number): void {
  for (let at = from; at < to; at += 8) {
    if (Number.isNaN(readI64(ctx.view, at))) fail(ctx, ErrorNumber.MALFORMED_BATCH, 'integer field is not a safe integer');
  }
}

/**
 * Validates the op at `p` and returns the offset after it. `budget`: ops allowed per TXN list;
 * `enclosingTxns`: how many TXNs hold the op (0 at top level).
 */
function validateOp(ctx: Ctx, p: number, budget: number, enclosingTxns: number): number {
  const { bytes, view, len } = ctx;
  const inTxn = enclosingTxns > 0;
  if (p + OP_HEADER_BYTES > len) fail(ctx, ErrorNumber.MALFORMED_BATCH, 'truncated op');
  const type = bytes[p + OpAt.type]!;
  const flags = bytes[p + OpAt.flags]!;
  const maxType = inTxn ? OpType.TXN : OpType.COMPACT;
  if (type < OpType.PUT || type > maxType) fail(ctx, ErrorNumber.MALFORMED_BATCH, `unknown op type ${type}${inTxn ? ' in a txn' : ''}`);
  if ((flags & ~DEFINED_FLAGS[type]!) !== 0) fail(ctx, ErrorNumber.MALFORMED_BATCH, `undefined flags ${flags}`);
  const fixed = FIXED[type]!;
  if (p + fixed > len) fail(ctx, ErrorNumber.MALFORMED_BATCH, 'truncated op');
  switch (type) {
    case OpType.TXN:
      return validateTxn(ctx, p, budget, enclosingTxns + 1);
    case OpType.LEASE_GRANT:
      safeInts(ctx, p + LeaseGrantAt.id, p + fixed);
      if (readI64(view, p + LeaseGrantAt.ttl) > MAX_LEASE_TTL) fail(ctx, ErrorNumber.LEASE_TTL_TOO_LARGE);
      return p + fixed;
    case OpType.LEASE_REVOKE:
      safeInts(ctx, p + LeaseRevokeAt.id, p + fixed);
      return p + fixed;
    case OpType.COMPACT:
      safeInts(ctx, p + CompactAt.revision, p + fixed);
      return p + fixed;
  }
  // A PUT, DELETE_RANGE or RANGE: a key and a value or range end after the fixed-size fields.
  const isPut = type === OpType.PUT;
  const isDelete = type === OpType.DELETE_RANGE;
  const keyLen = view.getUint32(p + (isPut ? PutAt.keyLen : isDelete ? DeleteAt.keyLen : RangeAt.keyLen), true);
  const dataLen = view.getUint32(p + (isPut ? PutAt.valueLen : isDelete ? DeleteAt.endLen : RangeAt.endLen), true);
  const end = p + fixed + keyLen + dataLen;
  if (end > len) fail(ctx, ErrorNumber.MALFORMED_BATCH, 'truncated op');
  if (isPut) safeInts(ctx, p + PutAt.lease, p + PutAt.keyLen);
  else if (type === OpType.RANGE) safeInts(ctx, p + RangeAt.limit, p + RangeAt.keyLen); // the six i64s
  checkKey(ctx, keyLen);
  if (type === OpType.PUT) {
    if (dataLen > ctx.maxValue) fail(ctx, ErrorNumber.VALUE_TOO_LARGE, `${dataLen} > ${ctx.maxValue} bytes`);
    if ((flags & PutFlag.IGNORE_VALUE) !== 0 && dataLen !== 0) fail(ctx, ErrorNumber.VALUE_PROVIDED);
    if ((flags & PutFlag.IGNORE_LEASE) !== 0 && readI64(view, p + PutAt.lease) !== 0) fail(ctx, ErrorNumber.LEASE_PROVIDED);
  } else if (type === OpType.RANGE) {
    if (bytes[p + RangeAt.sortOrder]! > SORT_ORDER_MAX || bytes[p + RangeAt.sortTarget]! > SORT_TARGET_MAX) fail(ctx, ErrorNumber.INVALID_SORT);
  }
  return end;
}

/**
 * Validates the TXN at `p`, at nesting `level` (1: top level). A TXN past the nesting limit is
 * refused before its branches are looked at: that bounds this recursion, and every later walk of
 * the validated tree (decoding, the duplicate check, planning and running it, its results) is
 * as deep as the tree.
 */
function validateTxn(ctx: Ctx, p: number, budget: number, level: number): number {
  const { view, len } = ctx;
  if (level > ctx.maxDepth) fail(ctx, ErrorNumber.TXN_TOO_DEEP, `more than ${ctx.maxDepth} levels of nested txn`);
  const nCompare = view.getUint32(p + TxnAt.compareCount, true);
  const nSuccess = view.getUint32(p + TxnAt.successCount, true);
  const nFailure = view.getUint32(p + TxnAt.failureCount, true);
  const opc = Math.max(nCompare, nSuccess, nFailure);
  if (opc > budget) fail(ctx, ErrorNumber.TOO_MANY_OPS, `${opc} > ${budget}`);
  let q = p + TXN_FIXED;
  for (let i = 0; i < nCompare; i++) {
    if (q + COMPARE_FIXED > len) fail(ctx, ErrorNumber.MALFORMED_BATCH, 'truncated compare');
    const target = ctx.bytes[q + CompareAt.target]!;
    const result = ctx.bytes[q + CompareAt.result]!;
    if (target > COMPARE_TARGET_MAX || result > COMPARE_RESULT_MAX) fail(ctx, ErrorNumber.MALFORMED_BATCH, `compare target ${target} / result ${result}`);
    safeInts(ctx, q + CompareAt.operand, q + CompareAt.keyLen);
    const keyLen = view.getUint32(q + CompareAt.keyLen, true);
    const endLen = view.getUint32(q + CompareAt.endLen, true);
    const valueLen = view.getUint32(q + CompareAt.valueLen, true);
    if (q + COMPARE_FIXED + keyLen + endLen + valueLen > len) fail(ctx, ErrorNumber.MALFORMED_BATCH, 'truncated compare');
    const isValue = target === COMPARE_VALUE;
    if ((isValue && readI64(view, q + CompareAt.operand) !== 0) || (!isValue && valueLen !== 0)) {
      fail(ctx, ErrorNumber.MALFORMED_BATCH, 'compare operand does not match its target');
    }
    checkKey(ctx, keyLen);
    if (valueLen > ctx.maxValue) fail(ctx, ErrorNumber.VALUE_TOO_LARGE, `${valueLen} > ${ctx.maxValue} bytes`);
    q += COMPARE_FIXED + keyLen + endLen + valueLen;
  }
  for (let i = 0; i < nSuccess + nFailure; i++) q = validateOp(ctx, q, budget - opc, level);
  // Duplicate keys once, from the top, after the whole tree checked out (etcd's order; the check
  // recurses into nested transactions itself).
  if (level === 1) {
    const [op] = decodeOpAt(ctx.bytes, view, p);
    if (op.type === 'txn') {
      checkIntervals(ctx, op.success);
      checkIntervals(ctx, op.failure);
    }
  }
  return q;
}

/** A delete interval [start, end); a point has end = undefined. */
interface Interval {
  start: Uint8Array;
  end: Uint8Array | undefined;
}

function intersects(dels: Interval[], key: Uint8Array): boolean {
  for (const d of dels) {
    if (d.end === undefined) {
      if (compareBytes(d.start, key) === 0) return true;
    } else if (compareBytes(d.start, key) <= 0 && compareBytes(key, d.end) < 0) {
      return true;
    }
  }
  return false;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** etcd's checkIntervals: returns the put keys and delete intervals of a list of ops. */
function checkIntervals(ctx: Ctx, ops: readonly RequestOp[]): [Set<string>, Interval[]] {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.type === 'deleteRange') dels.push({ start: op.key, end: op.rangeEnd.length === 0 ? undefined : op.rangeEnd });
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.type !== 'txn') continue;
    const [putsThen, delsThen] = checkIntervals(ctx, op.success);
    const [putsElse, delsElse] = checkIntervals(ctx, op.failure);
    for (const [list, isElse] of [
      [putsThen, false],
      [putsElse, true],
    ] as const) {
      for (const k of list) {
        if (puts.has(k) && !(isElse && putsThen.has(k))) fail(ctx, ErrorNumber.DUPLICATE_KEY);
        const key = Uint8Array.from(k, (c) => c.charCodeAt(0));
        if (intersects(dels, key)) fail(ctx, ErrorNumber.DUPLICATE_KEY);
        puts.add(k);
      }
    }
    dels.push(...delsThen, ...delsElse);
  }
  for (const op of ops) {
    if (op.type !== 'put') continue;
    const k = latin1(op.key);
    if (puts.has(k) || intersects(dels, op.key)) fail(ctx, ErrorNumber.DUPLICATE_KEY);
    puts.add(k);
  }
  return [puts, dels];
}

/**
 * Checks a whole batch against docs/codec.md ("Validation") and returns its op count. Throws the
 * MetaStoreError of the first failing op; nothing has been applied when it throws.
 */
export function validateBatch(bytes: Uint8Array, limits?: BatchLimits): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new MetaStoreError('ERR_MALFORMED_BATCH', 'malformed batch (batch header): a batch must be a Uint8Array', { opIndex: -1 });
  }
  const len = bytes.length;
  const magic = BatchAt.magic;
  if (len < BATCH_HEADER_BYTES || bytes[magic] !== MAGIC0 || bytes[magic + 1] !== MAGIC1 || bytes[magic + 2] !== MAGIC2) {
    throw errorFromNumber(ErrorNumber.MALFORMED_BATCH, -1, 'bad magic or short header');
  }
  const version = bytes[BatchAt.version];
  if (version !== CODEC_VERSION) throw errorFromNumber(ErrorNumber.UNSUPPORTED_VERSION, -1, `version ${version}`);
  const maxKey = limits?.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxValue = limits?.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const count = readU32(bytes, BatchAt.count);
  let p = BATCH_HEADER_BYTES;
  let i = 0;
  // Plain puts and deletes that check out need no DataView and no context; the first op that is
  // anything else, or fails a check, goes the full way (which throws the same errors, in order).
  for (; i < count; i++) {
    const next = plainOpEnd(bytes, p, len, maxKey, maxValue);
    if (next < 0) break;
    p = next;
  }
  if (i < count) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ctx: Ctx = { bytes, view, len, maxKey, maxValue, maxDepth: txnDepthLimit(limits), index: 0 };
    const budget = limits?.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    for (; i < count; i++) {
      ctx.index = i;
      p = validateOp(ctx, p, budget, 0);
    }
  }
  if (p !== len) throw errorFromNumber(ErrorNumber.MALFORMED_BATCH, -1, `${len - p} bytes after the last op`);
  return count;
}

/**
 * The end of the PUT or DELETE_RANGE at `p` when it passes every check of {@link validateOp};
 * −1 for any other op, and for one that fails (the full check then reports it).
 */
function plainOpEnd(bytes: Uint8Array, p: number, len: number, maxKey: number, maxValue: number): number {
  if (p + DELETE_FIXED > len) return -1;
  const type = bytes[p + OpAt.type]!;
  const flags = bytes[p + OpAt.flags]!;
  if (type === OpType.PUT) {
    if (p + PUT_FIXED > len || (flags & ~DEFINED_FLAGS[OpType.PUT]!) !== 0) return -1;
    const keyLen = readU32(bytes, p + PutAt.keyLen);
    const valueLen = readU32(bytes, p + PutAt.valueLen);
    const end = p + PUT_FIXED + keyLen + valueLen;
    if (end > len || keyLen === 0 || keyLen > maxKey || valueLen > maxValue) return -1;
    const hi = p + PutAt.lease + 4; // the lease's high word, signed
    const lease = (bytes[hi]! | (bytes[hi + 1]! << 8) | (bytes[hi + 2]! << 16) | (bytes[hi + 3]! << 24)) * TWO_32 + readU32(bytes, p + PutAt.lease);
    if (!(lease >= -MAX_SAFE && lease <= MAX_SAFE)) return -1;
    if ((flags & PutFlag.IGNORE_VALUE) !== 0 && valueLen !== 0) return -1;
    if ((flags & PutFlag.IGNORE_LEASE) !== 0 && lease !== 0) return -1;
    return end;
  }
  if (type === OpType.DELETE_RANGE) {
    if ((flags & ~DEFINED_FLAGS[OpType.DELETE_RANGE]!) !== 0) return -1;
    const keyLen = readU32(bytes, p + DeleteAt.keyLen);
    const end = p + DELETE_FIXED + keyLen + readU32(bytes, p + DeleteAt.endLen);
    if (end > len || keyLen === 0 || keyLen > maxKey) return -1;
    return end;
  }
  return -1;
}

/** Validates and decodes a batch into op objects (keys and values are views of `bytes`). */
export function decodeBatch(bytes: Uint8Array, limits?: BatchLimits): Op[] {
  const count = validateBatch(bytes, limits);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ops: Op[] = [];
  let p = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const [op, next] = decodeOpAt(bytes, view, p);
    ops.push(op);
    p = next;
  }
  return ops;
}

/** A numeric field of a range request (read by the caller by name: a keyed read here was megamorphic). */
function rangeInt(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `${name} must be a safe integer, got ${String(value)}`);
  }
  return value;
}

const EMPTY = new Uint8Array(0);

/**
 * Checks a range request given to an engine directly (not through a batch) and returns it
 * complete: the same checks, in the same order, that a RANGE op of a batch gets, plus type checks
 * of the fields.
 */
export function checkRangeOp(request: unknown, limits?: BatchLimits): RangeOp {
  if (request === null || typeof request !== 'object') {
    throw new MetaStoreError('ERR_INVALID_TYPE', `a range request must be an object, got ${request === null ? 'null' : typeof request}`);
  }
  const r = request as Record<string, unknown>;
  const key = r.key;
  const rangeEnd = r.rangeEnd ?? EMPTY;
  if (!(key instanceof Uint8Array)) throw new MetaStoreError('ERR_INVALID_TYPE', 'key must be a Uint8Array');
  if (!(rangeEnd instanceof Uint8Array)) throw new MetaStoreError('ERR_INVALID_TYPE', 'rangeEnd must be a Uint8Array');
  const op: RangeOp = {
    type: 'range',
    key,
    rangeEnd,
    limit: rangeInt(r.limit, 'limit'),
    revision: rangeInt(r.revision, 'revision'),
    sortOrder: (r.sortOrder ?? 0) as SortOrder,
    sortTarget: (r.sortTarget ?? 0) as SortTarget,
    keysOnly: r.keysOnly === true,
    countOnly: r.countOnly === true,
    serializable: r.serializable === true,
    minModRevision: rangeInt(r.minModRevision, 'minModRevision'),
    maxModRevision: rangeInt(r.maxModRevision, 'maxModRevision'),
    minCreateRevision: rangeInt(r.minCreateRevision, 'minCreateRevision'),
    maxCreateRevision: rangeInt(r.maxCreateRevision, 'maxCreateRevision'),
  };
  const maxKey = limits?.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  if (key.length === 0) throw errorFromNumber(ErrorNumber.KEY_NOT_PROVIDED);
  if (key.length > maxKey) throw errorFromNumber(ErrorNumber.KEY_TOO_LARGE, undefined, `${key.length} > ${maxKey} bytes`);
  if (!isEnum(op.sortOrder, SORT_ORDER_MAX) || !isEnum(op.sortTarget, SORT_TARGET_MAX)) throw errorFromNumber(ErrorNumber.INVALID_SORT);
  return op;
}
