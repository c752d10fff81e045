/**
 * The log the store's writes go through (docs/log.md). Proposals are appended as Raft-shaped
 * entries (index, term); committed entries come out of {@link Log.committed} in index order and
 * are applied by exactly one apply loop. Two implementations: {@link MemoryLog} (committed as
 * soon as appended) and {@link FileLog} (committed once fsynced to the write-ahead log). A
 * replicated log (raft-rs) will be a third.
 */

/** One committed entry. */
export interface LogEntry {
  readonly index: number;
  readonly term: number;
  /** The entry's bytes (docs/log.md, "Entry framing"). */
  readonly data: Uint8Array;
}

/** Counters of a log. */
export interface LogStats {
  /** Entries appended since open. */
  entries: number;
  /** Group writes (one per {@link Log.append} call). */
  appends: number;
  /** Syncs of the log: one fdatasync each, shared by the appends queued meanwhile (0 for the memory log). */
  fsyncs: number;
  /** Bytes of entries appended since open. */
  bytes: number;
}

export interface Log {
  /** `'memory'` or `'file'`. */
  readonly kind: 'memory' | 'file';
  /** Index of the last committed entry (0: none). */
  readonly lastIndex: number;
  /**
   * Appends entries as one group (for the file log: one write and one fdatasync) and resolves
   * with the first one's index once they are committed and queued on {@link Log.committed}.
   * Waits for room when the committed queue is full (backpressure). Several appends may be in
   * flight; they complete, and their entries are committed, in the order they were made.
   * Rejects when the log failed: the outcome of these entries is then unknown.
   */
  append(entries: Uint8Array[]): Promise<number>;
  /** The committed entries in index order. Exactly one consumer; ends after {@link Log.close}. */
  committed(): AsyncIterableIterator<LogEntry>;
  /**
   * The same stream handed to a synchronous callback instead (entries that arrive while nothing
   * is queued go straight to it): the apply loop without a promise per entry. Use one or the other.
   */
  consumeWith(sink: (entry: LogEntry) => void): void;
  /** The apply loop applied everything up to `index` (lets the log snapshot and compact). */
  applied(index: number): void;
  /** Counters since open. */
  stats(): LogStats;
  /** Ends the committed stream once drained and releases the log's files. */
  close(): Promise<void>;
}
