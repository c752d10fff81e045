/** The in-memory log: an entry is committed as soon as it is appended. Nothing survives close. */

import type { Log } from './log.js';
import { QueuedLog } from './queued-log.js';

export class MemoryLog extends QueuedLog implements Log {
  readonly kind = 'memory' as const;

  constructor() {
    super(0);
  }

  async append(entries: Uint8Array[]): Promise<number> {
    const first = this.last + 1;
    await this.commit(first, entries);
    return first;
  }

  applied(): void {}

  async close(): Promise<void> {
    this.channel.end();
  }
}
