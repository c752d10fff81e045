/**
 * The store's write path (docs/log.md): proposals → {@link BatchProposer} → {@link Log} →
 * committed entries → the one apply loop → engine (one call per entry) → watchers → waiters.
 * The apply loop is the only code that changes the engine's state, and it does nothing but
 * apply committed entries in index order: the same log gives the same state.
 */

import { MetaStoreError } from './errors.js';
import { BatchProposer, type ProposerOptions, type ProposerStats } from './log/batch-proposer.js';
import { readEntry } from './log/entry.js';
import type { Log, LogEntry, LogStats } from './log/log.js';
import { EventsMode, type BatchResult, type Engine } from './types.js';
import type { WatchableStore } from './watch/watchable-store.js';

/** Counters of the write path: the proposer's and the log's. */
export interface WriteStats extends ProposerStats {
  /** fdatasync calls made by the log (0 in memory). */
  fsyncs: number;
  /** Bytes of entries appended. */
  bytes: number;
  /** Index of the last applied log entry. */
  appliedIndex: number;
}

export class WritePath {
  readonly proposer: BatchProposer;
  private applied = 0;
  private revisionBefore: number;
  private readonly loop: Promise<void>;
  private fatal: MetaStoreError | undefined;

  constructor(
    private readonly engine: Engine,
    readonly log: Log,
    private readonly watchable: WatchableStore,
    /** Runs after each applied entry (auto-compaction, lease bookkeeping). */
    private readonly afterApply: (result: BatchResult) => void,
    identity: { node: number; epoch: number; appliedIndex: number },
    validate: (batch: Uint8Array) => void,
    options?: ProposerOptions,
  ) {
    this.applied = identity.appliedIndex;
    this.revisionBefore = engine.revision;
    this.proposer = new BatchProposer(log, identity.node, identity.epoch, validate, options);
    this.loop = this.run();
  }

  /** Index of the last applied entry: part of the state (a snapshot records it). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** Proposes an encoded batch; resolves with its results once applied. */
  propose(batch: Uint8Array): Promise<BatchResult> {
    if (this.fatal !== undefined) throw this.fatal;
    return this.proposer.propose(batch);
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
    let result: BatchResult | MetaStoreError;
    try {
      result = this.engine.applyBatch(view.batch, mode);
    } catch (e) {
      // A refused entry is refused the same way on every replay: its proposals fail, the log goes on.
      result = e instanceof MetaStoreError ? e : new MetaStoreError('ERR_INTERNAL', `apply failed: ${String(e)}`, { cause: e });
    }
    this.applied = entry.index;
    if (!(result instanceof MetaStoreError)) {
      this.revisionBefore = result.revision;
      if (mode !== EventsMode.NONE) this.watchable.notify(result.events());
    }
    this.proposer.settle(view, result, before);
    this.log.applied(entry.index);
    if (!(result instanceof MetaStoreError)) this.afterApply(result);
  }

  stats(): WriteStats {
    const log: LogStats = this.log.stats();
    return { ...this.proposer.stats(), fsyncs: log.fsyncs, bytes: log.bytes, appliedIndex: this.applied };
  }

  /** Waits for every proposal made so far to be applied (or to fail), then closes the log. */
  async close(): Promise<void> {
    await this.proposer.idle();
    await this.log.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    for await (const entry of this.log.committed()) {
      try {
        this.applyEntry(entry);
      } catch (e) {
        // A malformed entry or a gap: the state can no longer follow the log.
        this.fatal = e instanceof MetaStoreError ? e : new MetaStoreError('ERR_INTERNAL', String(e), { cause: e });
        this.proposer.abort(this.fatal);
        await this.log.close();
        return;
      }
    }
  }
}
