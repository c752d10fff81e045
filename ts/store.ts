/**
 * The façade: `MetaStore`, in the idioms of the etcd3 npm client. Writes are encoded once into
 * the op codec and proposed to the log ({@link WritePath}); a write resolves once the entry that
 * carries it is committed and applied. Reads go to the engine directly and are synchronous.
 *
 * Clocks (lease expiry, periodic compaction) live outside apply and act by proposing ops on
 * that same path.
 */

import { bytesToString, toBytes, type Bytes } from './codec/bytes.js';
import { BatchWriter } from './codec.js';
import { AutoCompactor, type AutoCompactionOptions } from './compaction/auto-compactor.js';
import { constructEngine, type EngineKind } from './engines/create-engine.js';
import { MetaStoreError } from './errors.js';
import { txnDepthLimit, validateBatch } from './codec.js';
import { MemoryLog } from './log/memory-log.js';
import { openFileLog } from './log/file-log.js';
import type { DurableOptions, RecoveryInfo } from './log/durable-options.js';
import type { ProposerOptions } from './log/batch-proposer.js';
import { WritePath, type WriteStats } from './log/write-path.js';
import type { Log, LogEntry } from './log/log.js';
import { LeaseClient } from './lease/lease-client.js';
import { Lessor, type LeaseClock } from './lease/lessor.js';
import { resolveOpenOptions, type ResolvedOpenOptions } from './facade/open-options.js';
import { checkedPutFields, checkWatchOptions, keyArg, resolveSelector, toRangeOp, valueArg, type KeySelector, type RangeOptions, type WatchOptions } from './facade/selectors.js';
import { toTxnResponse, Txn, writeTxn, type TxnRequest, type TxnResponse } from './facade/txn.js';
import { EventsMode, type BatchResult, type DeleteRangeResult, type Engine, type EngineOptions, type KeyValue, type OpResult, type PutResult, type RangeResult } from './types.js';
import { WatchableStore } from './watch/watchable-store.js';
import { Watcher, type WatcherHost } from './watch/watcher.js';

/**
 * Options of {@link MetaStore.open}. Each has a type and a range (see each one); a value outside
 * it, or a name that is not one of these, is ERR_INVALID_OPTION naming it, checked before an
 * engine is chosen. `undefined` means the default.
 */
export interface OpenOptions extends EngineOptions, ProposerOptions, DurableOptions {
  /**
   * Directory of a durable store: writes resolve once fsynced to its write-ahead log, and
   * opening it again restores the state (newest snapshot + the log after it). Created if
   * missing. Needs the native addon (ERR_NATIVE_UNAVAILABLE otherwise). Default: in memory.
   */
  path?: string;
  /**
   * `'auto'` (default): the native engine, or the pure-TS engine when the native binary cannot
   * load (see {@link MetaStore.nativeLoadError}). `'native'`: fail if it cannot load. `'js'`:
   * the pure-TS engine.
   */
  engine?: 'auto' | EngineKind;
  /**
   * The clock of lease expiry and periodic compaction, in ms (`{ now() }`). Default:
   * `performance.now()`. Inject a fake one in tests; apply never reads it.
   */
  clock?: LeaseClock;
  /** Period of the lease expiry check in ms, an integer from 0 to 2^31 − 1 (etcd's 500 ms, the default); 0: no timer. */
  leaseCheckIntervalMs?: number;
  /**
   * Automatic compaction, etcd's retention modes: `{ mode: 'revision', retention: N }` keeps
   * the last N revisions (an integer ≥ 1); `{ mode: 'periodic', periodMs }` keeps `periodMs` of
   * history (an integer from 1 to 366 days). Default: none (call {@link MetaStore.compact}).
   */
  autoCompaction?: AutoCompactionOptions;
}

/** A log opened for a store, with what opening found. */
interface OpenedLog {
  log: Log;
  /** This boot's epoch (part of every proposal id). */
  epoch: number;
  /** Index the restored state is at (a snapshot's), 0 for a new store. */
  appliedIndex: number;
  /** Committed entries after it, to apply before the store serves anything. */
  replay: LogEntry[];
  /** What opening a durable store found. */
  recovery?: RecoveryInfo;
}

/** Options of {@link MetaStore.compact}. */
export interface CompactOptions {
  /** etcd's `physical` (wait until the space is reclaimed): accepted; compaction here is always immediate. */
  physical?: boolean;
}

/** Response of {@link MetaStore.compact}. */
export interface CompactResponse {
  /** The store revision (compaction does not change it). */
  revision: number;
}

/** Options of {@link MetaStore.put}. */
export interface PutOptions {
  /** Attach the key to this lease (0 = none). */
  lease?: number;
  /** Return the key-value as it was before the put. */
  prevKv?: boolean;
  /** Keep the current value (the key must exist; pass an empty value). */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  ignoreLease?: boolean;
}

/** Options of {@link MetaStore.delete}. */
export interface DeleteOptions {
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

/** Response of {@link MetaStore.put} (and of a put in {@link WriteBatch.commit}). */
export interface PutResponse {
  /** Store revision after the put. */
  revision: number;
  /** The key-value before the put, when `prevKv` was asked for and the key existed. */
  prevKv?: KeyValue;
}

/** Response of {@link MetaStore.delete} (and of a delete in {@link WriteBatch.commit}). */
export interface DeleteResponse {
  /** Store revision after the delete (unchanged when nothing was deleted). */
  revision: number;
  /** Number of keys deleted. */
  deleted: number;
  /** The deleted key-values in key order, when `prevKv` was asked for. */
  prevKvs: KeyValue[];
}

/** Response of {@link MetaStore.range}. */
export interface RangeResponse {
  /** The store's current revision (also when reading at an older `revision`). */
  revision: number;
  /** Matching key-values after filters, sort and limit; empty with `countOnly`, values empty with `keysOnly`. */
  kvs: KeyValue[];
  /** Whether `limit` left matching keys out. */
  more: boolean;
  /** Keys in the range, regardless of `limit` and of the revision filters. */
  count: number;
}

function unwrap<T extends OpResult>(result: OpResult): Exclude<T, { type: 'error' }> {
  if (result.type === 'error') throw result.error;
  return result as Exclude<T, { type: 'error' }>;
}

function toPutResponse(r: PutResult): PutResponse {
  return r.prevKv === undefined ? { revision: r.revision } : { revision: r.revision, prevKv: r.prevKv };
}

function toDeleteResponse(r: DeleteRangeResult): DeleteResponse {
  return { revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs };
}

// Shapes of one-op results, applied by the apply loop as it settles the caller (a throw rejects).
const putResponseOf = (r: OpResult): PutResponse => toPutResponse(unwrap<PutResult>(r));
const deleteResponseOf = (r: OpResult): DeleteResponse => toDeleteResponse(unwrap<DeleteRangeResult>(r));
const opResultOf = (r: OpResult): OpResult => r;
const autoCompactionDone = (r: OpResult): void => {
  if (r.type === 'error' && r.error.code !== 'ERR_COMPACTED') throw r.error;
};
const compactResponseOf = (r: OpResult): CompactResponse => {
  if (r.type === 'error') throw r.error;
  return { revision: r.revision };
};

function toRangeResponse(r: RangeResult): RangeResponse {
  return { revision: r.revision, kvs: r.kvs, more: r.more, count: r.count };
}

/**
 * Several writes applied together as one batch (each still its own etcd request with its own
 * revision). Build with {@link MetaStore.batch}, then {@link WriteBatch.commit}.
 */
export class WriteBatch {
  private readonly writer = new BatchWriter(1024);

  /** @internal */
  constructor(private readonly store: MetaStore) {}

  /** Number of ops so far. */
  get size(): number {
    return this.writer.count;
  }

  /**
   * Adds a put of `key` = `value` (strings as UTF-8). Throws ERR_INVALID_TYPE / ERR_INVALID_OPTION
   * for bad arguments now; the rest (empty or oversized key/value, missing lease) at {@link WriteBatch.commit}.
   */
  put(key: Bytes, value: Bytes, options?: PutOptions): this {
    this.writer.put(keyArg(key), valueArg(value), checkedPutFields(options));
    return this;
  }

  /**
   * Adds a delete of one key or of the keys a selector covers. Throws ERR_INVALID_TYPE,
   * ERR_INVALID_OPTION or ERR_INVALID_RANGE for a bad selector.
   */
  delete(selector: Bytes | KeySelector, options?: DeleteOptions): this {
    const { key, rangeEnd } = resolveSelector(selector);
    this.writer.deleteRange(key, rangeEnd, options?.prevKv === true);
    return this;
  }

  /**
   * Applies every op as one batch. Resolves to one response per op, in order; an op that failed
   * on the store's state (e.g. a missing lease) is a {@link MetaStoreError} in its slot while
   * the others apply. A batch with invalid input rejects whole and applies nothing.
   */
  async commit(): Promise<Array<PutResponse | DeleteResponse | MetaStoreError>> {
    const result = await this.store.applyBatch(this.writer.peek());
    const out: Array<PutResponse | DeleteResponse | MetaStoreError> = [];
    for (let i = 0; i < result.size; i++) {
      const r = result.result(i);
      if (r.type === 'error') out.push(r.error);
      else if (r.type === 'put') out.push(toPutResponse(r));
      else if (r.type === 'deleteRange') out.push(toDeleteResponse(r));
    }
    this.writer.reset();
    return out;
  }
}

/** An embedded etcd-v3-semantics key-value store. */
export class MetaStore implements AsyncDisposable {
  private engineInstance: Engine | undefined;
  private readonly writes: WritePath;
  private readonly writer = new BatchWriter(512);
  private readonly watchable = new WatchableStore();
  private readonly watcherHost: WatcherHost;
  private nextWatchId = 0;
  private closing: Promise<void> | undefined;
  private readonly recoveryInfo: RecoveryInfo | undefined;
  /** The revision at close, for watchers still flushing. */
  private finalRevision = 0;
  private readonly lessor: Lessor;
  private readonly compactor: AutoCompactor | undefined;
  /** Most levels of transaction nesting (`maxTxnDepth`), enforced while a txn is written. */
  private readonly txnDepthLimit: number;
  /**
   * Leases: `grant(ttl, { id })`, `revoke(id)`, `keepAlive(id)`, `timeToLive(id, { keys })`,
   * `list()`. See {@link LeaseClient}.
   */
  readonly lease: LeaseClient;

  private constructor(
    engine: Engine,
    /** Why the native engine did not load, when `engine: 'auto'` fell back to the pure-TS one. */
    readonly nativeLoadError: Error | undefined,
    options: ResolvedOpenOptions,
    opened: OpenedLog,
  ) {
    this.engineInstance = engine;
    this.recoveryInfo = opened.recovery;
    const { maxKeyBytes, maxValueBytes, maxTxnOps, maxTxnDepth } = options.engineOptions;
    const limits = { maxKeyBytes, maxValueBytes, maxTxnOps, maxTxnDepth };
    this.txnDepthLimit = txnDepthLimit(limits);
    this.writes = new WritePath(
      engine,
      opened.log,
      this.watchable,
      (result) => {
        this.lessor?.markStale(); // the entry may have granted or revoked leases
        this.compactor?.afterWrite(result.revision);
      },
      { node: 1, epoch: opened.epoch, appliedIndex: opened.appliedIndex },
      (batch) => validateBatch(batch, limits),
      options.proposer,
    );

    const clock = options.clock;
    this.watcherHost = {
      revision: () => (this.engineInstance === undefined ? this.finalRevision : this.writes.revision),
      unregister: (w) => this.watchable.remove(w),
    };
    this.lessor = new Lessor(
      {
        engine: () => this.live(),
        revokeExpired: async (ids) => {
          const w = this.writer.reset();
          for (const id of ids) w.leaseRevoke(id);
          await this.writes.propose(w.peek()); // a lease gone meanwhile is an op error in its slot: fine
        },
      },
      { clock, checkIntervalMs: options.leaseCheckIntervalMs },
    );
    // Entries committed before a restart are applied before anyone reads.
    for (const entry of opened.replay) this.writes.applyEntry(entry);
    // A store opened over existing state (after a restart) gives every lease a full TTL.
    this.lessor.promote();
    this.lease = new LeaseClient({
      lessor: () => {
        this.live();
        return this.lessor;
      },
      grant: (id, ttl) => this.applyOne(this.writer.reset().leaseGrant(id, ttl).peek(), opResultOf),
      revoke: (id) => this.applyOne(this.writer.reset().leaseRevoke(id).peek(), opResultOf),
      leases: () => this.live().leases(),
    });
    const autoCompaction = options.autoCompaction;
    this.compactor =
      autoCompaction === undefined
        ? undefined
        : new AutoCompactor(
            {
              revisions: () => {
                const e = this.live(); // throws while closing: no new compaction then
                return { revision: e.revision, compactRevision: e.compactRevision, size: e.size };
              },
              // A separate writer: this runs right after another write, inside its call. Settled by
              // the apply loop directly, so the compactor is done with it before the writes
              // applied in the same entry resume their callers.
              compact: (revision) => {
                try {
                  return this.writes.proposeOne(new BatchWriter(64).compact(revision).peek(), autoCompactionDone);
                } catch (e) {
                  return Promise.reject(e);
                }
              },
            },
            autoCompaction,
            clock,
          );
  }

  /**
   * Opens a store: in memory, or durable in the directory `path`. No options (or null) means
   * every default; bad options reject with ERR_INVALID_OPTION before anything is allocated.
   */
  static async open(options?: OpenOptions | null): Promise<MetaStore> {
    const resolved = resolveOpenOptions(options);
    const choice = resolved.engine;
    const path = resolved.path;
    if (path !== undefined) {
      let engine: Engine;
      try {
        engine = constructEngine('native', resolved.engineOptions);
      } catch (e) {
        if (e instanceof MetaStoreError && e.code === 'ERR_NATIVE_UNAVAILABLE') {
          throw new MetaStoreError('ERR_NATIVE_UNAVAILABLE', `a durable store (path) needs the native addon, which cannot load: ${e.message}`, { cause: e });
        }
        throw e;
      }
      let opened: OpenedLog;
      try {
        opened = await openFileLog(path, engine, resolved.durable);
      } catch (e) {
        engine.close();
        throw e;
      }
      try {
        return new MetaStore(engine, undefined, resolved, opened);
      } catch (e) {
        // Replay failed: release the directory and the engine before reporting it.
        await opened.log.close();
        engine.close();
        throw e;
      }
    }
    const inMemory = (): OpenedLog => ({ log: new MemoryLog(), epoch: 1, appliedIndex: 0, replay: [] });
    if (choice !== 'auto') return new MetaStore(constructEngine(choice, resolved.engineOptions), undefined, resolved, inMemory());
    let engine: Engine;
    let loadError: MetaStoreError | undefined;
    try {
      engine = constructEngine('native', resolved.engineOptions);
    } catch (e) {
      if (!(e instanceof MetaStoreError) || e.code !== 'ERR_NATIVE_UNAVAILABLE') throw e;
      engine = constructEngine('js', resolved.engineOptions);
      loadError = e;
    }
    return new MetaStore(engine, loadError, resolved, inMemory());
  }

  /**
   * What opening a durable store found: the snapshot index it restored, the entries replayed
   * after it, a torn tail that was cut off, snapshots passed over as damaged. Undefined in memory.
   */
  get recovery(): RecoveryInfo | undefined {
    return this.recoveryInfo;
  }

  /** `'memory'`, or `'file'` for a durable store opened with `path`. */
  get durability(): 'memory' | 'file' {
    return this.writes.log.kind;
  }

  /** Index of the last log entry applied to the state. */
  get appliedIndex(): number {
    return this.writes.appliedIndex;
  }

  /**
   * Counters of the write path since open: proposals and ops, the log entries and appends they
   * were coalesced into (and their averages), fsyncs, bytes, and the applied index.
   */
  writeStats(): WriteStats {
    return this.writes.stats();
  }

  /** Which engine serves this store. */
  get engine(): EngineKind {
    return this.live().kind;
  }

  /** Current revision: 1 for a fresh store, +1 per write request that changed a key. */
  get revision(): number {
    return this.live().revision;
  }

  /** Number of keys. */
  get size(): number {
    return this.live().size;
  }

  /** The compacted revision: reads and watches below it fail with ERR_COMPACTED (−1: never compacted). */
  get compactRevision(): number {
    return this.live().compactRevision;
  }

  /** Sets `key` to `value`. Rejects with ERR_LEASE_NOT_FOUND, ERR_KEY_NOT_FOUND (ignore flags) or an input error. */
  put(key: Bytes, value: Bytes, options?: PutOptions): Promise<PutResponse> {
    try {
      const w = this.writer.reset().put(keyArg(key), valueArg(value), options === undefined ? undefined : checkedPutFields(options));
      return this.applyOne(w.peek(), putResponseOf);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Deletes one key, or the keys a selector covers. A delete that matches nothing does not bump the revision. */
  delete(selector: Bytes | KeySelector, options?: DeleteOptions): Promise<DeleteResponse> {
    try {
      const { key, rangeEnd } = resolveSelector(selector);
      const w = this.writer.reset().deleteRange(key, rangeEnd, options?.prevKv === true);
      return this.applyOne(w.peek(), deleteResponseOf);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The latest key-value of `key`, or undefined. Synchronous: reads are local. */
  get(key: Bytes): KeyValue | undefined {
    const engine = this.live();
    if (typeof key === 'string') {
      if (key.length === 0) throw new MetaStoreError('ERR_KEY_NOT_PROVIDED', 'key is not provided');
      return engine.getText(key);
    }
    const bytes = toBytes(keyArg(key));
    if (bytes.length === 0) throw new MetaStoreError('ERR_KEY_NOT_PROVIDED', 'key is not provided');
    return engine.get(bytes);
  }

  /** The latest value of `key` as UTF-8 text, or undefined. */
  getString(key: Bytes): string | undefined {
    const kv = this.get(key);
    return kv === undefined ? undefined : bytesToString(kv.value);
  }

  /**
   * etcd's Range: keys of a selector with limit, sort, filters, count. Synchronous. With
   * `revision`, reads the store as it was then: ERR_COMPACTED below the compacted revision,
   * ERR_FUTURE_REV above the current one.
   */
  range(options: RangeOptions): RangeResponse {
    const engine = this.live();
    return toRangeResponse(engine.range(toRangeOp(options)));
  }

  /**
   * A transaction. Without an argument, a builder in the etcd3 client's idiom:
   * `store.txn().if(key, 'value' | 'version' | 'create' | 'mod' | 'lease', '==' | '!=' | '>' | '<', v)
   * .then(op.put(...), op.get(...)).else(...).commit()`. With a plain object
   * (`{ compare, success, failure }`), applies it at once. Either way all its changes share one
   * revision and its watch events arrive together. See {@link Txn.commit} for the errors.
   */
  txn(): Txn;
  txn(request: TxnRequest): Promise<TxnResponse>;
  txn(request?: TxnRequest): Txn | Promise<TxnResponse> {
    this.live();
    const run = (r: TxnRequest): Promise<TxnResponse> => {
      try {
        const w = this.writer.reset();
        writeTxn(w, r, this.txnDepthLimit);
        return this.applyOne(w.peek(), toTxnResponse);
      } catch (e) {
        return Promise.reject(e);
      }
    };
    return request === undefined ? new Txn(run) : run(request);
  }

  /**
   * etcd's Compact: drops the history below `revision` (per key, the newest version at or below
   * it stays). Rejects with ERR_COMPACTED when `revision` ≤ the compacted revision (so compacting
   * twice at one revision fails), ERR_FUTURE_REV above the current revision. The revision does
   * not change. Watches already running are not affected.
   */
  compact(revision: number, options?: CompactOptions): Promise<CompactResponse> {
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) {
      return Promise.reject(new MetaStoreError('ERR_INVALID_OPTION', `revision must be an integer, got ${String(revision)}`));
    }
    try {
      return this.applyOne(this.writer.reset().compact(revision, options?.physical === true).peek(), compactResponseOf);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Runs the auto-compaction check now (its timer or the write path does it otherwise) and
   * returns the revision compacted to, or undefined (nothing due, or no `autoCompaction`). For
   * tests with an injected clock.
   */
  async checkAutoCompaction(): Promise<number | undefined> {
    this.live();
    const target = this.compactor?.check();
    await this.compactor?.running;
    return target;
  }

  /**
   * etcd's Watch: the changes of a key (`key`), a prefix (`prefix`) or a range (`start`+`end`,
   * `key`+`end`, `fromKey`), from `startRevision` (inclusive; history is replayed first) or from
   * now. Returns a {@link Watcher}: an EventEmitter (`'put'`, `'delete'`, `'data'`, `'progress'`,
   * `'cancel'`, `'error'`) and an async iterator of responses; stop it with `cancel()`.
   * A start revision below the compacted one gives a watcher cancelled with reason `'compacted'`
   * and the `compactRevision`.
   */
  watch(options: WatchOptions): Watcher {
    const engine = this.live();
    const settings = checkWatchOptions(options);
    const current = engine.revision;
    const start = settings.startRevision;
    const w = new Watcher(this.watcherHost, {
      ...settings,
      id: this.nextWatchId++,
      minRevision: start > 0 ? start : current + 1,
    });
    if (start > 0 && start <= current) {
      let history;
      try {
        history = engine.changes(start, settings.key, settings.rangeEnd, settings.prevKv);
      } catch (e) {
        if (!(e instanceof MetaStoreError) || e.code !== 'ERR_COMPACTED') throw e;
        const compactRevision = engine.compactRevision;
        w.stop('compacted', `watch ${w.id} cancelled: start revision ${start} is below the compacted revision ${compactRevision}`, {
          compactRevision,
          error: e,
          resumeRevision: compactRevision,
        });
        return w;
      }
      w.replay(history);
    }
    this.watchable.add(w);
    return w;
  }

  /** Starts a batch of writes applied together by {@link WriteBatch.commit}. */
  batch(): WriteBatch {
    this.live();
    return new WriteBatch(this);
  }

  /**
   * Engine level: proposes an encoded batch (docs/codec.md) as it is, through the store's write
   * path (watchers see its events), and resolves with its results once applied. An invalid
   * batch throws at once and nothing is proposed. For advanced use and benchmarks;
   * {@link BatchWriter} builds batches.
   */
  applyBatch(batch: Uint8Array): Promise<BatchResult> {
    try {
      this.live();
      return this.writes.propose(batch);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Closes the store and frees its memory. Watchers end with reason `'closed'`. Later calls throw ERR_CLOSED. Idempotent. */
  async close(): Promise<void> {
    const engine = this.engineInstance;
    if (engine === undefined || this.closing !== undefined) return this.closing;
    this.lessor.close();
    this.compactor?.close();
    this.closing = (async () => {
      try {
        await this.writes.close(); // writes already made are applied first
      } finally {
        this.finalRevision = engine.revision;
        this.engineInstance = undefined;
        for (const w of this.watchable.watchers()) w.stop('closed', `watch ${w.id} ended: the store was closed`);
        engine.close();
      }
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Proposes a batch of one op; resolves with `shape` of its result, settled by the apply loop
   * itself. Throws (synchronously) ERR_CLOSED or a validation error: callers turn that into a rejection.
   */
  private applyOne<T>(batch: Uint8Array, shape: (result: OpResult) => T): Promise<T> {
    this.live();
    return this.writes.proposeOne(batch, shape);
  }

  private live(): Engine {
    if (this.engineInstance === undefined || this.closing !== undefined) throw new MetaStoreError('ERR_CLOSED', 'store is closed');
    return this.engineInstance;
  }
}
