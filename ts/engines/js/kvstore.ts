/**
 * The pure-TypeScript engine: applies codec batches (docs/codec.md) to an in-memory MVCC key index
 * with exactly the native engine's results. The counterpart of etcd's mvcc/kvstore.go (with
 * kvstore_txn.go's write path) and of the apply layer above it: this file is the apply loop and
 * the write primitives; key-index.ts holds the keys, history.ts their versions, range.ts the
 * reads, txn.ts the transactions, lessor-state.ts the leases, compact.ts compaction and
 * events.ts watch events.
 */

import { constants } from 'node:buffer';
import { toBytes } from '../../codec/bytes.js';
import type { ResolvedEngineOptions } from '../../facade/open-options.js';
import { BatchReader, checkRangeOp, decodeOpAt, DeleteFlag, OpType, PutFlag, RangeFlag, validateBatch, type BatchLimits } from '../../codec.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from '../../errors.js';
import {
  EventsMode,
  type BatchResult,
  type CompactResult,
  type DeleteRangeResult,
  type Engine,
  type ErrorResult,
  type KeyValue,
  type LeaseGrantResult,
  type LeaseInfo,
  type LeaseRevokeResult,
  type OpResult,
  type PutResult,
  type RangeOp,
  type RangeResult,
  type TxnOp,
  type TxnResult,
  type WatchEvent,
} from '../../types.js';
import { compact } from './compact.js';
import { changes, EventCapture } from './events.js';
import { KeyIndex } from './key-index.js';
import { bytesOf, latin1 } from '../../codec/latin1.js';
import { Leases } from './lessor-state.js';
import { liveIn, readRange, revisionError } from './range.js';
import { executeTxn, planTxn, type TxnHost } from './txn.js';

const IGNORE_ANY = PutFlag.IGNORE_VALUE | PutFlag.IGNORE_LEASE;
const NO_EVENTS: WatchEvent[] = [];
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class is every ASCII char, controls included.
const ASCII = /^[\x00-\x7f]*$/;
/** A text key as the engine keeps keys: one char per UTF-8 byte (a lone surrogate is refused, as by the native engine). */
function latin1OfText(text: string): string {
  const bytes = toBytes(text);
  return latin1(bytes, 0, bytes.length);
}

/** Results of one batch, built eagerly (the ops already ran); `result(i)` just hands them out. */
class JsBatchResult implements BatchResult {
  readonly size: number;

  constructor(
    private readonly results: OpResult[],
    readonly revision: number,
    private readonly capture: EventCapture | null,
  ) {
    this.size = results.length;
  }

  result(index: number): OpResult {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`result index ${index} out of 0..${this.size - 1}`);
    return this.results[index]!;
  }

  events(): WatchEvent[] {
    return this.capture === null ? NO_EVENTS.slice() : this.capture.events();
  }
}

export class JsEngine implements Engine, TxnHost {
  readonly kind = 'js' as const;
  private state: KeyIndex | null = new KeyIndex();
  /** @internal */
  readonly leaseTable = new Leases();
  private rev = 1;
  private compactRev = -1;
  /** Changes made so far by the request (top-level op) being applied: the next one's sub-revision. */
  private changeCount = 0;
  /** Set when an apply failed midway (an engine bug): the state is unknown, writes are refused. */
  private poisoned = false;
  private readonly limits: BatchLimits;
  private readonly minLeaseTtl: number;

  constructor(options: ResolvedEngineOptions) {
    // parallelThreshold and threads tune the native engine only. Keys and values live in JS
    // strings, so the size limits in effect are at most V8's longest string (2^29 − 24 chars on
    // 64-bit): a bigger key or value rejects its batch as too large during validation, where a
    // failing string copy mid-apply would leave the batch half applied.
    this.limits = {
      maxKeyBytes: Math.min(options.maxKeyBytes, constants.MAX_STRING_LENGTH),
      maxValueBytes: Math.min(options.maxValueBytes, constants.MAX_STRING_LENGTH),
      maxTxnOps: options.maxTxnOps,
      maxTxnDepth: options.maxTxnDepth,
    };
    this.minLeaseTtl = options.minLeaseTtl;
  }

  get revision(): number {
    this.open();
    return this.rev;
  }

  get size(): number {
    return this.open().size;
  }

  get compactRevision(): number {
    this.open();
    return this.compactRev;
  }

  // ---- TxnHost (txn.ts): not part of the Engine interface.

  /** @internal */
  get index(): KeyIndex {
    return this.open();
  }

  /** @internal */
  get currentRevision(): number {
    return this.rev;
  }

  /** @internal */
  get compacted(): number {
    return this.compactRev;
  }

  applyBatch(batch: Uint8Array, events: EventsMode = EventsMode.NONE): BatchResult {
    const index = this.open();
    if (this.poisoned) {
      throw new MetaStoreError('ERR_INTERNAL', 'internal engine error (batch header): an earlier apply failed midway; reopen the store', { opIndex: -1 });
    }
    if (events !== EventsMode.NONE && events !== EventsMode.EVENTS && events !== EventsMode.EVENTS_WITH_PREV) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `events mode must be 0, 1 or 2, got ${String(events)}`);
    }
    validateBatch(batch, this.limits); // throws before anything is applied
    const r = new BatchReader(batch);
    const results = new Array<OpResult>(r.count);
    const capture = events === EventsMode.NONE ? null : new EventCapture(index, events);
    try {
      while (r.next()) {
        let result: OpResult;
        switch (r.type) {
          case OpType.PUT:
            result = this.putOp(index, r, batch);
            break;
          case OpType.DELETE_RANGE:
            this.changeCount = 0;
            result = this.writeDelete(latin1(batch, r.keyStart, r.keyEnd), latin1(batch, r.dataStart, r.dataEnd), (r.flags & DeleteFlag.PREV_KV) !== 0);
            break;
          case OpType.RANGE:
            result = this.rangeOp(index, r, batch);
            break;
          case OpType.TXN:
            result = this.txnOp(decodeOpAt(batch, r.view, r.opStart)[0] as TxnOp, r.index);
            break;
          case OpType.LEASE_GRANT:
            result = this.leaseGrant(r.lease, r.ttl, r.index);
            break;
          case OpType.LEASE_REVOKE:
            result = this.leaseRevoke(index, r.lease, r.index);
            break;
          default:
            result = this.compactOp(index, r.revision, r.index, capture);
        }
        results[r.index] = result;
      }
      capture?.take();
    } catch (err) {
      // Only an engine bug gets here; report it like the native engine reports a caught panic.
      // As in the native engine, a batch that failed midway leaves the state unknown: refuse more writes.
      this.poisoned = true;
      if (err instanceof MetaStoreError) throw err;
      throw new MetaStoreError('ERR_INTERNAL', `internal engine error (op ${r.index}): ${String(err)}`, { opIndex: r.index, cause: err });
    }
    return new JsBatchResult(results, this.rev, capture);
  }

  get(key: Uint8Array): KeyValue | undefined {
    const index = this.open();
    if (!(key instanceof Uint8Array)) throw typeError('key', key);
    return index.getLive(latin1(key, 0, key.length))?.toKeyValue(false);
  }

  getText(key: string): KeyValue | undefined {
    const index = this.open();
    if (typeof key !== 'string') throw typeError('key', key);
    // Keys are kept as one char per UTF-8 byte; an ASCII string already is that.
    return index.getLive(ASCII.test(key) ? key : latin1OfText(key))?.toKeyValue(false);
  }

  range(request: RangeOp): RangeResult {
    this.open();
    // The shared check gives a direct read exactly the validation of a RANGE op in a batch.
    const op = checkRangeOp(request, this.limits);
    const failure = revisionError(op.revision, this.rev, this.compactRev);
    if (failure !== 0) throw errorFromNumber(failure);
    return this.read(op);
  }

  changes(fromRevision: number, key: Uint8Array, rangeEnd: Uint8Array, prevKv: boolean): WatchEvent[] {
    const index = this.open();
    if (typeof fromRevision !== 'number' || !Number.isSafeInteger(fromRevision)) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `fromRevision must be a safe integer, got ${String(fromRevision)}`);
    }
    if (!(key instanceof Uint8Array)) throw typeError('key', key);
    if (!(rangeEnd instanceof Uint8Array)) throw typeError('rangeEnd', rangeEnd);
    if (fromRevision < this.compactRev) throw errorFromNumber(ErrorNumber.COMPACTED);
    return changes(index, fromRevision, latin1(key, 0, key.length), latin1(rangeEnd, 0, rangeEnd.length), prevKv === true);
  }

  leaseInfo(id: number): LeaseInfo | undefined {
    this.open();
    if (typeof id !== 'number' || !Number.isSafeInteger(id))
      throw new MetaStoreError('ERR_INVALID_OPTION', `a lease id must be a safe integer, got ${String(id)}`);
    const lease = this.leaseTable.get(id);
    if (lease === undefined) return undefined;
    return { id: lease.id, ttl: lease.ttl, keys: lease.sortedKeys().map(bytesOf) };
  }

  leases(): number[] {
    this.open();
    return this.leaseTable.ids();
  }

  /** Idempotent, as the native engine's close is; every other call afterwards throws ERR_CLOSED. */
  close(): void {
    this.state?.clear();
    this.leaseTable.clear();
    this.state = null;
  }

  private open(): KeyIndex {
    if (this.state === null) throw new MetaStoreError('ERR_CLOSED', 'engine is closed');
    return this.state;
  }

  /** A state-dependent failure of one op: nothing changes, the header shows the current revision. */
  private fail(num: number, opIndex: number): ErrorResult {
    return { type: 'error', revision: this.rev, error: errorFromNumber(num, opIndex) };
  }

  /**
   * The (main, sub) revision of the next change of the current request: the first change takes
   * the next revision, later ones share it with the following sub-revisions.
   */
  private stamp(): number {
    if (this.changeCount === 0) this.rev++;
    return this.changeCount++;
  }

  // ---- Write primitives (also the TxnHost's): the caller has done the state-dependent checks.

  /** @internal */
  writePut(
    key: string,
    value: Uint8Array | null,
    view: DataView | null,
    start: number,
    end: number,
    lease: number,
    ignoreLease: boolean,
    prevKv: boolean,
  ): PutResult {
    const index = this.state!;
    const rec = index.records.get(key);
    const live = rec !== undefined && rec.value !== null;
    if (!live && (value === null || ignoreLease)) throw new Error('a put with IGNORE_* on a missing key got past the checks');
    const prev = prevKv && live ? rec!.toKeyValue(false) : undefined;
    const oldLease = live ? rec!.lease : 0;
    const newLease = ignoreLease ? oldLease : lease;
    const str = value === null ? rec!.value! : latin1(value, start, end);
    const sub = this.stamp(); // bumps the revision on the first change
    index.put(key, rec, this.rev, sub, str, newLease, value, view, start, end);
    if (oldLease !== newLease) this.leaseTable.move(key, oldLease, newLease);
    return prev === undefined ? { type: 'put', revision: this.rev } : { type: 'put', revision: this.rev, prevKv: prev };
  }

  /** @internal */
  writeDelete(key: string, end: string, prevKv: boolean): DeleteRangeResult {
    const index = this.state!;
    const doomed = liveIn(index, key, end);
    const deleted = doomed.length;
    if (deleted === 0) return { type: 'deleteRange', revision: this.rev, deleted: 0, prevKvs: [] };
    // One revision for the whole delete; each key gets its tombstone at it, in key order.
    const prevKvs = new Array<KeyValue>(prevKv ? deleted : 0);
    for (let i = 0; i < deleted; i++) {
      const rec = doomed[i]!;
      if (prevKv) prevKvs[i] = rec.toKeyValue(false);
      if (rec.lease !== 0) this.leaseTable.move(rec.key, rec.lease, 0);
      const sub = this.stamp(); // bumps the revision on the first change
      index.remove(rec, this.rev, sub);
    }
    return { type: 'deleteRange', revision: this.rev, deleted, prevKvs };
  }

  /** @internal A RANGE whose revision the caller has checked. */
  read(op: RangeOp): RangeResult {
    const { key, rangeEnd } = op;
    return readRange(this.state!, this.rev, op.revision, latin1(key, 0, key.length), latin1(rangeEnd, 0, rangeEnd.length), op, op.keysOnly, op.countOnly);
  }

  // ---- Ops

  private putOp(index: KeyIndex, r: BatchReader, batch: Uint8Array): PutResult | ErrorResult {
    const key = latin1(batch, r.keyStart, r.keyEnd);
    const flags = r.flags;
    // etcd's standalone put (applierV3backend.Put) looks the lease up first, then the key for
    // IGNORE_*; a put inside a txn checks the other way round (txn.ts). IGNORE_LEASE implies
    // lease 0 (validation), so it keeps the old lease without a check.
    if (r.lease !== 0 && !this.leaseTable.has(r.lease)) return this.fail(ErrorNumber.LEASE_NOT_FOUND, r.index);
    if ((flags & IGNORE_ANY) !== 0 && index.getLive(key) === undefined) return this.fail(ErrorNumber.KEY_NOT_FOUND, r.index);
    this.changeCount = 0;
    const value = (flags & PutFlag.IGNORE_VALUE) !== 0 ? null : batch;
    return this.writePut(key, value, r.view, r.dataStart, r.dataEnd, r.lease, (flags & PutFlag.IGNORE_LEASE) !== 0, (flags & PutFlag.PREV_KV) !== 0);
  }

  private rangeOp(index: KeyIndex, r: BatchReader, batch: Uint8Array): RangeResult | ErrorResult {
    const failure = revisionError(r.revision, this.rev, this.compactRev);
    if (failure !== 0) return this.fail(failure, r.index);
    const flags = r.flags;
    const key = latin1(batch, r.keyStart, r.keyEnd);
    const end = latin1(batch, r.dataStart, r.dataEnd);
    return readRange(index, this.rev, r.revision, key, end, r, (flags & RangeFlag.KEYS_ONLY) !== 0, (flags & RangeFlag.COUNT_ONLY) !== 0);
  }

  private txnOp(txn: TxnOp, opIndex: number): TxnResult | ErrorResult {
    const path: boolean[] = [];
    const failure = planTxn(this, txn, path);
    if (failure !== 0) return this.fail(failure, opIndex);
    this.changeCount = 0;
    return executeTxn(this, txn, path, { i: 0 });
  }

  private leaseGrant(id: number, ttl: number, opIndex: number): LeaseGrantResult | ErrorResult {
    if (id !== 0 && this.leaseTable.has(id)) return this.fail(ErrorNumber.LEASE_EXISTS, opIndex);
    const lease = this.leaseTable.grant(id, Math.max(ttl, this.minLeaseTtl));
    return { type: 'leaseGrant', revision: this.rev, id: lease.id, ttl: lease.ttl };
  }

  private leaseRevoke(index: KeyIndex, id: number, opIndex: number): LeaseRevokeResult | ErrorResult {
    const lease = this.leaseTable.get(id);
    if (lease === undefined) return this.fail(ErrorNumber.LEASE_NOT_FOUND, opIndex);
    // The attached keys go in key order, in one revision.
    this.changeCount = 0;
    for (const key of lease.sortedKeys()) {
      const sub = this.stamp(); // bumps the revision on the first change
      index.remove(index.records.get(key)!, this.rev, sub);
    }
    this.leaseTable.remove(id);
    return { type: 'leaseRevoke', revision: this.rev };
  }

  private compactOp(index: KeyIndex, rev: number, opIndex: number, capture: EventCapture | null): CompactResult | ErrorResult {
    if (rev <= this.compactRev) return this.fail(ErrorNumber.COMPACTED, opIndex);
    if (rev > this.rev) return this.fail(ErrorNumber.FUTURE_REV, opIndex);
    // The batch's events so far are taken before compaction can drop them.
    capture?.take();
    compact(index, rev);
    capture?.resync();
    this.compactRev = rev;
    return { type: 'compact', revision: this.rev };
  }
}

function typeError(what: string, value: unknown): MetaStoreError {
  return new MetaStoreError('ERR_INVALID_TYPE', `${what} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
}
