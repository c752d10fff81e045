/**
 * The Watch service: one bidirectional stream carries any number of watches (etcd's
 * serverWatchStream), each backed by a store watcher (`store.watch`).
 *
 * - Create: key (an empty key is "\0"), range_end (empty: the key; "\0": every key from it;
 *   else [key, range_end)), start_revision (0: from now; ≤ current: history first), prev_kv,
 *   filters (NOPUT / NODELETE), progress_notify, fragment, and an optional client-chosen
 *   watch_id (0: the next free one of 0, 1, 2… on the stream). Answered `created` with the
 *   current revision. Refusals come as created + canceled with watch_id −1 and etcd's reason: a
 *   negative start ("etcdserver: mvcc: required revision has been compacted"), key ≥ range_end
 *   ("mvcc: watcher range is empty"), an ID in use ("mvcc: duplicate watch ID provided on the
 *   WatchStream").
 * - A start below the compacted revision: after `created`, a response with canceled and
 *   compact_revision (header revision 0, as etcd).
 * - Cancel answers `canceled` (an unknown ID: nothing). A progress request is answered with
 *   watch_id −1 and the current revision once every watch of the stream is synced (has
 *   delivered every event up to that revision).
 * - Events go out in whole revisions, as the store's watcher hands them over (a replay packs up
 *   to 1000 revisions per response); with `fragment`, a response larger than max-request-bytes
 *   + 512 KiB is split, every piece but the last flagged `fragment`.
 *
 * Slow clients never get a gap and never make the server buffer without bound: when the bytes
 * written to a stream and not yet sent pass a bound (`watchStreamBufferBytes`), the stream stops
 * reading requests and each of its store watchers is stopped at its next event, remembering
 * that revision (a watch with no events meanwhile keeps running); once the client has read
 * enough, the stopped watchers start again from those revisions (the history fills the gap). A store watcher that overflows (one revision
 * of more events than its queue holds) is restarted the same way. A watch whose next revision
 * has been compacted meanwhile is cancelled with compact_revision, as etcd does.
 */

import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Watcher, WatchCancel, WatchFilter, WatchOptions, WatchResponse } from '../index.js';
import { admitStream, tooManyStreams, type ServerContext } from './context.js';
import { endStream, ETCD, MVCC_WATCH, toWireError, type WireError } from './errors.js';
import type { PbHeader } from './header.js';
import { isInverted } from './kv.js';
import { big, bytesOf, clamped, eventOut, type Int64, type PbEvent, type PbKeyValue } from './wire.js';

interface PbWatchCreateRequest {
  key: Uint8Array;
  range_end: Uint8Array;
  start_revision: Int64;
  progress_notify: boolean;
  filters: number[];
  prev_kv: boolean;
  watch_id: Int64;
  fragment: boolean;
}

interface PbWatchRequest {
  request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  create_request?: PbWatchCreateRequest;
  cancel_request?: { watch_id: Int64 };
  progress_request?: Record<string, never>;
}

interface PbWatchResponse {
  header: PbHeader;
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: number;
  cancel_reason: string;
  fragment: boolean;
  events: PbEvent[];
}

/** Bytes of gRPC overhead etcd allows on top of max-request-bytes (its MaxRequestBytesWithOverhead). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

// ---------------------------------------------------------------------------------------------
// Encoded sizes (protobuf), to split responses as etcd does and to account for buffered bytes.

function varintSize(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function fieldSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

function bytesFieldSize(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

function kvSize(kv: PbKeyValue): number {
  return (
    bytesFieldSize(kv.key.length) +
    fieldSize(kv.create_revision) +
    fieldSize(kv.mod_revision) +
    fieldSize(kv.version) +
    bytesFieldSize(kv.value.length) +
    fieldSize(kv.lease)
  );
}

function eventSize(ev: PbEvent): number {
  const kv = kvSize(ev.kv);
  let n = fieldSize(ev.type) + 1 + varintSize(kv) + kv;
  if (ev.prev_kv !== null) {
    const p = kvSize(ev.prev_kv);
    n += 1 + varintSize(p) + p;
  }
  return n;
}

/** Size of a response's fields other than its events (header and flags), generously. */
const RESPONSE_FIXED = 64;

function responseSize(events: readonly PbEvent[]): number {
  let n = RESPONSE_FIXED;
  for (const ev of events) {
    const s = eventSize(ev);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------

/** One watch of a stream. */
class ServerWatch {
  /** The store watcher now delivering this watch's events; undefined while paused or restarting. */
  watcher: Watcher | undefined;
  /** The first revision this watch has not delivered yet. */
  next: number;

  constructor(
    readonly id: bigint,
    readonly options: Omit<WatchOptions, 'startRevision'>,
    readonly progressNotify: boolean,
    readonly fragment: boolean,
    start: number,
  ) {
    this.next = start;
  }
}

/** The server side of one Watch stream. */
class WatchSession {
  private readonly watches = new Map<bigint, ServerWatch>();
  private nextId = 0n;
  /** Bytes written to the call and not yet taken by the transport. */
  private pendingBytes = 0;
  private paused = false;
  private progressRequested = false;
  private closed = false;
  private readonly started = performance.now();
  private readonly high: number;
  private readonly low: number;
  private readonly fragmentLimit: number;

  constructor(
    private readonly ctx: ServerContext,
    private readonly call: ServerDuplexStream<PbWatchRequest, PbWatchResponse>,
  ) {
    this.high = ctx.limits.watchStreamBufferBytes;
    this.low = this.high >> 1;
    this.fragmentLimit = ctx.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
    ctx.metrics.started('Watch', 'Watch');
    ctx.metrics.watchStreams(1);
    ctx.streams.add(this);
    call.on('data', (req: PbWatchRequest) => {
      try {
        this.request(req);
      } catch (e) {
        this.fail(toWireError(e));
      }
    });
    // A client that half-closes keeps receiving until it cancels (as etcd).
    call.on('cancelled', () => this.finish(1));
    call.on('error', () => this.finish(2));
    call.on('close', () => this.finish(1));
  }

  private header(revision: number): PbHeader {
    return this.ctx.headers.at(revision);
  }

  private response(watchId: bigint | number, revision: number, fields: Partial<PbWatchResponse>): PbWatchResponse {
    return {
      header: this.header(revision),
      watch_id: String(watchId),
      created: false,
      canceled: false,
      compact_revision: 0,
      cancel_reason: '',
      fragment: false,
      events: [],
      ...fields,
    };
  }

  private request(req: PbWatchRequest): void {
    if (this.closed) return;
    switch (req.request_union) {
      case 'create_request':
        this.create(req.create_request!);
        return;
      case 'cancel_request':
        this.cancel(big(req.cancel_request!.watch_id));
        return;
      case 'progress_request':
        this.progressRequested = true;
        this.tryProgress();
        return;
      default:
        return; // etcd ignores an empty request
    }
  }

  private refuse(reason: string): void {
    this.send(this.response(-1, this.ctx.store.revision, { created: true, canceled: true, cancel_reason: reason }), RESPONSE_FIXED + reason.length);
  }

  private create(c: PbWatchCreateRequest): void {
    const store = this.ctx.store;
    if (this.ctx.closing) throw ETCD.stopped;
    let key = bytesOf(c.key);
    if (key.length === 0) key = Uint8Array.of(0); // "\0" is the smallest key
    const end = bytesOf(c.range_end);
    const start = clamped(c.start_revision);
    if (start < 0) return this.refuse(ETCD.compacted.details);
    if (isInverted(key, end)) return this.refuse(MVCC_WATCH.emptyRange);
    let id = big(c.watch_id);
    if (id === 0n) {
      while (this.watches.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watches.has(id)) {
      return this.refuse(MVCC_WATCH.duplicateId);
    }
    if (this.watches.size >= this.ctx.limits.maxWatchersPerStream) {
      return this.refuse(`${ETCD.tooManyRequests.details} (metastore: at most ${this.ctx.limits.maxWatchersPerStream} watches on one stream)`);
    }
    if (this.ctx.openWatchers >= this.ctx.limits.maxWatchers) {
      return this.refuse(`${ETCD.tooManyRequests.details} (metastore: at most ${this.ctx.limits.maxWatchers} watches on this server)`);
    }
    const filters: WatchFilter[] = [];
    if (c.filters.includes(0)) filters.push('noPut');
    if (c.filters.includes(1)) filters.push('noDelete');
    const options: Omit<WatchOptions, 'startRevision'> = end.length === 0 ? { key } : { key, end };
    options.prevKv = c.prev_kv;
    options.filters = filters;
    const current = store.revision;
    const w = new ServerWatch(id, options, c.progress_notify, c.fragment, start > 0 ? start : current + 1);
    this.watches.set(id, w);
    this.ctx.openWatchers++;
    this.send(this.response(id, current, { created: true }), RESPONSE_FIXED);
    if (!this.paused) this.startStore(w);
  }

  /** Starts (again) a store watcher for `w` from the first revision it has not delivered. */
  private startStore(w: ServerWatch): void {
    const interval = w.progressNotify ? this.ctx.limits.watchProgressNotifyIntervalMs : 0;
    let watcher: Watcher;
    try {
      watcher = this.ctx.store.watch({ ...w.options, startRevision: w.next, progressNotifyMs: interval });
    } catch (e) {
      this.fail(toWireError(e)); // the store closed under the stream
      return;
    }
    w.watcher = watcher;
    this.ctx.metrics.watchers(1);
    watcher.on('data', (r: WatchResponse) => {
      if (w.watcher === watcher) this.deliver(w, r);
    });
    watcher.on('progress', (revision: number) => {
      if (w.watcher === watcher && !this.paused) this.send(this.response(w.id, revision, {}), RESPONSE_FIXED);
    });
    watcher.on('cancel', (info: WatchCancel) => {
      if (w.watcher !== watcher) return; // stopped by this session
      w.watcher = undefined;
      this.ctx.metrics.watchers(-1);
      this.storeCancelled(w, info);
    });
    this.tryProgress();
  }

  /** Stops `w`'s store watcher (its `next` says where to start again). */
  private stopStore(w: ServerWatch): void {
    const watcher = w.watcher;
    if (watcher === undefined) return;
    w.watcher = undefined;
    this.ctx.metrics.watchers(-1);
    watcher.cancel();
  }

  private storeCancelled(w: ServerWatch, info: WatchCancel): void {
    if (this.closed) return;
    switch (info.reason) {
      case 'compacted':
        // The next revision is gone: etcd cancels the watch with the compacted revision.
        this.remove(w);
        this.send(this.response(w.id, 0, { canceled: true, compact_revision: info.compactRevision ?? 0 }), RESPONSE_FIXED);
        this.tryProgress();
        return;
      case 'overflow':
        // One revision held more events than the watcher's queue: catch up from history.
        w.next = Math.max(w.next, info.resumeRevision);
        if (!this.paused)
          queueMicrotask(() => {
            if (!this.closed && !this.paused && w.watcher === undefined && this.watches.get(w.id) === w) this.startStore(w);
          });
        return;
      case 'closed':
        this.fail(ETCD.stopped);
        return;
      default:
        return;
    }
  }

  /** One response of the store watcher: whole revisions, sent whole or (with `fragment`) split. */
  private deliver(w: ServerWatch, r: WatchResponse): void {
    const events = r.events;
    if (events.length === 0) return;
    if (this.paused) {
      // The client is not reading: this watch stops here and starts again from these events
      // once it does (a watch without events meanwhile keeps running, as etcd's synced ones).
      w.next = events[0]!.kv.modRevision;
      this.stopStore(w);
      return;
    }
    w.next = events[events.length - 1]!.kv.modRevision + 1;
    const withPrev = w.options.prevKv === true;
    const out = events.map((ev) => eventOut(ev, withPrev));
    this.ctx.metrics.eventsSent(out.length);
    const size = responseSize(out);
    if (!w.fragment || size < this.fragmentLimit || out.length < 2) {
      this.send(this.response(w.id, r.revision, { events: out }), size);
    } else {
      let piece: PbEvent[] = [];
      let pieceSize = RESPONSE_FIXED;
      for (const ev of out) {
        const s = eventSize(ev);
        const add = 1 + varintSize(s) + s;
        if (piece.length > 0 && pieceSize + add >= this.fragmentLimit) {
          this.send(this.response(w.id, r.revision, { events: piece, fragment: true }), pieceSize);
          piece = [];
          pieceSize = RESPONSE_FIXED;
        }
        piece.push(ev);
        pieceSize += add;
      }
      this.send(this.response(w.id, r.revision, { events: piece }), pieceSize);
    }
    this.tryProgress();
  }

  private cancel(id: bigint): void {
    const w = this.watches.get(id);
    if (w === undefined) return; // etcd answers nothing
    this.remove(w);
    this.stopStore(w);
    this.send(this.response(id, this.ctx.store.revision, { canceled: true }), RESPONSE_FIXED);
    this.tryProgress();
  }

  private remove(w: ServerWatch): void {
    if (this.watches.get(w.id) !== w) return;
    this.watches.delete(w.id);
    this.ctx.openWatchers--;
  }

  /** Answers a pending progress request once every watch has delivered everything applied so far. */
  private tryProgress(): void {
    if (!this.progressRequested || this.paused || this.closed) return;
    for (const w of this.watches.values()) {
      if (w.watcher === undefined || w.watcher.queued > 0) return;
    }
    this.progressRequested = false;
    this.send(this.response(-1, this.ctx.store.revision, {}), RESPONSE_FIXED);
  }

  private send(msg: PbWatchResponse, bytes: number): void {
    if (this.closed) return;
    this.pendingBytes += bytes;
    this.ctx.metrics.watchPendingBytes(bytes);
    this.call.write(msg, () => {
      this.pendingBytes -= bytes;
      this.ctx.metrics.watchPendingBytes(-bytes);
      if (this.paused && this.pendingBytes <= this.low) this.resume();
    });
    if (!this.paused && this.pendingBytes > this.high) this.pause();
  }

  /**
   * The client is not reading: stop reading its requests; each watch stops at its next event
   * (see {@link deliver}) and remembers where to start again.
   */
  private pause(): void {
    this.paused = true;
    this.call.pause();
  }

  private resume(): void {
    if (this.closed) return;
    this.paused = false;
    this.call.resume();
    for (const w of [...this.watches.values()]) {
      if (this.paused || this.closed) return; // a replay filled the buffer again
      if (w.watcher === undefined && this.watches.get(w.id) === w) this.startStore(w);
    }
    this.tryProgress();
  }

  /** Ends the stream with an error status. */
  private fail(e: WireError): void {
    if (this.closed) return;
    endStream(this.call, e);
    this.finish(e.code);
  }

  /** Server shutdown: end the stream as a stopping etcd does. */
  close(): void {
    this.fail(ETCD.stopped);
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches.values()]) {
      this.stopStore(w);
      this.remove(w);
    }
    this.ctx.streams.delete(this);
    this.ctx.metrics.watchStreams(-1);
    this.ctx.metrics.handled('Watch', 'Watch', code, (performance.now() - this.started) / 1000);
  }
}

/** The Watch service's handler. */
export function watchService(ctx: ServerContext): UntypedServiceImplementation {
  return {
    Watch: (call: ServerDuplexStream<PbWatchRequest, PbWatchResponse>) => {
      if (ctx.closing) {
        endStream(call, ETCD.stopped);
        return;
      }
      if (admitStream(ctx, call) === undefined) {
        endStream(call, tooManyStreams(ctx));
        return;
      }
      new WatchSession(ctx, call);
    },
  };
}
