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
  private sink: ((entry: LogEntry) => void) | undefined;

  constructor(readonly capacity: number) {}

  /** Entries waiting to be applied. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Queues `entry` (always: the queue may go over capacity; {@link CommitChannel.room} is the brake). */
  push(entry: LogEntry): void {
    if (this.ended) throw new Error('commit channel is closed');
    if (this.sink !== undefined && this.head === this.items.length) {
      this.sink(entry);
      return;
    }
    const consumer = this.consumer;
    if (consumer !== undefined) {
      this.consumer = undefined;
      consumer({ value: entry, done: false });
      return;
    }
    this.items.push(entry);
  }

  /**
   * Makes the consumer a synchronous callback: an entry pushed while nothing is queued is
   * handed to it at once, in the pusher's call (no promise, no microtask per entry). Order and
   * the single consumer are as with iteration, which must not be used alongside.
   */
  consumeWith(sink: (entry: LogEntry) => void): void {
    this.sink = sink;
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
