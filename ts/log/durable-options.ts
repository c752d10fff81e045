/**
 * Options of a durable store (`MetaStore.open({ path })`). Kept apart from the durable log
 * itself so that the public declarations never reach the native binding's types.
 */

/** Options of a durable store (`MetaStore.open({ path })`). Integers; out of range is ERR_INVALID_OPTION. */
export interface DurableOptions {
  /**
   * Take a snapshot after this many bytes of log entries since the last one, or after as many
   * bytes as the last snapshot took, whichever is more (so a large state is not rewritten more
   * often than the log grows by its size). 1 to 1 TiB. Default 64 MiB.
   */
  snapshotEveryBytes?: number;
  /** Size each write-ahead log segment is preallocated to on disk: 64 KiB to 1 GiB. Default 64 MiB. */
  walSegmentBytes?: number;
}

export const DEFAULT_SNAPSHOT_EVERY_BYTES = 64 << 20;
export const DEFAULT_WAL_SEGMENT_BYTES = 64 << 20;
export const MIN_WAL_SEGMENT_BYTES = 64 << 10;

/** What opening a durable store found (`store.recovery`). */
export interface RecoveryInfo {
  /** Log index of the snapshot the state was restored from (0: none). */
  snapshotIndex: number;
  /** Log entries applied after it before the store opened. */
  replayedEntries: number;
  /** Where a torn last record was cut off (`segment:offset`), if one was. */
  truncated: string | undefined;
  /** Snapshot files that were damaged and passed over for an older one. */
  skippedSnapshots: string[];
  /**
   * Damage in the log that lost nothing, because the snapshot holds everything it could have
   * held (`segment:offset: reason` each): opening read past it, and the purge after the next
   * snapshot removes it.
   */
  coveredDamage: string[];
}
