/** Reading batches of the op codec, version 1 (docs/codec.md), once validated. */

import type { Compare, CompareResult, CompareTarget, Op, RangeOp, RequestOp, SortOrder, SortTarget } from '../types.js';
import {
  BATCH_HEADER_BYTES,
  BatchOffsets,
  COMPACT_FIXED,
  CompactFlag,
  CompactOffsets,
  COMPARE_FIXED,
  CompareOffsets,
  DELETE_FIXED,
  DeleteFlag,
  DeleteRangeOffsets,
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
  readI64,
  TXN_FIXED,
  TxnOffsets,
} from './constants.js';

// The layout (formats/codec.mjs) as this module's own consts: V8 folds a module's consts, and
// their fields, into the code that reads them; an imported binding costs a load at every use.
const OpAt = OpHeaderOffsets;
const PutAt = PutOffsets;
const DeleteAt = DeleteRangeOffsets;
const RangeAt = RangeOffsets;
const TxnAt = TxnOffsets;
const CompareAt = CompareOffsets;
const LeaseGrantAt = LeaseGrantOffsets;
const LeaseRevokeAt = LeaseRevokeOffsets;
const CompactAt = CompactOffsets;

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
    this.count = this.view.getUint32(BatchOffsets.count, true);
  }

  next(): boolean {
    if (this.index + 1 >= this.count) return false;
    this.index++;
    const v = this.view;
    const p = this.pos;
    this.opStart = p;
    this.type = this.bytes[p + OpAt.type]!;
    this.flags = this.bytes[p + OpAt.flags]!;
    let keyLen = 0;
    let dataLen = 0;
    let body: number;
    switch (this.type) {
      case OpType.PUT:
        this.lease = readI64(v, p + PutAt.lease);
        keyLen = v.getUint32(p + PutAt.keyLen, true);
        dataLen = v.getUint32(p + PutAt.valueLen, true);
        body = p + PutAt.key;
        break;
      case OpType.DELETE_RANGE:
        keyLen = v.getUint32(p + DeleteAt.keyLen, true);
        dataLen = v.getUint32(p + DeleteAt.endLen, true);
        body = p + DeleteAt.key;
        break;
      case OpType.RANGE:
        this.sortOrder = this.bytes[p + RangeAt.sortOrder]!;
        this.sortTarget = this.bytes[p + RangeAt.sortTarget]!;
        this.limit = readI64(v, p + RangeAt.limit);
        this.revision = readI64(v, p + RangeAt.revision);
        this.minModRevision = readI64(v, p + RangeAt.minModRevision);
        this.maxModRevision = readI64(v, p + RangeAt.maxModRevision);
        this.minCreateRevision = readI64(v, p + RangeAt.minCreateRevision);
        this.maxCreateRevision = readI64(v, p + RangeAt.maxCreateRevision);
        keyLen = v.getUint32(p + RangeAt.keyLen, true);
        dataLen = v.getUint32(p + RangeAt.endLen, true);
        body = p + RangeAt.key;
        break;
      case OpType.TXN:
        this.pos = this.opEnd = skipOp(this.bytes, v, p);
        this.keyStart = this.keyEnd = this.dataStart = this.dataEnd = this.pos;
        return true;
      case OpType.LEASE_GRANT:
        this.lease = readI64(v, p + LeaseGrantAt.id);
        this.ttl = readI64(v, p + LeaseGrantAt.ttl);
        body = p + LEASE_GRANT_FIXED;
        break;
      case OpType.LEASE_REVOKE:
        this.lease = readI64(v, p + LeaseRevokeAt.id);
        this.revision = this.lease;
        body = p + LEASE_REVOKE_FIXED;
        break;
      default: // COMPACT
        this.lease = readI64(v, p + CompactAt.revision);
        this.revision = this.lease;
        body = p + COMPACT_FIXED;
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
  switch (bytes[p + OpAt.type]) {
    case OpType.PUT:
      return p + PUT_FIXED + view.getUint32(p + PutAt.keyLen, true) + view.getUint32(p + PutAt.valueLen, true);
    case OpType.DELETE_RANGE:
      return p + DELETE_FIXED + view.getUint32(p + DeleteAt.keyLen, true) + view.getUint32(p + DeleteAt.endLen, true);
    case OpType.RANGE:
      return p + RANGE_FIXED + view.getUint32(p + RangeAt.keyLen, true) + view.getUint32(p + RangeAt.endLen, true);
    case OpType.TXN: {
      const compares = view.getUint32(p + TxnAt.compareCount, true);
      const ops = view.getUint32(p + TxnAt.successCount, true) + view.getUint32(p + TxnAt.failureCount, true);
      let q = p + TXN_FIXED;
      for (let i = 0; i < compares; i++) {
        q +=
          COMPARE_FIXED +
          view.getUint32(q + CompareAt.keyLen, true) +
          view.getUint32(q + CompareAt.endLen, true) +
          view.getUint32(q + CompareAt.valueLen, true);
      }
      for (let i = 0; i < ops; i++) q = skipOp(bytes, view, q);
      return q;
    }
    case OpType.LEASE_GRANT:
      return p + LEASE_GRANT_FIXED;
    case OpType.LEASE_REVOKE:
      return p + LEASE_REVOKE_FIXED;
    default:
      return p + COMPACT_FIXED;
  }
}

/** Decodes the (validated) op at `p` into an object; keys and values are views of `bytes`. */
export function decodeOpAt(bytes: Uint8Array, view: DataView, p: number): [Op, number] {
  const type = bytes[p + OpAt.type]!;
  const flags = bytes[p + OpAt.flags]!;
  switch (type) {
    case OpType.PUT: {
      const keyLen = view.getUint32(p + PutAt.keyLen, true);
      const valueLen = view.getUint32(p + PutAt.valueLen, true);
      const k = p + PutAt.key;
      const op: Op = {
        type: 'put',
        key: bytes.subarray(k, k + keyLen),
        value: bytes.subarray(k + keyLen, k + keyLen + valueLen),
        lease: readI64(view, p + PutAt.lease),
        prevKv: (flags & PutFlag.PREV_KV) !== 0,
        ignoreValue: (flags & PutFlag.IGNORE_VALUE) !== 0,
        ignoreLease: (flags & PutFlag.IGNORE_LEASE) !== 0,
      };
      return [op, k + keyLen + valueLen];
    }
    case OpType.DELETE_RANGE: {
      const keyLen = view.getUint32(p + DeleteAt.keyLen, true);
      const endLen = view.getUint32(p + DeleteAt.endLen, true);
      const k = p + DeleteAt.key;
      const op: Op = {
        type: 'deleteRange',
        key: bytes.subarray(k, k + keyLen),
        rangeEnd: bytes.subarray(k + keyLen, k + keyLen + endLen),
        prevKv: (flags & DeleteFlag.PREV_KV) !== 0,
      };
      return [op, k + keyLen + endLen];
    }
    case OpType.RANGE: {
      const keyLen = view.getUint32(p + RangeAt.keyLen, true);
      const endLen = view.getUint32(p + RangeAt.endLen, true);
      const k = p + RangeAt.key;
      const op: RangeOp = {
        type: 'range',
        key: bytes.subarray(k, k + keyLen),
        rangeEnd: bytes.subarray(k + keyLen, k + keyLen + endLen),
        sortOrder: bytes[p + RangeAt.sortOrder]! as SortOrder,
        sortTarget: bytes[p + RangeAt.sortTarget]! as SortTarget,
        limit: readI64(view, p + RangeAt.limit),
        revision: readI64(view, p + RangeAt.revision),
        minModRevision: readI64(view, p + RangeAt.minModRevision),
        maxModRevision: readI64(view, p + RangeAt.maxModRevision),
        minCreateRevision: readI64(view, p + RangeAt.minCreateRevision),
        maxCreateRevision: readI64(view, p + RangeAt.maxCreateRevision),
        keysOnly: (flags & RangeFlag.KEYS_ONLY) !== 0,
        countOnly: (flags & RangeFlag.COUNT_ONLY) !== 0,
        serializable: (flags & RangeFlag.SERIALIZABLE) !== 0,
      };
      return [op, k + keyLen + endLen];
    }
    case OpType.TXN: {
      const nCompare = view.getUint32(p + TxnAt.compareCount, true);
      const nSuccess = view.getUint32(p + TxnAt.successCount, true);
      const nFailure = view.getUint32(p + TxnAt.failureCount, true);
      let q = p + TxnAt.compares;
      const compare: Compare[] = [];
      for (let i = 0; i < nCompare; i++) {
        const keyLen = view.getUint32(q + CompareAt.keyLen, true);
        const endLen = view.getUint32(q + CompareAt.endLen, true);
        const valueLen = view.getUint32(q + CompareAt.valueLen, true);
        const k = q + CompareAt.key;
        compare.push({
          target: bytes[q + CompareAt.target]! as CompareTarget,
          result: bytes[q + CompareAt.result]! as CompareResult,
          operand: readI64(view, q + CompareAt.operand),
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
      return [{ type: 'leaseGrant', id: readI64(view, p + LeaseGrantAt.id), ttl: readI64(view, p + LeaseGrantAt.ttl) }, p + LEASE_GRANT_FIXED];
    case OpType.LEASE_REVOKE:
      return [{ type: 'leaseRevoke', id: readI64(view, p + LeaseRevokeAt.id) }, p + LEASE_REVOKE_FIXED];
    default:
      return [{ type: 'compact', revision: readI64(view, p + CompactAt.revision), physical: (flags & CompactFlag.PHYSICAL) !== 0 }, p + COMPACT_FIXED];
  }
}
