/**
 * A watch (etcd's watcher, seen from the client): an EventEmitter and an async iterator over the
 * changes of a key, a range or a prefix.
 *
 * Events reach the watcher synchronously when a batch is applied (the store hands them over right
 * after apply) and are delivered to JS code asynchronously, in a microtask, never inside apply.
 * Every response holds whole revisions (a transaction's events always arrive together), in
 * revision order, each event once. Undelivered events are held in a bounded queue: a consumer
 * that falls behind by more than `maxQueuedEvents` is cancelled with reason `'overflow'` and the
 * revision to resume from — never a silent drop; nothing ever blocks apply.
 */

import { EventEmitter } from 'node:events';
import { MetaStoreError, type ErrorCode } from '../errors.js';
import type { KeyValue, WatchEvent } from '../types.js';

/** Default bound of a watcher's queue of undelivered events. */
export const DEFAULT_MAX_QUEUED_EVENTS = 10_000;

/** The code of an overflow cancel. */
export const WATCH_OVERFLOW: ErrorCode = 'ERR_WATCH_OVERFLOW';

/** Most revisions in one response (etcd's watchBatchMaxRevs). */
const MAX_REVISIONS_PER_RESPONSE = 1000;

/** One delivery: whole revisions of events, or a progress notification (no events). */
export interface WatchResponse {
  /** Store revision when the response was formed (etcd's header revision). */
  revision: number;
  /** Events in revision order, then sub-revision order; never part of a revision. */
  events: WatchEvent[];
  /** A progress notification: every event up to `revision` has been delivered. */
  progress?: true;
}

/** Why a watcher stopped. */
export type WatchCancelReason = 'cancelled' | 'compacted' | 'overflow' | 'closed';

/** What the `'cancel'` event carries. */
export interface WatchCancel {
  /**
   * `'cancelled'`: {@link Watcher.cancel} (or leaving a `for await` loop); `'compacted'`: the
   * start revision was compacted; `'overflow'`: the consumer fell behind by more than
   * `maxQueuedEvents`; `'closed'`: the store was closed.
   */
  reason: WatchCancelReason;
  /** Readable explanation. */
  message: string;
  /**
   * The revision to start a new watch from to miss nothing: the first revision this watcher did
   * not deliver (etcd's "resumable": last delivered revision + 1).
   */
  resumeRevision: number;
  /** With reason `'compacted'`: the store's compacted revision (etcd's compact_revision). */
  compactRevision?: number;
  /** The error for reasons `'compacted'` and `'overflow'`. */
  error?: MetaStoreError;
}

/** What a watcher needs from its store. */
export interface WatcherHost {
  /** Current store revision. */
  revision(): number;
  /** Stops routing events to the watcher. */
  unregister(watcher: Watcher): void;
}

/** @internal Settings of a watcher, resolved by the store. */
export interface WatcherSettings {
  id: number;
  key: Uint8Array;
  rangeEnd: Uint8Array;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
  maxQueuedEvents: number;
  progressNotifyMs: number;
  /** Events below it are not this watcher's (the start revision). */
  minRevision: number;
}

/**
 * The watchers scheduled during one {@link WatchableStore.notify}, open only while it runs. They
 * are flushed in one microtask, in scheduling order: the same order as one microtask each, since
 * nothing else can queue a microtask while notify runs (no user code runs in it).
 */
let group: Watcher[] | undefined;

/** @internal Opens a group; returns the one it replaces, for {@link closeGroup}. */
export function openGroup(): Watcher[] | undefined {
  const previous = group;
  group = [];
  return previous;
}

/** @internal Closes the open group and queues its flush. */
export function closeGroup(previous: Watcher[] | undefined): void {
  const g = group!;
  group = previous;
  if (g.length > 0) queueMicrotask(() => flushGroup(g, 0));
}

/** Flushes `g[from..]`. A listener that throws: the rest go on in a new microtask. */
function flushGroup(g: Watcher[], from: number): void {
  for (let i = from; i < g.length; i++) {
    try {
      g[i]!.flush();
    } catch (e) {
      if (i + 1 < g.length) queueMicrotask(() => flushGroup(g, i + 1));
      throw e;
    }
  }
}

const enum State {
  ACTIVE,
  /** Stopped by the store (overflow, compacted, closed): queued events still go out first. */
  CANCELLING,
  CANCELLED,
}

/** The watcher's events, typed (the listener signatures of {@link Watcher}). */
export interface WatcherEvents {
  /** One response: whole revisions of events, in order. */
  data: (response: WatchResponse) => void;
  /** One put event: the key-value after it, and the one before when `prevKv` was asked for. */
  put: (kv: KeyValue, prevKv: KeyValue | undefined) => void;
  /** One delete event: the key with `modRevision` = the deletion's revision, and the previous key-value with `prevKv`. */
  delete: (kv: KeyValue, prevKv: KeyValue | undefined) => void;
  /** Every event up to this revision has been delivered. */
  progress: (revision: number) => void;
  /** The watcher stopped; no event follows. */
  cancel: (info: WatchCancel) => void;
  /** The watcher stopped on an error (ERR_COMPACTED, ERR_WATCH_OVERFLOW), right after `'cancel'`. */
  error: (error: MetaStoreError) => void;
}

// Typed listener overloads merged into the class (declaration merging).
export interface Watcher {
  /** Adds a listener for a watcher event (see {@link WatcherEvents}); a `'data'`, `'put'` or `'delete'` listener starts delivery. */
  on<E extends keyof WatcherEvents>(event: E, listener: WatcherEvents[E]): this;
  /** Adds a listener for any EventEmitter event. */
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature, which this overloads.
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Adds a one-time listener for a watcher event (see {@link WatcherEvents}); a `'data'`, `'put'` or `'delete'` listener starts delivery. */
  once<E extends keyof WatcherEvents>(event: E, listener: WatcherEvents[E]): this;
  /** Adds a one-time listener for any EventEmitter event. */
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature, which this overloads.
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Removes a listener added with `on` or `once`; the watcher keeps running (stop it with `cancel()`). */
  off<E extends keyof WatcherEvents>(event: E, listener: WatcherEvents[E]): this;
  /** Removes a listener for any EventEmitter event. */
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature, which this overloads.
  off(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * Events: `'data'` (a {@link WatchResponse} of whole revisions), `'put'` and `'delete'` (per event:
 * `(kv, prevKv?)`), `'progress'` (the revision all events up to which were delivered), `'cancel'`
 * ({@link WatchCancel}) and `'error'` (a MetaStoreError: ERR_COMPACTED or ERR_WATCH_OVERFLOW;
 * emitted only when an `'error'` listener exists, `'cancel'` always comes first).
 *
 * Delivery starts once a consumer exists: a `'data'`/`'put'`/`'delete'` listener or an iterator.
 * Until then events wait in the bounded queue.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above only types the class's EventEmitter methods.
export class Watcher extends EventEmitter implements AsyncIterable<WatchResponse> {
  /** Store-unique id, from 0 upward (etcd's watch_id). */
  readonly id: number;
  /** The watched key, or the start of the watched range. */
  readonly key: Uint8Array;
  /** Empty for one key; `[0x00]` for "every key from `key`"; otherwise the exclusive end. */
  readonly rangeEnd: Uint8Array;
  /** @internal */ readonly prevKv: boolean;
  /** @internal */ readonly noPut: boolean;
  /** @internal */ readonly noDelete: boolean;
  /** @internal */ minRevision: number;
  private readonly maxQueued: number;
  /** Queued replay events, exempt from the bound until delivered. */
  private allowance = 0;
  private queue: WatchEvent[] = [];
  private head = 0;
  private state = State.ACTIVE;
  private cancelInfo: WatchCancel | undefined;
  private scheduled = false;
  private progressRequested = false;
  private deliveredSinceTick = false;
  private progressTimer: ReturnType<typeof setInterval> | undefined;
  /** Last revision handed to the consumer (emitted, or put in the iterator's buffer). */
  private lastHandedOut = 0;
  /** Last revision the consumer took (emitted, or returned by the iterator). */
  private lastConsumed = 0;
  // Async iteration.
  private iterating = false;
  private iterBuffer: WatchResponse[] = [];
  private iterEvents = 0;
  private waiter: { resolve: (r: IteratorResult<WatchResponse>) => void; reject: (e: unknown) => void } | undefined;
  private errorThrown = false;

  /** @internal */
  constructor(
    private readonly host: WatcherHost,
    s: WatcherSettings,
  ) {
    super();
    this.id = s.id;
    this.key = s.key;
    this.rangeEnd = s.rangeEnd;
    this.prevKv = s.prevKv;
    this.noPut = s.noPut;
    this.noDelete = s.noDelete;
    this.maxQueued = s.maxQueuedEvents;
    this.minRevision = s.minRevision;
    this.lastHandedOut = this.lastConsumed = s.minRevision - 1;
    this.on('newListener', (name: string | symbol) => {
      if (name === 'data' || name === 'put' || name === 'delete') this.schedule();
    });
    if (s.progressNotifyMs > 0) {
      this.progressTimer = setInterval(() => {
        if (!this.deliveredSinceTick) this.requestProgress();
        this.deliveredSinceTick = false;
      }, s.progressNotifyMs);
      this.progressTimer.unref();
    }
  }

  /** Whether the watcher still receives events (false once cancelled, for any reason). */
  get active(): boolean {
    return this.state === State.ACTIVE;
  }

  /** Why the watcher stopped, once it has. */
  get cancelled(): WatchCancel | undefined {
    return this.state === State.CANCELLED ? this.cancelInfo : undefined;
  }

  /**
   * The revision a new watch should start from to continue where this one is: the last revision
   * the consumer took + 1 (etcd's "resumable").
   */
  get resumeRevision(): number {
    return this.lastConsumed + 1;
  }

  /** Number of events held (queued or buffered for the iterator), not yet consumed. */
  get queued(): number {
    return this.queue.length - this.head + this.iterEvents;
  }

  /** @internal Replayed history: queued without counting against the bound. */
  replay(events: WatchEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'put' ? this.noPut : this.noDelete) continue;
      this.queue.push(ev);
      this.allowance++;
    }
    if (this.queue.length > 0) this.schedule();
  }

  /** @internal One live event from apply, in revision order. */
  push(ev: WatchEvent): void {
    if (this.state !== State.ACTIVE) return;
    const rev = ev.kv.modRevision;
    if (rev < this.minRevision || (ev.type === 'put' ? this.noPut : this.noDelete)) return;
    if (this.queued >= this.maxQueued + this.allowance) {
      this.overflow(rev);
      return;
    }
    const e = this.prevKv || ev.prevKv === undefined ? ev : { type: ev.type, kv: ev.kv, subRevision: ev.subRevision };
    // Often the whole queue is one event handed over as is: a one-slot array, not push's 17.
    if (this.queue.length === 0) this.queue = [e];
    else this.queue.push(e);
    this.schedule();
  }

  /** @internal Stops the watcher from the store's side: queued events go out, then `'cancel'`. */
  stop(reason: WatchCancelReason, message: string, extra?: { compactRevision?: number; error?: MetaStoreError; resumeRevision?: number }): void {
    if (this.state !== State.ACTIVE) return;
    this.state = State.CANCELLING;
    this.host.unregister(this);
    const info: WatchCancel = { reason, message, resumeRevision: extra?.resumeRevision ?? 0 };
    if (extra?.compactRevision !== undefined) info.compactRevision = extra.compactRevision;
    if (extra?.error !== undefined) info.error = extra.error;
    this.cancelInfo = info;
    this.schedule();
  }

  /**
   * Asks for a progress notification: once every queued event is delivered, `'progress'` is
   * emitted with the current store revision (and the iterator yields `{ progress: true }`), when
   * the watcher is synced (not waiting for a future start revision).
   */
  requestProgress(): void {
    if (this.state !== State.ACTIVE) return;
    this.progressRequested = true;
    this.schedule();
  }

  /** Stops the watcher now: no more events (queued ones are dropped); `'cancel'` with reason `'cancelled'`. */
  cancel(): void {
    if (this.state === State.CANCELLED) return;
    if (this.state === State.ACTIVE) this.host.unregister(this);
    const info: WatchCancel = this.cancelInfo ?? { reason: 'cancelled', message: 'watch cancelled', resumeRevision: 0 };
    info.resumeRevision = this.resumeRevision;
    this.queue = [];
    this.head = 0;
    this.iterBuffer = [];
    this.iterEvents = 0;
    this.finish(info, false);
  }

  /**
   * Iterates over responses (`for await (const { events } of watcher)`). Ends when the watcher is
   * cancelled or the store closes; throws the error of a `'compacted'` / `'overflow'` cancel
   * after the responses queued before it. Leaving the loop (`break`) cancels the watcher.
   * Progress notifications come as responses with `progress: true` and no events. One loop at a
   * time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WatchResponse> {
    if (this.iterating) throw new MetaStoreError('ERR_INVALID_OPTION', 'a watcher can be iterated by one loop at a time');
    this.iterating = true;
    this.schedule();
    const it: AsyncIterableIterator<WatchResponse> = {
      next: () => this.nextResponse(),
      return: async () => {
        this.cancel();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  private nextResponse(): Promise<IteratorResult<WatchResponse>> {
    const r = this.iterBuffer.shift();
    if (r !== undefined) {
      this.iterEvents -= r.events.length;
      this.release(r.events.length);
      if (r.events.length > 0) this.lastConsumed = r.events[r.events.length - 1]!.kv.modRevision;
      return Promise.resolve({ done: false, value: r });
    }
    if (this.state === State.CANCELLED) {
      const error = this.cancelInfo?.error;
      if (error !== undefined && !this.errorThrown) {
        this.errorThrown = true;
        return Promise.reject(error);
      }
      return Promise.resolve({ done: true, value: undefined });
    }
    if (this.waiter !== undefined) return Promise.reject(new MetaStoreError('ERR_INVALID_OPTION', 'next() called again before the previous one settled'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The state, unnarrowed (listeners run in between and may change it). */
  private now(): State {
    return this.state;
  }

  private hasConsumer(): boolean {
    return this.iterating || this.listenerCount('put') > 0 || this.listenerCount('data') > 0 || this.listenerCount('delete') > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.state === State.CANCELLED) return;
    this.scheduled = true;
    if (group !== undefined) group.push(this);
    else queueMicrotask(() => this.flush());
  }

  /** @internal Delivers what is due (in its own microtask, or its group's). */
  flush(): void {
    this.scheduled = false;
    if (this.state === State.CANCELLED) return;
    if (this.hasConsumer()) {
      while (this.head < this.queue.length) {
        // Only per-event listeners: the same revisions go out without a response object.
        if (!this.iterating && this.listenerCount('data') === 0) this.emitEvents(this.responseEnd());
        else this.deliver(this.take());
        if (this.now() === State.CANCELLED) return; // a listener cancelled
      }
      if (this.head > 0) {
        this.queue = [];
        this.head = 0;
      }
    }
    if (this.progressRequested) {
      this.progressRequested = false;
      const revision = this.host.revision();
      if (this.now() === State.ACTIVE && this.head === this.queue.length && this.minRevision <= revision + 1) {
        this.deliver({ revision, events: [], progress: true });
      }
    }
    if (this.now() === State.CANCELLING) {
      const info = this.cancelInfo!;
      // Events nobody took are not delivered: the resume point is the first of them.
      const first = this.queue[this.head];
      info.resumeRevision = first !== undefined ? first.kv.modRevision : info.resumeRevision || this.lastHandedOut + 1;
      this.finish(info, true);
    }
  }

  /** Where the next response ends: whole revisions from the queue head, up to MAX_REVISIONS_PER_RESPONSE. */
  private responseEnd(): number {
    const q = this.queue;
    let end = this.head;
    let revs = 0;
    let rev = -1;
    while (end < q.length) {
      const r = q[end]!.kv.modRevision;
      if (r !== rev) {
        if (revs === MAX_REVISIONS_PER_RESPONSE) break;
        revs++;
        rev = r;
      }
      end++;
    }
    return end;
  }

  /** The next response, taken off the queue. */
  private take(): WatchResponse {
    const q = this.queue;
    const start = this.head;
    const end = this.responseEnd();
    const revision = this.host.revision();
    if (start === 0 && end === q.length) {
      // Hand the whole queue over; later pushes (a listener's own writes) go to a fresh one.
      this.queue = [];
      this.head = 0;
      return { revision, events: q };
    }
    this.head = end;
    return { revision, events: q.slice(start, end) };
  }

  private deliver(response: WatchResponse): void {
    const events = response.events;
    const last = events.length > 0 ? events[events.length - 1]!.kv.modRevision : 0;
    if (last > 0) {
      this.lastHandedOut = last;
      this.deliveredSinceTick = true;
    }
    if (this.iterating && this.waiter === undefined) {
      this.iterBuffer.push(response);
      this.iterEvents += events.length;
    } else {
      if (last > 0) this.lastConsumed = last;
      this.release(events.length);
      if (this.iterating) {
        const w = this.waiter!;
        this.waiter = undefined;
        w.resolve({ done: false, value: response });
      }
    }
    if (response.progress) {
      this.emit('progress', response.revision);
      return;
    }
    // emit() with no listener still costs its rest-args array: skip it.
    if (this.listenerCount('data') > 0) this.emit('data', response);
    this.emitEach(events, 0, events.length);
  }

  /** `'put'` / `'delete'` for `events[start..end)`, until a listener cancels the watcher. */
  private emitEach(events: WatchEvent[], start: number, end: number): void {
    for (let i = start; i < end; i++) {
      if (this.state === State.CANCELLED) return;
      const ev = events[i]!;
      this.emit(ev.type, ev.kv, ev.prevKv as KeyValue | undefined);
    }
  }

  /**
   * What {@link deliver} does with the response `queue[head..end)` when nobody takes responses
   * as such (no `'data'` listener, no iterator): its events are emitted straight from the queue.
   */
  private emitEvents(end: number): void {
    const q = this.queue;
    const start = this.head;
    this.head = end;
    this.lastHandedOut = this.lastConsumed = q[end - 1]!.kv.modRevision;
    this.deliveredSinceTick = true;
    this.release(end - start);
    this.emitEach(q, start, end);
  }

  private release(n: number): void {
    this.allowance = Math.max(0, this.allowance - n);
  }

  /** The revision `rev` no longer fits: drop its events already queued (atomicity) and stop. */
  private overflow(rev: number): void {
    const q = this.queue;
    while (q.length > this.head && q[q.length - 1]!.kv.modRevision === rev) q.pop();
    const error = new MetaStoreError(
      WATCH_OVERFLOW,
      `watch ${this.id} cancelled: its consumer fell more than ${this.maxQueued} events behind; resume from revision ${rev}`,
      { category: 'Unavailable' },
    );
    this.stop('overflow', error.message, { error, resumeRevision: rev });
  }

  private finish(info: WatchCancel, emitError: boolean): void {
    this.state = State.CANCELLED;
    this.cancelInfo = info;
    this.queue = [];
    this.head = 0;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.progressTimer = undefined;
    if (this.waiter !== undefined && this.iterBuffer.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      if (info.error !== undefined && emitError) {
        this.errorThrown = true;
        w.reject(info.error);
      } else {
        w.resolve({ done: true, value: undefined });
      }
    }
    if (!emitError) this.errorThrown = true; // a user cancel ends the iterator quietly
    this.emit('cancel', info);
    if (emitError && info.error !== undefined && this.listenerCount('error') > 0) this.emit('error', info.error);
  }
}
