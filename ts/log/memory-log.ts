/** The in-memory log: an entry is committed as soon as it is appended. Nothing survives close. */

import type { Log } from './log.js';
import { QueuedLog } from './queued-log.js';

export class MemoryLog extends QueuedLog implements Log {
  readonly kind = 'memory' as const;

  constructor() {
    super(0);
  }

  append(entries: Uint8Array[]): Promise<number> {
    const first = this.last + 1;
    let room: Promise<void> | undefined;
    try {
      room = this.commit(first, entries);
    } catch (e) {
      return Promise.reject(e);
    }
    // Not an async function: an append that needs no room resolves without an extra hop.
    return room === undefined ? Promise.resolve(first) : room.then(() => first);
  }

  applied(): void {}

  async close(): Promise<void> {
    this.channel.end();
  }
}
