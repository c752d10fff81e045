/**
 * What every service handler shares: the store, the member's headers, the limits, the metrics
 * and the log; and the wrapper that turns an async function into a unary gRPC handler (request
 * size check, error mapping, metrics).
 */

import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { MetaStore } from '../index.js';
import { status } from '@grpc/grpc-js';
import { ETCD, serviceError, toWireError, WireError } from './errors.js';
import type { Headers } from './header.js';

/** Levels of the server's log, as etcd's `--log-level`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

/** Where the server's log lines go. */
export type ServerLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** The server's limits, resolved. */
export interface ServerLimits {
  /** etcd's --max-request-bytes: a write request above it is refused ("request is too large"). */
  maxRequestBytes: number;
  /** etcd's --max-txn-ops, for the static checks of a Txn made in etcd's order. */
  maxTxnOps: number;
  /** Period of progress notifications of watches that asked for them (ms). */
  watchProgressNotifyIntervalMs: number;
  /** Bytes a watch stream may have written and not yet sent before its watches pause (they resume from history). */
  watchStreamBufferBytes: number;
  /** Most watches open on one Watch stream. */
  maxWatchersPerStream: number;
  /** Most watches open on the whole server. */
  maxWatchers: number;
  /** Most streaming calls (watch, keep-alive, snapshot, health watch) open on one connection. */
  maxStreamsPerConnection: number;
}

/** What handlers report to the metrics (./health-metrics.ts implements it). */
export interface HandlerMetrics {
  /** A finished unary call (or stream) of `service`/`method` with gRPC status `code` after `seconds`. */
  handled(service: string, method: string, code: number, seconds: number): void;
  /** A call started. */
  started(service: string, method: string): void;
  /** Watchers and watch streams open now (deltas). */
  watchers(delta: number): void;
  /** Watch streams open now (delta). */
  watchStreams(delta: number): void;
  /** Events sent to watch clients. */
  eventsSent(n: number): void;
  /** Bytes written to watch streams and not yet taken by the transport (delta). */
  watchPendingBytes(delta: number): void;
}

/** The shared state of one server. */
export interface ServerContext {
  readonly store: MetaStore;
  readonly headers: Headers;
  readonly limits: ServerLimits;
  readonly metrics: HandlerMetrics;
  readonly log: ServerLogger;
  /** The etcd version this server reports (Status, /version). */
  readonly version: string;
  /** The durable store's directory, when known (its size is the reported db size). */
  readonly dataDir: string | undefined;
  /** Set once close() started: new calls are refused. */
  closing: boolean;
  /** Open streams (watch, keep-alive), ended by close(). */
  readonly streams: Set<{ close(): void }>;
  /** Streaming calls open per connection (by peer address). */
  readonly streamsByPeer: Map<string, number>;
  /** Watches open on the server. */
  openWatchers: number;
}

/** Marks a decoded request with the size of its bytes on the wire (set by the server's deserializers). */
export const REQUEST_BYTES: unique symbol = Symbol('metastore.requestBytes');

/** The wire size of a request, when known. */
export function requestBytes(req: unknown): number {
  return (req as { [REQUEST_BYTES]?: number } | null)?.[REQUEST_BYTES] ?? 0;
}

/** Refusal of a stream over the per-connection bound (etcd's "too many requests", with the reason). */
export function tooManyStreams(ctx: ServerContext): WireError {
  return new WireError(
    status.RESOURCE_EXHAUSTED,
    `${ETCD.tooManyRequests.details} (metastore: at most ${ctx.limits.maxStreamsPerConnection} streams per connection)`,
  );
}

/**
 * Counts a streaming call against its connection's bound: returns its release (idempotent, also
 * run when the call closes), or undefined when the connection already has the most it may.
 */
export function admitStream(ctx: ServerContext, call: { getPeer(): string; once(event: string, fn: () => void): unknown }): (() => void) | undefined {
  const peer = call.getPeer();
  const n = ctx.streamsByPeer.get(peer) ?? 0;
  if (n >= ctx.limits.maxStreamsPerConnection) return undefined;
  ctx.streamsByPeer.set(peer, n + 1);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    const left = (ctx.streamsByPeer.get(peer) ?? 1) - 1;
    if (left <= 0) ctx.streamsByPeer.delete(peer);
    else ctx.streamsByPeer.set(peer, left);
  };
  for (const event of ['close', 'finish', 'cancelled', 'error']) call.once(event, release);
  return release;
}

/** etcd refuses a write whose request is larger than --max-request-bytes ("request is too large"). */
export function checkWriteSize(ctx: ServerContext, req: unknown): void {
  if (requestBytes(req) > ctx.limits.maxRequestBytes) throw ETCD.requestTooLarge;
}

/**
 * A unary handler from an async function: its result is the response, a throw becomes the
 * mapped gRPC status (./errors.ts). `write`: the request is a write (size-checked).
 */
export function unary<Req, Res>(
  ctx: ServerContext,
  service: string,
  method: string,
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  write = false,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = performance.now();
    ctx.metrics.started(service, method);
    const fail = (e: unknown): void => {
      const w = toWireError(e);
      if (w.code === 13) ctx.log('error', `${service}.${method} failed`, { error: e instanceof Error ? e.stack : String(e) });
      ctx.metrics.handled(service, method, w.code, (performance.now() - started) / 1000);
      callback(serviceError(w) as never);
    };
    try {
      if (ctx.closing) throw ETCD.stopped;
      if (write) checkWriteSize(ctx, call.request);
      Promise.resolve(fn(call.request, call)).then((res) => {
        ctx.metrics.handled(service, method, 0, (performance.now() - started) / 1000);
        callback(null, res);
      }, fail);
    } catch (e) {
      fail(e);
    }
  };
}
