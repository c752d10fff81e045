/** The in-memory log: an entry is committed as soon as it is appended. Nothing survives close. */

import { CommitChannel } from './commit-channel.js';
import type { Log, LogEntry, LogStats } from './log.js';

/** Committed entries waiting for the apply loop before appends wait. */
export const COMMIT_QUEUE_ENTRIES = 64;

export class MemoryLog implements Log {
  readonly kind = 'memory' as const;
  private readonly channel = new CommitChannel(COMMIT_QUEUE_ENTRIES);
  private last = 0;
  private readonly counters: LogStats = { entries: 0, appends: 0, fsyncs: 0, bytes: 0 };

  get lastIndex(): number {
    return this.last;
  }

  async append(entries: Uint8Array[]): Promise<number> {
    const first = this.last + 1;
    this.counters.appends++;
    for (const data of entries) {
      const entry: LogEntry = { index: ++this.last, term: 1, data };
      this.counters.entries++;
      this.counters.bytes += data.length;
      this.channel.push(entry);
    }
    await this.channel.room();
    return first;
  }

  committed(): AsyncIterableIterator<LogEntry> {
    return this.channel;
  }

  consumeWith(sink: (entry: LogEntry) => void): void {
    this.channel.consumeWith(sink);
  }

  applied(): void {}

  stats(): LogStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.channel.end();
  }
}
