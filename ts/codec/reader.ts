/** Reading batches of the op codec, version 1 (docs/codec.md), once validated. */

import type { Compare, CompareResult, CompareTarget, Op, RangeOp, RequestOp, SortOrder, SortTarget } from '../types.js';
import {
  BATCH_HEADER_BYTES,
  COMPACT_FIXED,
  COMPARE_FIXED,
  CompactFlag,
  DELETE_FIXED,
  DeleteFlag,
  LEASE_GRANT_FIXED,
  LEASE_REVOKE_FIXED,
  OpType,
  PUT_FIXED,
  PutFlag,
  RANGE_FIXED,
  RangeFlag,
  readI64,
  TXN_FIXED,
} from './constants.js';

/**
 * Reads a batch op by op without allocating: after `next()`, the fields describe the current op
 * as offsets into `bytes`. Construct it only over a batch that `validateBatch` accepted. A TXN
 * op is described by `opStart`/`opEnd` only; decode it with {@link decodeOpAt}.
 */
export class BatchReader {
  readonly count: number;
  index = -1;
  type = 0;
  flags = 0;
  /** PUT: the lease; LEASE_GRANT / LEASE_REVOKE: the lease id; COMPACT: the revision. */
  lease = 0;
  /** LEASE_GRANT: the TTL. */
  ttl = 0;
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
  opStart = 0;
  opEnd = 0;
  private pos = BATCH_HEADER_BYTES;
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.count = this.view.getUint32(4, true);
  }

  next(): boolean {
    if (this.index + 1 >= this.count) return false;
    this.index++;
    const v = this.view;
    const p = this.pos;
    this.opStart = p;
    this.type = this.bytes[p]!;
    this.flags = this.bytes[p + 1]!;
    let keyLen = 0;
    let dataLen = 0;
    let body: number;
    switch (this.type) {
      case OpType.PUT:
        this.lease = readI64(v, p + 2);
        keyLen = v.getUint32(p + 10, true);
        dataLen = v.getUint32(p + 14, true);
        body = p + PUT_FIXED;
        break;
      case OpType.DELETE_RANGE:
        keyLen = v.getUint32(p + 2, true);
        dataLen = v.getUint32(p + 6, true);
        body = p + DELETE_FIXED;
        break;
      case OpType.RANGE:
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
        break;
      case OpType.TXN:
        this.pos = this.opEnd = skipOp(this.bytes, v, p);
        this.keyStart = this.keyEnd = this.dataStart = this.dataEnd = this.pos;
        return true;
      case OpType.LEASE_GRANT:
        this.lease = readI64(v, p + 2);
        this.ttl = readI64(v, p + 10);
        body = p + LEASE_GRANT_FIXED;
        break;
      default: // LEASE_REVOKE, COMPACT
        this.lease = readI64(v, p + 2);
        this.revision = this.lease;
        body = p + LEASE_REVOKE_FIXED;
    }
    this.keyStart = body;
    this.keyEnd = body + keyLen;
    this.dataStart = this.keyEnd;
    this.dataEnd = this.keyEnd + dataLen;
    this.pos = this.opEnd = this.dataEnd;
    return true;
  }
}

/** The offset just after the (validated) op at `p`. */
export function skipOp(bytes: Uint8Array, view: DataView, p: number): number {
  switch (bytes[p]) {
    case OpType.PUT:
      return p + PUT_FIXED + view.getUint32(p + 10, true) + view.getUint32(p + 14, true);
    case OpType.DELETE_RANGE:
      return p + DELETE_FIXED + view.getUint32(p + 2, true) + view.getUint32(p + 6, true);
    case OpType.RANGE:
      return p + RANGE_FIXED + view.getUint32(p + 52, true) + view.getUint32(p + 56, true);
    case OpType.TXN: {
      const compares = view.getUint32(p + 2, true);
      const ops = view.getUint32(p + 6, true) + view.getUint32(p + 10, true);
      let q = p + TXN_FIXED;
      for (let i = 0; i < compares; i++) {
        q += COMPARE_FIXED + view.getUint32(q + 10, true) + view.getUint32(q + 14, true) + view.getUint32(q + 18, true);
      }
      for (let i = 0; i < ops; i++) q = skipOp(bytes, view, q);
      return q;
    }
    case OpType.LEASE_GRANT:
      return p + LEASE_GRANT_FIXED;
    default:
      return p + COMPACT_FIXED;
  }
}

/** Decodes the (validated) op at `p` into an object; keys and values are views of `bytes`. */
export function decodeOpAt(bytes: Uint8Array, view: DataView, p: number): [Op, number] {
  const type = bytes[p]!;
  const flags = bytes[p + 1]!;
  switch (type) {
    case OpType.PUT: {
      const keyLen = view.getUint32(p + 10, true);
      const valueLen = view.getUint32(p + 14, true);
      const k = p + PUT_FIXED;
      const op: Op = {
        type: 'put',
        key: bytes.subarray(k, k + keyLen),
        value: bytes.subarray(k + keyLen, k + keyLen + valueLen),
        lease: readI64(view, p + 2),
        prevKv: (flags & PutFlag.PREV_KV) !== 0,
        ignoreValue: (flags & PutFlag.IGNORE_VALUE) !== 0,
        ignoreLease: (flags & PutFlag.IGNORE_LEASE) !== 0,
      };
      return [op, k + keyLen + valueLen];
    }
    case OpType.DELETE_RANGE: {
      const keyLen = view.getUint32(p + 2, true);
      const endLen = view.getUint32(p + 6, true);
      const k = p + DELETE_FIXED;
      const op: Op = {
        type: 'deleteRange',
        key: bytes.subarray(k, k + keyLen),
        rangeEnd: bytes.subarray(k + keyLen, k + keyLen + endLen),
        prevKv: (flags & DeleteFlag.PREV_KV) !== 0,
      };
      return [op, k + keyLen + endLen];
    }
    case OpType.RANGE: {
      const keyLen = view.getUint32(p + 52, true);
      const endLen = view.getUint32(p + 56, true);
      const k = p + RANGE_FIXED;
      const op: RangeOp = {
        type: 'range',
        key: bytes.subarray(k, k + keyLen),
        rangeEnd: bytes.subarray(k + keyLen, k + keyLen + endLen),
        sortOrder: bytes[p + 2]! as SortOrder,
        sortTarget: bytes[p + 3]! as SortTarget,
        limit: readI64(view, p + 4),
        revision: readI64(view, p + 12),
        minModRevision: readI64(view, p + 20),
        maxModRevision: readI64(view, p + 28),
        minCreateRevision: readI64(view, p + 36),
        maxCreateRevision: readI64(view, p + 44),
        keysOnly: (flags & RangeFlag.KEYS_ONLY) !== 0,
        countOnly: (flags & RangeFlag.COUNT_ONLY) !== 0,
        serializable: (flags & RangeFlag.SERIALIZABLE) !== 0,
      };
      return [op, k + keyLen + endLen];
    }
    case OpType.TXN: {
      const nCompare = view.getUint32(p + 2, true);
      const nSuccess = view.getUint32(p + 6, true);
      const nFailure = view.getUint32(p + 10, true);
      let q = p + TXN_FIXED;
      const compare: Compare[] = [];
      for (let i = 0; i < nCompare; i++) {
        const keyLen = view.getUint32(q + 10, true);
        const endLen = view.getUint32(q + 14, true);
        const valueLen = view.getUint32(q + 18, true);
        const k = q + COMPARE_FIXED;
        compare.push({
          target: bytes[q]! as CompareTarget,
          result: bytes[q + 1]! as CompareResult,
          operand: readI64(view, q + 2),
          key: bytes.subarray(k, k + keyLen),
          rangeEnd: bytes.subarray(k + keyLen, k + keyLen + endLen),
          value: bytes.subarray(k + keyLen + endLen, k + keyLen + endLen + valueLen),
        });
        q = k + keyLen + endLen + valueLen;
      }
      const branch = (n: number): RequestOp[] => {
        const ops: RequestOp[] = [];
        for (let i = 0; i < n; i++) {
          const [op, next] = decodeOpAt(bytes, view, q);
          ops.push(op as RequestOp);
          q = next;
        }
        return ops;
      };
      const success = branch(nSuccess);
      const failure = branch(nFailure);
      return [{ type: 'txn', compare, success, failure }, q];
    }
    case OpType.LEASE_GRANT:
      return [{ type: 'leaseGrant', id: readI64(view, p + 2), ttl: readI64(view, p + 10) }, p + LEASE_GRANT_FIXED];
    case OpType.LEASE_REVOKE:
      return [{ type: 'leaseRevoke', id: readI64(view, p + 2) }, p + LEASE_REVOKE_FIXED];
    default:
      return [{ type: 'compact', revision: readI64(view, p + 2), physical: (flags & CompactFlag.PHYSICAL) !== 0 }, p + COMPACT_FIXED];
  }
}
