/**
 * The durable log: entries go to the write-ahead log of the native addon (crates/metastore-wal)
 * through its writer thread, one record per append; appends queued during a sync share the next
 * fdatasync. An entry is committed once fsynced. Every `snapshotEveryBytes` of appended entries
 * the apply loop's state is captured at an apply boundary, written atomically beside the log, and
 * the log segments behind it are removed. Opening restores the newest valid snapshot and returns
 * the entries after it.
 */

import { translateBindingError } from '../engines/binding-error.js';
import { MetaStoreError } from '../errors.js';
import type { NativeBinding } from '../load-native.js';
import type { NativeEngine } from '../engines/native-engine.js';
import type { ResolvedDurableOptions } from '../facade/open-options.js';
import type { Engine } from '../types.js';
import type { Log, LogEntry } from './log.js';
import { QueuedLog } from './queued-log.js';
import type { RecoveryInfo } from './durable-options.js';

type Handle = ReturnType<NativeBinding['durableOpen']>;

/** A typed error from what the durable log's binding threw (see {@link translateBindingError}). */
export function translateDurableError(e: unknown): MetaStoreError {
  return translateBindingError(e, { withOpIndex: false, context: 'durable log' });
}

/** What opening a durable store found. */
export interface OpenedFileLog {
  log: FileLog;
  epoch: number;
  appliedIndex: number;
  replay: LogEntry[];
  recovery: RecoveryInfo;
}

/**
 * Opens (or creates) the durable store in `path` for `engine` (which must be the native one):
 * restores the newest valid snapshot into the engine and returns the committed entries after it.
 */
export async function openFileLog(path: string, engine: Engine, options: ResolvedDurableOptions): Promise<OpenedFileLog> {
  const snapshotEvery = options.snapshotEveryBytes;
  const segmentBytes = options.walSegmentBytes;
  const native = engine as NativeEngine;
  const binding = native.binding;
  let handle: Handle;
  let log: FileLog | undefined;
  try {
    // Reports come only for appends, which need `log`.
    handle = binding.durableOpen(path, native.handle, { segmentBytes }, (appends, first, error) => log!.appended(appends, first, error));
  } catch (e) {
    throw translateDurableError(e);
  }
  const found = binding.durableRecovered(handle);
  const replay: LogEntry[] = found.entries.map((e) => ({ index: e.index, term: e.term, data: e.data }));
  const replayedBytes = replay.reduce((n, e) => n + e.data.length, 0);
  log = new FileLog(binding, handle, native, found.lastIndex, snapshotEvery, replayedBytes, found.snapshotBytes);
  return {
    log,
    epoch: found.epoch,
    appliedIndex: found.snapshotIndex,
    replay,
    recovery: {
      snapshotIndex: found.snapshotIndex,
      replayedEntries: replay.length,
      truncated: found.truncated ?? undefined,
      skippedSnapshots: found.skippedSnapshots,
      coveredDamage: found.coveredDamage,
    },
  };
}

function concat(entries: Uint8Array[]): Uint8Array {
  if (entries.length === 1) return entries[0]!;
  let size = 0;
  for (const e of entries) size += e.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const e of entries) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/** An append waiting for the writer thread's report. */
interface PendingAppend {
  entries: number;
  resolve: (first: number) => void;
  reject: (e: MetaStoreError) => void;
}

export class FileLog extends QueuedLog implements Log {
  readonly kind = 'file' as const;
  /** Appends handed to the writer thread, oldest first; its reports settle them in this order. */
  private pending: PendingAppend[] = [];
  private pendingHead = 0;
  private bytesSinceSnapshot: number;
  /** Index of the last entry replayed on open: no snapshot is taken before the replay is done. */
  private readonly replayedTo: number;
  private snapshotting: Promise<void> | undefined;
  private failure: MetaStoreError | undefined;
  private closed: Promise<void> | undefined;
  constructor(
    private readonly binding: NativeBinding,
    private readonly handle: Handle,
    private readonly engine: NativeEngine,
    lastIndex: number,
    private readonly snapshotEvery: number,
    /** Bytes of log after the snapshot found on open: they count towards the next one. */
    replayedBytes: number,
    /** Size of the snapshot found on open (0: none): a state that large is not rewritten more often than the log grows by it. */
    private lastSnapshotBytes: number,
  ) {
    super(lastIndex);
    this.bytesSinceSnapshot = replayedBytes;
    this.replayedTo = lastIndex;
  }

  async append(entries: Uint8Array[]): Promise<number> {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed !== undefined) throw new MetaStoreError('ERR_CLOSED', 'log is closed');
    const durable = new Promise<number>((resolve, reject) => this.pending.push({ entries: entries.length, resolve, reject }));
    try {
      this.binding.durableAppend(
        this.handle,
        concat(entries),
        Uint32Array.from(entries, (e) => e.length),
      );
    } catch (e) {
      this.pending.pop();
      this.failure ??= translateDurableError(e);
      throw this.failure;
    }
    // Reports come in append order and settle in it, so entries are committed in log order.
    const first = await durable;
    for (const data of entries) this.bytesSinceSnapshot += data.length;
    await this.commit(first, entries);
    return first;
  }

  /** The writer thread's report: the `appends` oldest pending appends are durable from `first` on, or failed. */
  appended(appends: number, first: number, error: string | null): void {
    const failure = error === null ? undefined : (this.failure ??= translateDurableError(new Error(error)));
    if (failure === undefined) this.counters.fsyncs++;
    for (let i = 0; i < appends; i++) {
      const p = this.pending[this.pendingHead++]!;
      if (failure !== undefined) {
        p.reject(failure);
      } else {
        p.resolve(first);
        first += p.entries;
      }
    }
    if (this.pendingHead === this.pending.length) {
      this.pending = [];
      this.pendingHead = 0;
    }
  }

  /** Called right after entry `index` is applied: the engine's state is exactly at `index`. */
  applied(index: number): void {
    // During the replay on open, a snapshot at the first replayed entry would rewrite the whole
    // state to advance by one entry (on every open); after it, one snapshot covers the replay.
    if (index < this.replayedTo) return;
    if (this.bytesSinceSnapshot < Math.max(this.snapshotEvery, this.lastSnapshotBytes) || this.snapshotting !== undefined || this.failure !== undefined) return;
    this.snapshot(index);
  }

  /**
   * Takes a snapshot of the state at `index` (it must be the applied index): the counters now,
   * the keys and their versions at or below the revision of that moment in the background.
   */
  snapshot(index: number): Promise<void> {
    this.bytesSinceSnapshot = 0;
    let writing: Promise<void>;
    try {
      writing = this.binding.durableSnapshot(this.handle, this.engine.handle, index, 1).then((size) => {
        if (size === 0) {
          // A compaction ran during the background pass: nothing was written; try again soon.
          this.bytesSinceSnapshot += Math.max(this.snapshotEvery, this.lastSnapshotBytes);
          return;
        }
        this.lastSnapshotBytes = size;
      });
    } catch (e) {
      writing = Promise.reject(e);
    }
    const done = writing.then(
      () => void (this.snapshotting = undefined),
      (e: unknown) => {
        // The log is intact, but a store that cannot write its snapshots stops like one that cannot write its log.
        this.failure = translateDurableError(e);
        this.snapshotting = undefined;
      },
    );
    this.snapshotting = done;
    return done;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.channel.end();
      await this.snapshotting;
      try {
        this.binding.durableClose(this.handle);
      } catch (e) {
        // The files are released either way; a log that could not be closed cleanly opens as
        // after a crash (nothing acknowledged is lost), so this is reported, not retried.
        throw translateDurableError(e);
      }
    })();
    return this.closed;
  }
}
