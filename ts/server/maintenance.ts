/**
 * The Maintenance service: Status, Hash, HashKV, Snapshot (a stream), Alarm, Defragment,
 * MoveLeader, Downgrade.
 *
 * - Status: the etcd version this server speaks, the db size (the durable store's files on
 *   disk; 0 in memory), this member as leader, the log's applied index as raft index and
 *   applied index, raft term 1 (./header.ts), no errors.
 * - Hash / HashKV: ./snapshot.ts (CRC-32C of the key space; the same on every member).
 * - Snapshot: ./snapshot.ts's format, in 64 KiB pieces, then its SHA-256 as the last message.
 * - Alarm: there are none (a GET lists nothing; an ACTIVATE is not recorded: MetaStore has no
 *   space quota). Defragment is accepted (nothing to do). MoveLeader to this member is a no-op.
 */

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { status, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { MetaStoreError } from '../index.js';
import { admitStream, tooManyStreams, unary, type ServerContext } from './context.js';
import { endStream, ETCD, toWireError, WireError } from './errors.js';
import { RAFT_TERM, type PbHeader } from './header.js';
import { hashAll, hashKV, planSnapshot } from './snapshot.js';
import { clamped, type Int64 } from './wire.js';

/** Bytes of the files under `dir` (0 when it cannot be read). */
function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) total += dirBytes(path);
      else if (entry.isFile()) total += statSync(path).size;
    }
  } catch {
    // gone or unreadable: counts as nothing
  }
  return total;
}

let sizeCache: { dir: string; at: number; bytes: number } | undefined;

/** The db size etcd would report: the durable store's files (re-measured at most once a second), 0 in memory. */
export function dbSize(ctx: ServerContext): number {
  const dir = ctx.dataDir;
  if (dir === undefined) return 0;
  const now = performance.now();
  if (sizeCache === undefined || sizeCache.dir !== dir || now - sizeCache.at > 1000) sizeCache = { dir, at: now, bytes: dirBytes(dir) };
  return sizeCache.bytes;
}

/** Status. */
export function statusOf(ctx: ServerContext): Record<string, unknown> {
  const store = ctx.store;
  const size = dbSize(ctx);
  return {
    header: ctx.headers.at(store.revision),
    version: ctx.version,
    dbSize: size,
    leader: ctx.headers.identity.memberId,
    raftIndex: store.appliedIndex,
    raftTerm: RAFT_TERM,
    raftAppliedIndex: store.appliedIndex,
    errors: [],
    dbSizeInUse: size,
    isLearner: false,
    storageVersion: '',
    dbSizeQuota: 0,
    downgradeInfo: null,
  };
}

/** The revision a HashKV at `requested` covers (0: the current one); the store's errors for a compacted or future one. */
function hashRevision(ctx: ServerContext, requested: number): number {
  const store = ctx.store;
  const current = store.revision;
  if (requested > current) throw new MetaStoreError('ERR_FUTURE_REV', 'required revision is a future revision');
  if (requested <= 0) return current;
  if (requested < store.compactRevision) throw new MetaStoreError('ERR_COMPACTED', 'required revision has been compacted');
  return requested;
}

/** HashKV. */
export function hashKVOf(ctx: ServerContext, requested: number): { header: PbHeader; hash: number; compact_revision: number; hash_revision: number } {
  const revision = hashRevision(ctx, requested);
  const store = ctx.store;
  return { header: ctx.headers.at(store.revision), hash: hashKV(store, revision), compact_revision: store.compactRevision, hash_revision: revision };
}

const PIECE_BYTES = 64 * 1024;

/** Snapshot: the data in ~64 KiB messages (remaining_bytes counts down), then its SHA-256. */
async function snapshot(ctx: ServerContext, call: ServerWritableStream<unknown, unknown>): Promise<void> {
  const started = performance.now();
  ctx.metrics.started('Maintenance', 'Snapshot');
  let cancelled = false;
  call.on('cancelled', () => {
    cancelled = true;
  });
  const write = async (msg: unknown): Promise<void> => {
    if (!call.write(msg)) await new Promise<void>((resolve) => call.once('drain', resolve));
  };
  try {
    if (ctx.closing) throw ETCD.stopped;
    if (admitStream(ctx, call) === undefined) throw tooManyStreams(ctx);
    const plan = planSnapshot(ctx.store);
    const header = ctx.headers.at(plan.head.revision);
    const sha = createHash('sha256');
    let sent = 0;
    let buffer: Uint8Array[] = [];
    let buffered = 0;
    const flush = async (): Promise<void> => {
      if (buffered === 0) return;
      const blob = Buffer.concat(buffer, buffered);
      buffer = [];
      buffered = 0;
      sha.update(blob);
      sent += blob.length;
      await write({ header, remaining_bytes: plan.dataBytes - sent, blob, version: '' });
    };
    for (const piece of plan.pieces()) {
      if (cancelled) return;
      buffer.push(piece);
      buffered += piece.length;
      if (buffered >= PIECE_BYTES) await flush();
    }
    await flush();
    if (sent !== plan.dataBytes) throw new WireError(status.INTERNAL, `metastore: snapshot length ${sent} differs from the planned ${plan.dataBytes}`);
    await write({ header, remaining_bytes: 0, blob: sha.digest(), version: '' });
    call.end();
    ctx.metrics.handled('Maintenance', 'Snapshot', 0, (performance.now() - started) / 1000);
  } catch (e) {
    const w = toWireError(e);
    ctx.metrics.handled('Maintenance', 'Snapshot', w.code, (performance.now() - started) / 1000);
    endStream(call, w);
  }
}

/** The Maintenance service's handlers. */
export function maintenanceService(ctx: ServerContext): UntypedServiceImplementation {
  const header = (): PbHeader => ctx.headers.at(ctx.store.revision);
  return {
    Status: unary(ctx, 'Maintenance', 'Status', () => statusOf(ctx)),
    Hash: unary(ctx, 'Maintenance', 'Hash', () => ({ header: header(), hash: hashAll(ctx.store) })),
    HashKV: unary(ctx, 'Maintenance', 'HashKV', (r: { revision: Int64 }) => hashKVOf(ctx, clamped(r.revision))),
    Snapshot: (call: ServerWritableStream<unknown, unknown>) => void snapshot(ctx, call),
    Alarm: unary(ctx, 'Maintenance', 'Alarm', () => ({ header: header(), alarms: [] })),
    Defragment: unary(ctx, 'Maintenance', 'Defragment', () => ({ header: header() })),
    MoveLeader: unary(ctx, 'Maintenance', 'MoveLeader', (r: { targetID: Int64 }) => {
      if (String(r.targetID) !== ctx.headers.identity.memberId) throw new WireError(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee');
      return { header: header() };
    }),
    Downgrade: unary(ctx, 'Maintenance', 'Downgrade', () => {
      throw new WireError(status.UNIMPLEMENTED, 'metastore: Downgrade is not supported (there is one MetaStore version per store)');
    }),
  };
}
