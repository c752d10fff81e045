/**
 * The Lease service: LeaseGrant, LeaseRevoke, LeaseKeepAlive (a bidirectional stream),
 * LeaseTimeToLive, LeaseLeases, through `store.lease`.
 *
 * Lease IDs: etcd's clients may ask for any int64; this store keeps IDs within ±(2^53 − 1). A
 * grant of an ID outside that is refused (InvalidArgument, saying so); any other use of one —
 * a put or a compare naming it, a revoke, a keep-alive, a time-to-live — is answered as for a
 * lease that does not exist, which it cannot.
 */

import { status, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { MetaStoreError } from '../index.js';
import { admitStream, tooManyStreams, unary, type ServerContext } from './context.js';
import { endStream, ETCD, toWireError, WireError } from './errors.js';
import type { PbHeader } from './header.js';
import { clamped, exact, type Int64 } from './wire.js';

/** An ID no lease has now (for a lease ID this store cannot hold: the store then reports it missing). */
export function absentLeaseId(ctx: ServerContext): number {
  const ids = new Set(ctx.store.lease.list());
  let id = -Number.MAX_SAFE_INTEGER;
  while (ids.has(id)) id++;
  return id;
}

/** A lease ID from the wire: itself when the store can hold it, else an ID no lease has. */
export function leaseIdOrAbsent(ctx: ServerContext, v: Int64): number {
  return exact(v) ?? absentLeaseId(ctx);
}

interface GrantRequest {
  TTL: Int64;
  ID: Int64;
}
interface IdRequest {
  ID: Int64;
}
interface TimeToLiveRequest {
  ID: Int64;
  keys: boolean;
}

/** LeaseGrant. */
export async function leaseGrant(ctx: ServerContext, r: GrantRequest): Promise<{ header: PbHeader; ID: number; TTL: number; error: string }> {
  const id = exact(r.ID);
  if (id === undefined) {
    throw new WireError(
      status.INVALID_ARGUMENT,
      `metastore: lease ID ${String(r.ID)} cannot be granted: this server keeps lease IDs within ±(2^53 − 1) (ask for ID 0 to let it choose)`,
    );
  }
  const res = await ctx.store.lease.grant(clamped(r.TTL), { id });
  return { header: ctx.headers.at(res.revision), ID: res.id, TTL: res.ttl, error: '' };
}

/** LeaseRevoke. */
export async function leaseRevoke(ctx: ServerContext, r: IdRequest): Promise<{ header: PbHeader }> {
  const id = exact(r.ID);
  if (id === undefined || id === 0) throw ETCD.leaseNotFound;
  const res = await ctx.store.lease.revoke(id);
  return { header: ctx.headers.at(res.revision) };
}

/** One keep-alive round: the granted TTL, or 0 for a lease that does not exist (or whose expiry is decided), as etcd answers. */
export async function keepAliveOnce(ctx: ServerContext, id: Int64): Promise<number> {
  const n = exact(id);
  if (n === undefined || n === 0) return 0;
  try {
    return (await ctx.store.lease.keepAlive(n)).ttl;
  } catch (e) {
    if (e instanceof MetaStoreError && e.code === 'ERR_LEASE_NOT_FOUND') return 0;
    throw e;
  }
}

/** LeaseTimeToLive: an unknown lease answers TTL −1, no error. */
export function leaseTimeToLive(
  ctx: ServerContext,
  r: TimeToLiveRequest,
): { header: PbHeader; ID: Int64; TTL: number; grantedTTL: number; keys: Uint8Array[] } {
  const id = exact(r.ID);
  const header = ctx.headers.at(ctx.store.revision);
  if (id === undefined) return { header, ID: r.ID, TTL: -1, grantedTTL: 0, keys: [] };
  const res = ctx.store.lease.timeToLive(id, { keys: r.keys });
  return { header, ID: r.ID, TTL: res.ttl, grantedTTL: res.grantedTTL, keys: res.keys ?? [] };
}

/** LeaseLeases. */
export function leaseLeases(ctx: ServerContext): { header: PbHeader; leases: Array<{ ID: number }> } {
  return { header: ctx.headers.at(ctx.store.revision), leases: ctx.store.lease.list().map((ID) => ({ ID })) };
}

/**
 * LeaseKeepAlive: one response per request, in order ({ID, TTL}, TTL 0 for a lease that does
 * not exist). A client that does not read its responses stops being read from (flow control).
 */
function leaseKeepAlive(ctx: ServerContext, call: ServerDuplexStream<IdRequest, unknown>): void {
  const started = performance.now();
  ctx.metrics.started('Lease', 'LeaseKeepAlive');
  if (admitStream(ctx, call) === undefined) {
    const w = tooManyStreams(ctx);
    ctx.metrics.handled('Lease', 'LeaseKeepAlive', w.code, 0);
    endStream(call, w);
    return;
  }
  let chain = Promise.resolve();
  let finished = false;
  const closer = {
    close: () => {
      finish(ETCD.stopped.code);
      endStream(call, ETCD.stopped);
    },
  };
  ctx.streams.add(closer);
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    ctx.streams.delete(closer);
    ctx.metrics.handled('Lease', 'LeaseKeepAlive', code, (performance.now() - started) / 1000);
  };
  call.on('data', (req: IdRequest) => {
    chain = chain.then(async () => {
      if (finished) return;
      try {
        if (ctx.closing) throw ETCD.stopped;
        const ttl = await keepAliveOnce(ctx, req.ID);
        if (finished) return;
        if (!call.write({ header: ctx.headers.at(ctx.store.revision), ID: req.ID, TTL: ttl })) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      } catch (e) {
        const w = toWireError(e);
        finish(w.code);
        endStream(call, w);
      }
    });
  });
  call.on('end', () => {
    void chain.then(() => {
      if (finished) return;
      finish(0);
      call.end();
    });
  });
  call.on('cancelled', () => finish(1));
  call.on('error', () => finish(2));
}

/** The Lease service's handlers. */
export function leaseService(ctx: ServerContext): UntypedServiceImplementation {
  return {
    LeaseGrant: unary(ctx, 'Lease', 'LeaseGrant', (r: GrantRequest) => leaseGrant(ctx, r), true),
    LeaseRevoke: unary(ctx, 'Lease', 'LeaseRevoke', (r: IdRequest) => leaseRevoke(ctx, r), true),
    LeaseKeepAlive: (call: ServerDuplexStream<IdRequest, unknown>) => leaseKeepAlive(ctx, call),
    LeaseTimeToLive: unary(ctx, 'Lease', 'LeaseTimeToLive', (r: TimeToLiveRequest) => leaseTimeToLive(ctx, r)),
    LeaseLeases: unary(ctx, 'Lease', 'LeaseLeases', () => leaseLeases(ctx)),
  };
}
