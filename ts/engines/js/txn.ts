/**
 * Transactions (docs/codec.md, "TXN" and "Compare"; etcd's server/etcdserver/txn/txn.go):
 * compares and taken-path checks on the state before the TXN, then execution of the taken path,
 * all of whose changes share one revision.
 */

import { ErrorNumber } from '../../errors.js';
import {
  CompareResult,
  CompareTarget,
  type Compare,
  type DeleteRangeResult,
  type PutResult,
  type RangeOp,
  type RangeResult,
  type RequestOp,
  type TxnOp,
  type TxnResult,
} from '../../types.js';
import type { KeyIndex, KeyRecord } from './key-index.js';
import { latin1 } from '../../codec/latin1.js';
import type { Leases } from './lessor-state.js';
import { FROM_KEY, inRange } from './range.js';

/** What a transaction needs of the store. */
export interface TxnHost {
  readonly index: KeyIndex;
  readonly leaseTable: Leases;
  /** The revision the store shows now (the TXN's new one once it changed something). */
  readonly currentRevision: number;
  readonly compacted: number;
  /**
   * A put whose checks passed: the value is bytes [start, end) of `value` (`view`: a DataView of
   * it, or null); null keeps the old value.
   */
  writePut(
    key: string,
    value: Uint8Array | null,
    view: DataView | null,
    start: number,
    end: number,
    lease: number,
    ignoreLease: boolean,
    prevKv: boolean,
  ): PutResult;
  writeDelete(key: string, end: string, prevKv: boolean): DeleteRangeResult;
  read(op: RangeOp): RangeResult;
}

function str(b: Uint8Array): string {
  return latin1(b, 0, b.length);
}

/** etcd's compareKV: the key-value's field against the compare's operand. */
function holdsFor(c: Compare, v: KeyRecord | undefined, value: string): boolean {
  let d: number;
  if (c.target === CompareTarget.VALUE) {
    const x = v === undefined ? '' : v.value!;
    d = x < value ? -1 : x > value ? 1 : 0;
  } else {
    const x = v === undefined ? 0 : field(c.target, v);
    d = x < c.operand ? -1 : x > c.operand ? 1 : 0;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return d === 0;
    case CompareResult.GREATER:
      return d > 0;
    case CompareResult.LESS:
      return d < 0;
    default: // NOT_EQUAL
      return d !== 0;
  }
}

function field(target: number, v: KeyRecord): number {
  switch (target) {
    case CompareTarget.VERSION:
      return v.version;
    case CompareTarget.CREATE:
      return v.createRevision;
    case CompareTarget.MOD:
      return v.modRevision;
    default: // LEASE
      return v.lease;
  }
}

/**
 * One compare on the current state: a missing key (or an empty range) compares as the zero
 * KeyValue, except that a VALUE compare on it is false; over a range, every key must satisfy it.
 */
export function compareHolds(index: KeyIndex, c: Compare): boolean {
  const key = str(c.key);
  const end = str(c.rangeEnd);
  const value = c.target === CompareTarget.VALUE ? str(c.value) : '';
  if (end === '') {
    const v = index.getLive(key);
    if (v === undefined) return c.target !== CompareTarget.VALUE && holdsFor(c, undefined, value);
    return holdsFor(c, v, value);
  }
  const tree = index.live;
  const lo = tree.rank(key);
  const hi = end === FROM_KEY ? tree.size : end <= key ? lo : tree.rank(end);
  if (hi <= lo) return c.target !== CompareTarget.VALUE && holdsFor(c, undefined, value);
  let all = true;
  tree.scan(lo, hi - lo, false, (rec) => (all = holdsFor(c, rec, value)));
  return all;
}

/** A delete of the taken path, for the check of IGNORE_* puts after it. */
interface DeleteSpan {
  key: string;
  end: string;
}

/**
 * Evaluates the compares of `txn` and of the TXNs nested in its taken path (appending each
 * outcome to `path`, depth first) and checks the taken path's ops, all on the state before the
 * TXN. Returns the error number of the first failing op, or 0.
 */
export function planTxn(host: TxnHost, txn: TxnOp, path: boolean[], deletes: DeleteSpan[] = []): number {
  let succeeded = true;
  for (const c of txn.compare) {
    if (!compareHolds(host.index, c)) {
      succeeded = false;
      break;
    }
  }
  path.push(succeeded);
  for (const op of succeeded ? txn.success : txn.failure) {
    const failure = checkOp(host, op, path, deletes);
    if (failure !== 0) return failure;
  }
  return 0;
}

function checkOp(host: TxnHost, op: RequestOp, path: boolean[], deletes: DeleteSpan[]): number {
  switch (op.type) {
    case 'put': {
      if (op.ignoreValue || op.ignoreLease) {
        const key = str(op.key);
        if (host.index.getLive(key) === undefined) return ErrorNumber.KEY_NOT_FOUND;
        // The duplicate-key check lets a from-key delete ([key, "\0")) through over a later put
        // of a key it covers (etcd's interval quirk). A key is put at most once on a taken path,
        // so a covered key is certainly gone when the put runs: fail here, before anything applies
        // (etcd would panic mid-apply).
        for (const d of deletes) if (inRange(key, d.key, d.end)) return ErrorNumber.KEY_NOT_FOUND;
      }
      if (op.lease !== 0 && !host.leaseTable.has(op.lease)) return ErrorNumber.LEASE_NOT_FOUND;
      return 0;
    }
    case 'deleteRange':
      deletes.push({ key: str(op.key), end: str(op.rangeEnd) });
      return 0;
    case 'range': {
      // etcd's checkRange: unlike a RANGE on its own, whose revision ≤ 0 means "latest", a
      // negative revision below the compacted one fails as compacted here.
      const rev = op.revision;
      if (rev === 0) return 0;
      if (rev > host.currentRevision) return ErrorNumber.FUTURE_REV;
      if (rev < host.compacted) return ErrorNumber.COMPACTED;
      return 0;
    }
    case 'txn':
      return planTxn(host, op, path, deletes);
  }
}

/** Runs the taken path `path` (from planTxn) of `txn`, starting at path[at.i]. */
export function executeTxn(host: TxnHost, txn: TxnOp, path: readonly boolean[], at: { i: number }): TxnResult {
  const succeeded = path[at.i++]!;
  const ops = succeeded ? txn.success : txn.failure;
  const responses: TxnResult['responses'] = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.type) {
      case 'put':
        responses[i] = host.writePut(str(op.key), op.ignoreValue ? null : op.value, null, 0, op.value.length, op.lease, op.ignoreLease, op.prevKv);
        break;
      case 'deleteRange':
        responses[i] = host.writeDelete(str(op.key), str(op.rangeEnd), op.prevKv);
        break;
      case 'range':
        responses[i] = host.read(op);
        break;
      case 'txn':
        responses[i] = executeTxn(host, op, path, at);
        break;
    }
  }
  return { type: 'txn', revision: host.currentRevision, succeeded, responses };
}
