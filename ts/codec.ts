/**
 * The op codec, version 1 (docs/codec.md): the one binary form of a batch of ops. Written here,
 * read by the Rust engine and by the pure-TS engine, later stored by the log.
 */

import { errorFromNumber, ErrorNumber, MetaStoreError } from './errors.js';
import type { Bytes } from './bytes.js';
import {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  type DeleteRangeOp,
  type Op,
  type PutOp,
  type RangeOp,
  type SortOrder,
  type SortTarget,
} from './types.js';

export const CODEC_VERSION = 1;
export const BATCH_HEADER_BYTES = 8;

export const OpType = { PUT: 1, DELETE_RANGE: 2, RANGE: 3 } as const;

export const PutFlag = { PREV_KV: 1, IGNORE_VALUE: 2, IGNORE_LEASE: 4 } as const;
export const DeleteFlag = { PREV_KV: 1 } as const;
export const RangeFlag = { KEYS_ONLY: 1, COUNT_ONLY: 2, SERIALIZABLE: 4 } as const;

const PUT_FIXED = 18; // type, flags, lease, keyLen, valueLen
const DELETE_FIXED = 10; // type, flags, keyLen, endLen
const RANGE_FIXED = 60; // type, flags, order, target, 6 × i64, keyLen, endLen
const DEFINED_FLAGS = [0, 0b111, 0b1, 0b111];

const TWO_32 = 0x1_0000_0000;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const utf8 = new TextEncoder();

/** Options of a put as the codec carries them. */
export interface PutFields {
  lease?: number;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

/** Fields of a range request; see {@link RangeOp}. */
export type RangeFields = Partial<Omit<RangeOp, 'type' | 'key'>>;

/**
 * Builds one batch. Strings are UTF-8 encoded straight into the batch buffer. The writer can be
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

  reset(): this {
    this.buf[0] = 0x4d; // M
    this.buf[1] = 0x53; // S
    this.buf[2] = 0x42; // B
    this.buf[3] = CODEC_VERSION;
    this.pos = BATCH_HEADER_BYTES;
    this.ops = 0;
    return this;
  }

  put(key: Bytes, value: Bytes, fields?: PutFields): this {
    const lease = fields?.lease ?? 0;
    let flags = 0;
    if (fields?.prevKv) flags |= PutFlag.PREV_KV;
    if (fields?.ignoreValue) flags |= PutFlag.IGNORE_VALUE;
    if (fields?.ignoreLease) flags |= PutFlag.IGNORE_LEASE;
    const start = this.pos;
    this.ensure(PUT_FIXED + maxLen(key) + maxLen(value));
    this.buf[start] = OpType.PUT;
    this.buf[start + 1] = flags;
    this.i64(start + 2, lease);
    let p = start + PUT_FIXED;
    const keyLen = this.bytes(p, key);
    p += keyLen;
    const valueLen = this.bytes(p, value);
    this.view.setUint32(start + 10, keyLen, true);
    this.view.setUint32(start + 14, valueLen, true);
    this.pos = p + valueLen;
    this.ops++;
    return this;
  }

  /** Deletes `key`, or the range [key, rangeEnd) when `rangeEnd` is non-empty. */
  deleteRange(key: Bytes, rangeEnd?: Bytes, prevKv = false): this {
    const end = rangeEnd ?? EMPTY;
    const start = this.pos;
    this.ensure(DELETE_FIXED + maxLen(key) + maxLen(end));
    this.buf[start] = OpType.DELETE_RANGE;
    this.buf[start + 1] = prevKv ? DeleteFlag.PREV_KV : 0;
    let p = start + DELETE_FIXED;
    const keyLen = this.bytes(p, key);
    p += keyLen;
    const endLen = this.bytes(p, end);
    this.view.setUint32(start + 2, keyLen, true);
    this.view.setUint32(start + 6, endLen, true);
    this.pos = p + endLen;
    this.ops++;
    return this;
  }

  range(key: Bytes, fields?: RangeFields): this {
    const end = fields?.rangeEnd ?? EMPTY;
    let flags = 0;
    if (fields?.keysOnly) flags |= RangeFlag.KEYS_ONLY;
    if (fields?.countOnly) flags |= RangeFlag.COUNT_ONLY;
    if (fields?.serializable) flags |= RangeFlag.SERIALIZABLE;
    const sortOrder = fields?.sortOrder ?? 0;
    const sortTarget = fields?.sortTarget ?? 0;
    if (!isEnum(sortOrder, 2) || !isEnum(sortTarget, 4)) throw errorFromNumber(ErrorNumber.INVALID_SORT);
    const start = this.pos;
    this.ensure(RANGE_FIXED + maxLen(key) + maxLen(end));
    const b = this.buf;
    b[start] = OpType.RANGE;
    b[start + 1] = flags;
    b[start + 2] = sortOrder;
    b[start + 3] = sortTarget;
    this.i64(start + 4, fields?.limit ?? 0);
    this.i64(start + 12, fields?.revision ?? 0);
    this.i64(start + 20, fields?.minModRevision ?? 0);
    this.i64(start + 28, fields?.maxModRevision ?? 0);
    this.i64(start + 36, fields?.minCreateRevision ?? 0);
    this.i64(start + 44, fields?.maxCreateRevision ?? 0);
    let p = start + RANGE_FIXED;
    const keyLen = this.bytes(p, key);
    p += keyLen;
    const endLen = this.bytes(p, end);
    this.view.setUint32(start + 52, keyLen, true);
    this.view.setUint32(start + 56, endLen, true);
    this.pos = p + endLen;
    this.ops++;
    return this;
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
    }
  }

  /** The batch so far, as a view of the writer's memory (valid until the next write or reset). */
  peek(): Uint8Array {
    this.view.setUint32(4, this.ops, true);
    return this.buf.subarray(0, this.pos);
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

  private bytes(at: number, data: Bytes): number {
    if (typeof data === 'string') return utf8.encodeInto(data, this.buf.subarray(at)).written;
    this.buf.set(data, at);
    return data.length;
  }
}

const EMPTY = new Uint8Array(0);

function isEnum(value: unknown, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max;
}

function maxLen(data: Bytes): number {
  return typeof data === 'string' ? data.length * 3 : data.length;
}

/** Size limits a reader checks while validating. */
export interface BatchLimits {
  maxKeyBytes?: number;
  maxValueBytes?: number;
}

/**
 * Reads a batch op by op without allocating: after `next()`, the fields describe the current op
 * as offsets into `bytes`. Construct it only over a batch that {@link validateBatch} accepted.
 */
export class BatchReader {
  readonly count: number;
  index = -1;
  type = 0;
  flags = 0;
  lease = 0;
  keyStart = 0;
  keyEnd = 0;
  /** Value (PUT) or range end (DELETE_RANGE, RANGE). */
  dataStart = 0;
  dataEnd = 0;
  sortOrder = 0;
  sortTarget = 0;
  limit = 0;
  revision = 0;
  minModRevision = 0;
  maxModRevision = 0;
  minCreateRevision = 0;
  maxCreateRevision = 0;
  private pos = BATCH_HEADER_BYTES;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.count = this.view.getUint32(4, true);
  }

  next(): boolean {
    if (this.index + 1 >= this.count) return false;
    this.index++;
    const v = this.view;
    const p = this.pos;
    this.type = this.bytes[p]!;
    this.flags = this.bytes[p + 1]!;
    let keyLen: number;
    let dataLen: number;
    let body: number;
    if (this.type === OpType.PUT) {
      this.lease = readI64(v, p + 2);
      keyLen = v.getUint32(p + 10, true);
      dataLen = v.getUint32(p + 14, true);
      body = p + PUT_FIXED;
    } else if (this.type === OpType.DELETE_RANGE) {
      keyLen = v.getUint32(p + 2, true);
      dataLen = v.getUint32(p + 6, true);
      body = p + DELETE_FIXED;
    } else {
      this.sortOrder = this.bytes[p + 2]!;
      this.sortTarget = this.bytes[p + 3]!;
      this.limit = readI64(v, p + 4);
      this.revision = readI64(v, p + 12);
      this.minModRevision = readI64(v, p + 20);
      this.maxModRevision = readI64(v, p + 28);
      this.minCreateRevision = readI64(v, p + 36);
      this.maxCreateRevision = readI64(v, p + 44);
      keyLen = v.getUint32(p + 52, true);
      dataLen = v.getUint32(p + 56, true);
      body = p + RANGE_FIXED;
    }
    this.keyStart = body;
    this.keyEnd = body + keyLen;
    this.dataStart = this.keyEnd;
    this.dataEnd = this.keyEnd + dataLen;
    this.pos = this.dataEnd;
    return true;
  }
}

/** Reads an i64 field; NaN when it is not a safe integer. */
function readI64(view: DataView, at: number): number {
  const hi = view.getInt32(at + 4, true);
  const n = hi * TWO_32 + view.getUint32(at, true);
  return n > MAX_SAFE || n < -MAX_SAFE ? Number.NaN : n;
}

/**
 * Checks a whole batch against docs/codec.md ("Validation") and returns its op count. Throws the
 * MetaStoreError of the first failing op; nothing has been applied when it throws.
 */
export function validateBatch(bytes: Uint8Array, limits?: BatchLimits): number {
  const maxKey = limits?.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxValue = limits?.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (!(bytes instanceof Uint8Array)) {
    throw new MetaStoreError('ERR_MALFORMED_BATCH', 'malformed batch (batch header): a batch must be a Uint8Array', { opIndex: -1 });
  }
  const len = bytes.length;
  if (len < BATCH_HEADER_BYTES || bytes[0] !== 0x4d || bytes[1] !== 0x53 || bytes[2] !== 0x42) {
    throw errorFromNumber(ErrorNumber.MALFORMED_BATCH, -1, 'bad magic or short header');
  }
  if (bytes[3] !== CODEC_VERSION) throw errorFromNumber(ErrorNumber.UNSUPPORTED_VERSION, -1, `version ${bytes[3]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  let p = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const fail = (num: number, detail?: string): never => {
      throw errorFromNumber(num, i, detail);
    };
    if (p + 2 > len) fail(ErrorNumber.MALFORMED_BATCH, 'truncated op');
    const type = bytes[p]!;
    const flags = bytes[p + 1]!;
    if (type < OpType.PUT || type > OpType.RANGE) fail(ErrorNumber.MALFORMED_BATCH, `unknown op type ${type}`);
    if ((flags & ~DEFINED_FLAGS[type]!) !== 0) fail(ErrorNumber.MALFORMED_BATCH, `undefined flags ${flags}`);
    const fixed = type === OpType.PUT ? PUT_FIXED : type === OpType.DELETE_RANGE ? DELETE_FIXED : RANGE_FIXED;
    if (p + fixed > len) fail(ErrorNumber.MALFORMED_BATCH, 'truncated op');
    const lenAt = type === OpType.PUT ? p + 10 : type === OpType.DELETE_RANGE ? p + 2 : p + 52;
    const keyLen = view.getUint32(lenAt, true);
    const dataLen = view.getUint32(lenAt + 4, true);
    const end = p + fixed + keyLen + dataLen;
    if (end > len) fail(ErrorNumber.MALFORMED_BATCH, 'truncated op');
    if (type === OpType.PUT) {
      if (Number.isNaN(readI64(view, p + 2))) fail(ErrorNumber.MALFORMED_BATCH, 'lease is not a safe integer');
    } else if (type === OpType.RANGE) {
      for (let at = p + 4; at < p + 52; at += 8) {
        if (Number.isNaN(readI64(view, at))) fail(ErrorNumber.MALFORMED_BATCH, 'integer field is not a safe integer');
      }
    }
    if (keyLen === 0) fail(ErrorNumber.KEY_NOT_PROVIDED);
    if (keyLen > maxKey) fail(ErrorNumber.KEY_TOO_LARGE, `${keyLen} > ${maxKey} bytes`);
    if (type === OpType.PUT) {
      if (dataLen > maxValue) fail(ErrorNumber.VALUE_TOO_LARGE, `${dataLen} > ${maxValue} bytes`);
      if ((flags & PutFlag.IGNORE_VALUE) !== 0 && dataLen !== 0) fail(ErrorNumber.VALUE_PROVIDED);
      if ((flags & PutFlag.IGNORE_LEASE) !== 0 && readI64(view, p + 2) !== 0) fail(ErrorNumber.LEASE_PROVIDED);
    } else if (type === OpType.RANGE) {
      if (bytes[p + 2]! > 2 || bytes[p + 3]! > 4) fail(ErrorNumber.INVALID_SORT);
    }
    p = end;
  }
  if (p !== len) throw errorFromNumber(ErrorNumber.MALFORMED_BATCH, -1, `${len - p} bytes after the last op`);
  return count;
}

/** Validates and decodes a batch into op objects (keys and values are views of `bytes`). */
export function decodeBatch(bytes: Uint8Array, limits?: BatchLimits): Op[] {
  validateBatch(bytes, limits);
  const ops: Op[] = [];
  const r = new BatchReader(bytes);
  while (r.next()) {
    const key = bytes.subarray(r.keyStart, r.keyEnd);
    const data = bytes.subarray(r.dataStart, r.dataEnd);
    if (r.type === OpType.PUT) {
      ops.push({
        type: 'put',
        key,
        value: data,
        lease: r.lease,
        prevKv: (r.flags & PutFlag.PREV_KV) !== 0,
        ignoreValue: (r.flags & PutFlag.IGNORE_VALUE) !== 0,
        ignoreLease: (r.flags & PutFlag.IGNORE_LEASE) !== 0,
      } satisfies PutOp);
    } else if (r.type === OpType.DELETE_RANGE) {
      ops.push({ type: 'deleteRange', key, rangeEnd: data, prevKv: (r.flags & DeleteFlag.PREV_KV) !== 0 } satisfies DeleteRangeOp);
    } else {
      ops.push({
        type: 'range',
        key,
        rangeEnd: data,
        limit: r.limit,
        revision: r.revision,
        sortOrder: r.sortOrder as SortOrder,
        sortTarget: r.sortTarget as SortTarget,
        keysOnly: (r.flags & RangeFlag.KEYS_ONLY) !== 0,
        countOnly: (r.flags & RangeFlag.COUNT_ONLY) !== 0,
        serializable: (r.flags & RangeFlag.SERIALIZABLE) !== 0,
        minModRevision: r.minModRevision,
        maxModRevision: r.maxModRevision,
        minCreateRevision: r.minCreateRevision,
        maxCreateRevision: r.maxCreateRevision,
      } satisfies RangeOp);
    }
  }
  return ops;
}

/** Encodes ops into one batch. */
export function encodeBatch(ops: Iterable<Op>): Uint8Array {
  const w = new BatchWriter();
  for (const op of ops) w.op(op);
  return w.finish();
}

function rangeInt(request: Record<string, unknown>, name: string): number {
  const value = request[name];
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `${name} must be a safe integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks a range request given to an engine directly (not through a batch) and returns it
 * complete: the same checks, in the same order, that a RANGE op of a batch gets, plus type checks
 * of the fields. Both engines call it, so both reject the same requests with the same code.
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
    limit: rangeInt(r, 'limit'),
    revision: rangeInt(r, 'revision'),
    sortOrder: (r.sortOrder ?? 0) as SortOrder,
    sortTarget: (r.sortTarget ?? 0) as SortTarget,
    keysOnly: r.keysOnly === true,
    countOnly: r.countOnly === true,
    serializable: r.serializable === true,
    minModRevision: rangeInt(r, 'minModRevision'),
    maxModRevision: rangeInt(r, 'maxModRevision'),
    minCreateRevision: rangeInt(r, 'minCreateRevision'),
    maxCreateRevision: rangeInt(r, 'maxCreateRevision'),
  };
  const maxKey = limits?.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  if (key.length === 0) throw errorFromNumber(ErrorNumber.KEY_NOT_PROVIDED);
  if (key.length > maxKey) throw errorFromNumber(ErrorNumber.KEY_TOO_LARGE, undefined, `${key.length} > ${maxKey} bytes`);
  if (!isEnum(op.sortOrder, 2) || !isEnum(op.sortTarget, 4)) throw errorFromNumber(ErrorNumber.INVALID_SORT);
  return op;
}
