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
import { AutoCompactor } from './compaction/auto-compactor.js';
import { MetaStoreError } from './errors.js';
import { txnDepthLimit, validateBatch } from './codec.js';
import type { RecoveryInfo } from './log/durable-options.js';
import { WritePath, type WriteStats } from './log/write-path.js';
import { LeaseClient } from './lease/lease-client.js';
import { Lessor } from './lease/lessor.js';
import { openEngineAndLog, type OpenedLog } from './facade/open.js';
import { resolveOpenOptions, type ResolvedOpenOptions } from './facade/open-options.js';
import { autoCompactionDone, compactResponseOf, deleteResponseOf, opResultOf, putResponseOf, toRangeResponse } from './facade/responses.js';
import { WriteBatch } from './facade/write-batch.js';
import {
  checkedPutFields,
  checkWatchOptions,
  keyArg,
  resolveSelector,
  toRangeOp,
  valueArg,
  type KeySelector,
  type RangeOptions,
  type WatchOptions,
} from './facade/selectors.js';
import { toTxnResponse, Txn, writeTxn, type TxnRequest, type TxnResponse } from './facade/txn.js';
import type {
  BatchResult,
  CompactOptions,
  CompactResponse,
  DeleteOptions,
  DeleteResponse,
  Engine,
  EngineKind,
  KeyValue,
  OpenOptions,
  OpResult,
  PutOptions,
  PutResponse,
  RangeResponse,
  WatchEvent,
} from './types.js';

export type { OpenOptions, PutOptions, DeleteOptions, PutResponse, DeleteResponse, RangeResponse, CompactOptions, CompactResponse } from './types.js';
import { WatchableStore } from './watch/watchable-store.js';
import { Watcher, type WatcherHost } from './watch/watcher.js';

export { WriteBatch } from './facade/write-batch.js';

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
    const { engine, nativeLoadError, opened } = await openEngineAndLog(resolved);
    try {
      return new MetaStore(engine, nativeLoadError, resolved, opened);
    } catch (e) {
      // Replay failed: release the directory and the engine before reporting it.
      await opened.log.close();
      engine.close();
      throw e;
    }
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
      return this.applyOne(
        this.writer
          .reset()
          .compact(revision, options?.physical === true)
          .peek(),
        compactResponseOf,
      );
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
      let history: WatchEvent[];
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
