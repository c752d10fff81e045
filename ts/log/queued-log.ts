/** What both logs share: committed entries queued for the apply loop, and the counters. */

import { CommitChannel } from './commit-channel.js';
import type { LogEntry, LogStats } from './log.js';

/** Committed entries waiting for the apply loop before appends wait. */
export const COMMIT_QUEUE_ENTRIES = 64;

export abstract class QueuedLog {
  protected readonly channel = new CommitChannel(COMMIT_QUEUE_ENTRIES);
  protected readonly counters: LogStats = { entries: 0, appends: 0, fsyncs: 0, bytes: 0 };
  protected last: number;

  constructor(lastIndex: number) {
    this.last = lastIndex;
  }

  get lastIndex(): number {
    return this.last;
  }

  /**
   * Queues committed entries with indexes `first`, `first + 1`, … (term 1: a single node) for
   * the apply loop, all at once; returns a promise when the queue is past its capacity.
   */
  protected commit(first: number, entries: Uint8Array[]): Promise<void> | undefined {
    this.counters.appends++;
    for (let i = 0; i < entries.length; i++) {
      const data = entries[i]!;
      this.counters.entries++;
      this.counters.bytes += data.length;
      this.last = first + i;
      this.channel.push({ index: first + i, term: 1, data });
    }
    return this.channel.room();
  }

  committed(): AsyncIterableIterator<LogEntry> {
    return this.channel;
  }

  consumeWith(sink: (entry: LogEntry) => void): void {
    this.channel.consumeWith(sink);
  }

  stats(): LogStats {
    return { ...this.counters };
  }
}
