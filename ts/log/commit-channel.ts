/**
 * A bounded single-consumer queue of committed entries: the log pushes, the apply loop pulls
 * with `for await`. Pull order is push order. A log that pushed past the capacity waits on
 * `room()` until the consumer catches up, which is how a lagging apply loop holds back appends.
 */

import type { LogEntry } from './log.js';

export class CommitChannel implements AsyncIterableIterator<LogEntry> {
  private items: LogEntry[] = [];
  private head = 0;
  private consumer: ((r: IteratorResult<LogEntry>) => void) | undefined;
  private roomWaiters: Array<() => void> = [];
  private ended = false;

  constructor(readonly capacity: number) {}

  /** Entries waiting to be applied. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Queues `entry` (always: the queue may go over capacity; {@link CommitChannel.room} is the brake). */
  push(entry: LogEntry): void {
    if (this.ended) throw new Error('commit channel is closed');
    const consumer = this.consumer;
    if (consumer !== undefined) {
      this.consumer = undefined;
      consumer({ value: entry, done: false });
      return;
    }
    this.items.push(entry);
  }

  /** Resolves once the queue is within capacity (at once if it is). */
  room(): Promise<void> | undefined {
    if (this.size <= this.capacity || this.ended) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  next(): Promise<IteratorResult<LogEntry>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++]!;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      if (this.roomWaiters.length > 0 && this.size <= this.capacity) for (const wake of this.roomWaiters.splice(0)) wake();
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.consumer !== undefined) throw new Error('commit channel has one consumer');
    return new Promise((resolve) => (this.consumer = resolve));
  }

  /** The stream ends once what is queued has been taken. */
  end(): void {
    this.ended = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    consumer?.({ value: undefined, done: true });
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  return(): Promise<IteratorResult<LogEntry>> {
    this.end();
    this.items = [];
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
