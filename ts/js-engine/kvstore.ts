/**
 * The pure-TypeScript engine: applies codec batches (docs/codec.md) to an in-memory key index with
 * exactly the native engine's results. The counterpart of etcd's mvcc/kvstore.go, without history.
 */

import { constants } from 'node:buffer';
import { BatchReader, checkRangeOp, DeleteFlag, OpType, PutFlag, RangeFlag, validateBatch, type BatchLimits } from '../codec.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from '../errors.js';
import {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  type BatchResult,
  type DeleteRangeResult,
  type Engine,
  type EngineOptions,
  type ErrorResult,
  type KeyValue,
  type OpResult,
  type PutResult,
  type RangeOp,
  type RangeResult,
} from '../types.js';
import { KeyEntry, TreeIndex } from './index.js';
import { latin1 } from './latin1.js';
import { entriesIn, readRange, revisionError } from './range.js';

const IGNORE_ANY = PutFlag.IGNORE_VALUE | PutFlag.IGNORE_LEASE;

/** Results of one batch, built eagerly (the ops already ran); `result(i)` just hands them out. */
class JsBatchResult implements BatchResult {
  readonly size: number;

  constructor(
    private readonly results: OpResult[],
    readonly revision: number,
  ) {
    this.size = results.length;
  }

  result(index: number): OpResult {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`result index ${index} out of 0..${this.size - 1}`);
    return this.results[index]!;
  }
}

export class JsEngine implements Engine {
  readonly kind = 'js' as const;
  private index: TreeIndex | null = new TreeIndex();
  private rev = 1;
  /** Set when an apply failed midway (an engine bug): the state is unknown, writes are refused. */
  private poisoned = false;
  private readonly limits: BatchLimits;

  constructor(options?: EngineOptions) {
    // parallelThreshold and threads tune the native engine only.
    this.limits = {
      maxKeyBytes: sizeOption('maxKeyBytes', options?.maxKeyBytes, DEFAULT_MAX_KEY_BYTES),
      maxValueBytes: sizeOption('maxValueBytes', options?.maxValueBytes, DEFAULT_MAX_VALUE_BYTES),
    };
  }

  get revision(): number {
    this.open();
    return this.rev;
  }

  get size(): number {
    return this.open().size;
  }

  applyBatch(batch: Uint8Array): BatchResult {
    const index = this.open();
    if (this.poisoned) {
      throw new MetaStoreError('ERR_INTERNAL', 'internal engine error (batch header): an earlier apply failed midway; reopen the store', { opIndex: -1 });
    }
    validateBatch(batch, this.limits); // throws before anything is applied
    const r = new BatchReader(batch);
    const results = new Array<OpResult>(r.count);
    try {
      while (r.next()) {
        const type = r.type;
        results[r.index] =
          type === OpType.PUT ? this.put(index, r, batch) : type === OpType.DELETE_RANGE ? this.deleteRange(index, r, batch) : this.rangeOp(index, r, batch);
      }
    } catch (err) {
      // Only an engine bug gets here; report it like the native engine reports a caught panic.
      // As in the native engine, a batch that failed midway leaves the state unknown: refuse more writes.
      this.poisoned = true;
      if (err instanceof MetaStoreError) throw err;
      throw new MetaStoreError('ERR_INTERNAL', `internal engine error (op ${r.index}): ${String(err)}`, { opIndex: r.index, cause: err });
    }
    return new JsBatchResult(results, this.rev);
  }

  get(key: Uint8Array): KeyValue | undefined {
    const index = this.open();
    if (!(key instanceof Uint8Array)) throw typeError('key', key);
    return index.get(latin1(key, 0, key.length))?.toKeyValue(false);
  }

  range(request: RangeOp): RangeResult {
    const index = this.open();
    // The shared check gives a direct read exactly the validation of a RANGE op in a batch.
    const op = checkRangeOp(request, this.limits);
    const failure = revisionError(op.revision, this.rev);
    if (failure !== 0) throw errorFromNumber(failure);
    const { key, rangeEnd } = op;
    return readRange(index, this.rev, latin1(key, 0, key.length), latin1(rangeEnd, 0, rangeEnd.length), op, op.keysOnly, op.countOnly);
  }

  /** Idempotent, as the native engine's close is; every other call afterwards throws ERR_CLOSED. */
  close(): void {
    this.index?.clear();
    this.index = null;
  }

  private open(): TreeIndex {
    if (this.index === null) throw new MetaStoreError('ERR_CLOSED', 'engine is closed');
    return this.index;
  }

  /** A state-dependent failure of one op: nothing changes, the header shows the current revision. */
  private fail(num: number, opIndex: number): ErrorResult {
    return { type: 'error', revision: this.rev, error: errorFromNumber(num, opIndex) };
  }

  private put(index: TreeIndex, r: BatchReader, batch: Uint8Array): PutResult | ErrorResult {
    const key = latin1(batch, r.keyStart, r.keyEnd);
    const flags = r.flags;
    const entry = index.get(key);
    if (entry === undefined && (flags & IGNORE_ANY) !== 0) return this.fail(ErrorNumber.KEY_NOT_FOUND, r.index);
    // Leases cannot be granted yet, so every lease is unknown. (IGNORE_LEASE implies lease 0.)
    if (r.lease !== 0) return this.fail(ErrorNumber.LEASE_NOT_FOUND, r.index);
    const rev = ++this.rev;
    if (entry === undefined) {
      index.insert(new KeyEntry(key, latin1(batch, r.dataStart, r.dataEnd), rev, rev, 1, r.lease));
      return { type: 'put', revision: rev };
    }
    const prevKv = (flags & PutFlag.PREV_KV) !== 0 ? entry.toKeyValue(false) : undefined;
    if ((flags & PutFlag.IGNORE_VALUE) === 0) entry.value = latin1(batch, r.dataStart, r.dataEnd);
    if ((flags & PutFlag.IGNORE_LEASE) === 0) entry.lease = r.lease;
    entry.modRevision = rev;
    entry.version++;
    return prevKv === undefined ? { type: 'put', revision: rev } : { type: 'put', revision: rev, prevKv };
  }

  private deleteRange(index: TreeIndex, r: BatchReader, batch: Uint8Array): DeleteRangeResult {
    const doomed = entriesIn(index, latin1(batch, r.keyStart, r.keyEnd), latin1(batch, r.dataStart, r.dataEnd));
    const deleted = doomed.length;
    if (deleted === 0) return { type: 'deleteRange', revision: this.rev, deleted: 0, prevKvs: [] };
    // One revision for the whole delete (MVCC will tombstone each key at it, in key order).
    const rev = ++this.rev;
    const prevKvs = new Array<KeyValue>((r.flags & DeleteFlag.PREV_KV) !== 0 ? deleted : 0);
    for (let i = 0; i < prevKvs.length; i++) prevKvs[i] = doomed[i]!.toKeyValue(false);
    if (deleted === index.size) index.clear();
    else for (let i = 0; i < deleted; i++) index.remove(doomed[i]!);
    return { type: 'deleteRange', revision: rev, deleted, prevKvs };
  }

  private rangeOp(index: TreeIndex, r: BatchReader, batch: Uint8Array): RangeResult | ErrorResult {
    const failure = revisionError(r.revision, this.rev);
    if (failure !== 0) return this.fail(failure, r.index);
    const flags = r.flags;
    const key = latin1(batch, r.keyStart, r.keyEnd);
    const end = latin1(batch, r.dataStart, r.dataEnd);
    return readRange(index, this.rev, key, end, r, (flags & RangeFlag.KEYS_ONLY) !== 0, (flags & RangeFlag.COUNT_ONLY) !== 0);
  }
}

function typeError(what: string, value: unknown): MetaStoreError {
  return new MetaStoreError('ERR_INVALID_TYPE', `${what} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
}

/**
 * A size limit option. Keys and values live in JS strings, so the limit in effect is at most V8's
 * longest string (2^29 − 24 chars on 64-bit): a bigger key or value rejects its batch as too large
 * during validation, where a failing string copy mid-apply would leave the batch half applied.
 */
function sizeOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `${name} must be a non-negative safe integer, got ${String(value)}`);
  }
  return Math.min(value, constants.MAX_STRING_LENGTH);
}
