/**
 * The store's write path (docs/log.md): proposals → {@link BatchProposer} → {@link Log} →
 * committed entries → the one apply loop → engine (one call per entry) → watchers → waiters.
 * The apply loop is the only code that changes the engine's state, and it does nothing but
 * apply committed entries in index order: the same log gives the same state.
 */

import { MetaStoreError, type ErrorCode } from '../errors.js';
import { BatchProposer, type ProposerStats, type ResultShape } from './batch-proposer.js';
import { readEntry } from './entry.js';
import type { Log, LogEntry, LogStats } from './log.js';
import type { ResolvedProposerOptions } from '../facade/open-options.js';
import { EventsMode, type BatchResult, type Engine } from '../types.js';
import type { WatchableStore } from '../watch/watchable-store.js';

/** Counters of the write path: the proposer's and the log's. */
export interface WriteStats extends ProposerStats {
  /** fdatasync calls made by the log (0 in memory). */
  fsyncs: number;
  /** Bytes of entries appended. */
  bytes: number;
  /** Index of the last applied log entry. */
  appliedIndex: number;
}

/** Errors of static validation: an entry refused with one of these is refused on every replay. */
const DETERMINISTIC_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_MALFORMED_BATCH',
  'ERR_UNSUPPORTED_VERSION',
  'ERR_KEY_NOT_PROVIDED',
  'ERR_KEY_TOO_LARGE',
  'ERR_VALUE_TOO_LARGE',
  'ERR_INVALID_SORT',
  'ERR_VALUE_PROVIDED',
  'ERR_LEASE_PROVIDED',
  'ERR_TOO_MANY_OPS',
  'ERR_TXN_TOO_DEEP',
  'ERR_DUPLICATE_KEY',
]);

export class WritePath {
  readonly proposer: BatchProposer;
  private applied = 0;
  private revisionBefore: number;
  /** Whether `revisionBefore` is the engine's revision now (not after a refusal or a failure). */
  private revisionKnown = true;
  private fatal: MetaStoreError | undefined;
  /** Entries committed while one is being applied (a proposal made during apply can commit at once). */
  private backlog: LogEntry[] = [];
  private applying = false;

  constructor(
    private readonly engine: Engine,
    readonly log: Log,
    private readonly watchable: WatchableStore,
    /** Runs after each applied entry (auto-compaction, lease bookkeeping). */
    private readonly afterApply: (result: BatchResult) => void,
    identity: { node: number; epoch: number; appliedIndex: number },
    validate: (batch: Uint8Array) => void,
    options: ResolvedProposerOptions,
  ) {
    this.applied = identity.appliedIndex;
    this.revisionBefore = engine.revision;
    this.proposer = new BatchProposer(log, identity.node, identity.epoch, validate, options);
    log.consumeWith((entry) => this.committed(entry));
  }

  /** Index of the last applied entry: part of the state (a snapshot records it). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The engine's revision, without a call into the engine when the last apply gave it. */
  get revision(): number {
    return this.revisionKnown ? this.revisionBefore : this.engine.revision;
  }

  /** Proposes an encoded batch; resolves with its results once applied. */
  propose(batch: Uint8Array): Promise<BatchResult> {
    return this.proposer.propose(batch); // after a fatal error the proposer refuses (ERR_LOG_FAILED)
  }

  /** Proposes a batch of one op; resolves with `shape` of its result once applied (see {@link BatchProposer.proposeOne}). */
  proposeOne<T>(batch: Uint8Array, shape: ResultShape<T>): Promise<T> {
    return this.proposer.proposeOne(batch, shape);
  }

  /**
   * Applies one committed entry with one engine call, then fans its events out to watchers and
   * resolves the callers waiting for its proposals. Also used to replay entries on open.
   */
  applyEntry(entry: LogEntry): void {
    const view = readEntry(entry.data);
    if (entry.index !== this.applied + 1) {
      throw new MetaStoreError('ERR_CORRUPT', `log entry ${entry.index} applied after entry ${this.applied}: the log has a gap`);
    }
    const before = this.revisionBefore;
    const mode = this.watchable.eventsMode;
    let result: BatchResult | undefined;
    let refusal: MetaStoreError | undefined;
    this.revisionKnown = false;
    try {
      result = this.engine.applyBatch(view.batch, mode);
    } catch (e) {
      // An entry refused by validation is refused the same way on every replay: its proposals
      // fail and the log goes on. Anything else (a panic midway, a poisoned engine) leaves the
      // state unknown: fatal, and no snapshot of it is ever taken.
      if (!(e instanceof MetaStoreError) || !DETERMINISTIC_REFUSALS.has(e.code)) throw e;
      refusal = e;
    }
    this.applied = entry.index;
    if (result !== undefined) {
      this.revisionBefore = result.revision;
      this.revisionKnown = true;
      if (mode !== EventsMode.NONE) this.watchable.notify(result.events());
    }
    this.proposer.settle(view, result ?? refusal!, before, refusal !== undefined);
    this.log.applied(entry.index);
    if (result !== undefined) {
      try {
        this.afterApply(result);
      } catch {
        // Bookkeeping after apply (auto-compaction, lease deadlines) never stops the log: a
        // compaction that could not be proposed now is proposed by a later check.
      }
    }
  }

  stats(): WriteStats {
    const log: LogStats = this.log.stats();
    return { ...this.proposer.stats(), fsyncs: log.fsyncs, bytes: log.bytes, appliedIndex: this.applied };
  }

  /** Waits for every proposal made so far to be applied (or to fail), then closes the log. */
  async close(): Promise<void> {
    await this.proposer.idle();
    await this.log.close();
  }

  /** The apply loop: one committed entry at a time, in index order, never re-entered. */
  private committed(entry: LogEntry): void {
    if (this.applying) {
      this.backlog.push(entry);
      return;
    }
    this.applying = true;
    try {
      this.consume(entry);
      while (this.backlog.length > 0) this.consume(this.backlog.shift()!);
    } finally {
      this.applying = false;
    }
  }

  private consume(entry: LogEntry): void {
    if (this.fatal !== undefined) return; // drained unapplied, so appends in flight can finish
    try {
      this.applyEntry(entry);
    } catch (e) {
      // A malformed entry, a gap, an engine failure: the state can no longer follow the log.
      // Writes stop; reads keep the last applied state; the files stay locked until close().
      this.fatal = e instanceof MetaStoreError ? e : new MetaStoreError('ERR_INTERNAL', String(e), { cause: e });
      this.proposer.abort(this.fatal);
    }
  }
}
