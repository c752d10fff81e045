/**
 * The KV service: Range, Put, DeleteRange, Txn, Compact, through the same store as the façade,
 * one proposal per write request.
 *
 * - Range is a local read (`store.range`): every acknowledged write is applied before it is
 *   acknowledged, so a local read on this one member is linearizable. etcd's request rules the
 *   façade words differently are applied here: an inverted interval reads nothing (the
 *   façade would say ERR_INVALID_RANGE), a negative limit or revision means none / the latest,
 *   a negative min filter keeps every key and a negative max filter none.
 * - Put is `store.put`; DeleteRange and Txn are encoded into the op codec as they come
 *   (`BatchWriter`) and proposed with `store.applyBatch`, whose engine-level rules are etcd's
 *   (docs/codec.md): inverted intervals, negative revisions in a transaction, nesting.
 * - A Txn is first checked statically in etcd's order (too many ops, empty compare key, each
 *   op's own checks, an empty RequestOp = "key not found"), as etcd's checkTxnRequest does.
 */

import { status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { BatchWriter, type KeyValue, type OpResult, type TxnResult, type RangeOptions, type SortOrderName, type SortTargetName } from '../index.js';
import { unary, type ServerContext } from './context.js';
import { ETCD, WireError } from './errors.js';
import { innerHeader } from './header.js';
import { leaseIdOrAbsent } from './lease.js';
import {
  bytesOf,
  clamped,
  kvOut,
  type PbCompactionRequest,
  type PbCompare,
  type PbDeleteRangeRequest,
  type PbDeleteRangeResponse,
  type PbPutRequest,
  type PbPutResponse,
  type PbRangeRequest,
  type PbRangeResponse,
  type PbRequestOp,
  type PbResponseOp,
  type PbTxnRequest,
  type PbTxnResponse,
} from './wire.js';

const ORDERS: SortOrderName[] = ['none', 'ascend', 'descend'];
const TARGETS: SortTargetName[] = ['key', 'version', 'create', 'mod', 'value'];

/** Bytewise order (memcmp). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const isFromKey = (end: Uint8Array): boolean => end.length === 1 && end[0] === 0;

/** Whether [key, end) is an interval etcd reads as empty (an end at or before the key). */
export function isInverted(key: Uint8Array, end: Uint8Array): boolean {
  return end.length > 0 && !isFromKey(end) && compareBytes(end, key) <= 0;
}

/** etcd's checkRangeRequest. */
function checkRange(r: PbRangeRequest): void {
  if (bytesOf(r.key).length === 0) throw ETCD.emptyKey;
  if (!(r.sort_order >= 0 && r.sort_order <= 2) || !(r.sort_target >= 0 && r.sort_target <= 4)) throw ETCD.invalidSortOption;
}

/** etcd's checkPutRequest. */
function checkPut(r: PbPutRequest): void {
  if (bytesOf(r.key).length === 0) throw ETCD.emptyKey;
  if (r.ignore_value && bytesOf(r.value).length !== 0) throw ETCD.valueProvided;
  if (r.ignore_lease && clamped(r.lease) !== 0) throw ETCD.leaseProvided;
}

/** etcd's checkDeleteRequest. */
function checkDelete(r: PbDeleteRangeRequest): void {
  if (bytesOf(r.key).length === 0) throw ETCD.emptyKey;
}

/** etcd's checkTxnRequest: the static checks of a whole transaction tree, in etcd's order. */
export function checkTxn(r: PbTxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw ETCD.tooManyOps;
  for (const c of r.compare) if (bytesOf(c.key).length === 0) throw ETCD.emptyKey;
  for (const u of r.success) checkRequestOp(u, maxTxnOps - opc);
  for (const u of r.failure) checkRequestOp(u, maxTxnOps - opc);
}

function checkRequestOp(u: PbRequestOp, maxTxnOps: number): void {
  switch (u.request) {
    case 'request_range':
      return checkRange(u.request_range!);
    case 'request_put':
      return checkPut(u.request_put!);
    case 'request_delete_range':
      return checkDelete(u.request_delete_range!);
    case 'request_txn':
      return checkTxn(u.request_txn!, maxTxnOps);
    default:
      throw ETCD.keyNotFound; // etcd's answer to an empty RequestOp
  }
}

/** A top-level Range, as etcd answers it. */
export function range(ctx: ServerContext, r: PbRangeRequest): PbRangeResponse {
  checkRange(r);
  const store = ctx.store;
  const key = bytesOf(r.key);
  const end = bytesOf(r.range_end);
  // Outside a transaction etcd reads the latest for revision <= 0.
  const revision = Math.max(0, clamped(r.revision));
  if (isInverted(key, end)) {
    // Nothing to read; the revision is still checked (future / compacted), as etcd does first.
    const probe = store.range({ key, revision, countOnly: true });
    return { header: ctx.headers.at(probe.revision), kvs: [], more: false, count: 0 };
  }
  const options: RangeOptions = end.length === 0 ? { key } : { key, end };
  options.limit = Math.max(0, clamped(r.limit));
  options.revision = revision;
  options.sort = { order: ORDERS[r.sort_order], target: TARGETS[r.sort_target] };
  options.keysOnly = r.keys_only;
  options.countOnly = r.count_only;
  // A filter that is set (non-zero) makes etcd fetch every key before sorting and limiting; a
  // negative lower bound keeps every key, so it becomes 1 (set, and keeps every key: revisions
  // start at 1). A negative upper bound drops every key.
  let dropAll = false;
  const lower = (v: number): number => (v < 0 ? 1 : v);
  const upper = (v: number): number => {
    if (v < 0) dropAll = true;
    return Math.max(0, v);
  };
  options.minModRevision = lower(clamped(r.min_mod_revision));
  options.maxModRevision = upper(clamped(r.max_mod_revision));
  options.minCreateRevision = lower(clamped(r.min_create_revision));
  options.maxCreateRevision = upper(clamped(r.max_create_revision));
  const res = store.range(options);
  if (dropAll) return { header: ctx.headers.at(res.revision), kvs: [], more: false, count: res.count };
  return { header: ctx.headers.at(res.revision), kvs: res.kvs.map(kvOut), more: res.more, count: res.count };
}

/** A Put: `store.put`, one proposal. */
export async function put(ctx: ServerContext, r: PbPutRequest): Promise<PbPutResponse> {
  checkPut(r);
  const lease = leaseIdOrAbsent(ctx, r.lease);
  const res = await ctx.store.put(bytesOf(r.key), bytesOf(r.value), { lease, prevKv: r.prev_kv, ignoreValue: r.ignore_value, ignoreLease: r.ignore_lease });
  return { header: ctx.headers.at(res.revision), prev_kv: res.prevKv === undefined ? null : kvOut(res.prevKv) };
}

function single(result: OpResult): Exclude<OpResult, { type: 'error' }> {
  if (result.type === 'error') throw result.error;
  return result;
}

/** A DeleteRange: one DELETE_RANGE op proposed as it came (an inverted interval deletes nothing). */
export async function deleteRange(ctx: ServerContext, r: PbDeleteRangeRequest): Promise<PbDeleteRangeResponse> {
  checkDelete(r);
  const w = new BatchWriter(64 + r.key.length + r.range_end.length).deleteRange(bytesOf(r.key), bytesOf(r.range_end), r.prev_kv);
  const res = single((await ctx.store.applyBatch(w.finish())).result(0));
  if (res.type !== 'deleteRange') throw new WireError(status.INTERNAL, `metastore: expected a delete result, got ${res.type}`);
  return { header: ctx.headers.at(res.revision), deleted: res.deleted, prev_kvs: res.prevKvs.map(kvOut) };
}

/** The operand of a compare: the `target_union` member matching its target, else 0 / empty (etcd's getters). */
function operand(c: PbCompare): { operand: number; value?: Uint8Array } {
  const set = c.target_union;
  switch (c.target) {
    case 0:
      return { operand: set === 'version' ? clamped(c.version) : 0 };
    case 1:
      return { operand: set === 'create_revision' ? clamped(c.create_revision) : 0 };
    case 2:
      return { operand: set === 'mod_revision' ? clamped(c.mod_revision) : 0 };
    case 3:
      return { operand: 0, value: set === 'value' ? bytesOf(c.value) : new Uint8Array(0) };
    case 4:
      return { operand: set === 'lease' ? clamped(c.lease) : 0 };
    default:
      throw new WireError(status.INVALID_ARGUMENT, `metastore: unknown compare target ${c.target}`);
  }
}

function writeTxn(ctx: ServerContext, w: BatchWriter, t: PbTxnRequest): void {
  const compare = t.compare.map((c) => {
    if (!(c.result >= 0 && c.result <= 3)) throw new WireError(status.INVALID_ARGUMENT, `metastore: unknown compare result ${c.result}`);
    const o = operand(c);
    return { key: bytesOf(c.key), rangeEnd: bytesOf(c.range_end), target: c.target as 0, result: c.result as 0, operand: o.operand, value: o.value };
  });
  w.txn(
    compare,
    (s) => t.success.forEach((op) => writeOp(ctx, s, op)),
    (f) => t.failure.forEach((op) => writeOp(ctx, f, op)),
  );
}

function writeOp(ctx: ServerContext, w: BatchWriter, op: PbRequestOp): void {
  switch (op.request) {
    case 'request_range': {
      const r = op.request_range!;
      // Inside a transaction the codec applies etcd's rules to the numbers as they are.
      w.range(bytesOf(r.key), {
        rangeEnd: bytesOf(r.range_end),
        limit: clamped(r.limit),
        revision: clamped(r.revision),
        sortOrder: r.sort_order as 0,
        sortTarget: r.sort_target as 0,
        keysOnly: r.keys_only,
        countOnly: r.count_only,
        serializable: r.serializable,
        minModRevision: clamped(r.min_mod_revision),
        maxModRevision: clamped(r.max_mod_revision),
        minCreateRevision: clamped(r.min_create_revision),
        maxCreateRevision: clamped(r.max_create_revision),
      });
      return;
    }
    case 'request_put': {
      const p = op.request_put!;
      w.put(bytesOf(p.key), bytesOf(p.value), {
        lease: leaseIdOrAbsent(ctx, p.lease),
        prevKv: p.prev_kv,
        ignoreValue: p.ignore_value,
        ignoreLease: p.ignore_lease,
      });
      return;
    }
    case 'request_delete_range': {
      const d = op.request_delete_range!;
      w.deleteRange(bytesOf(d.key), bytesOf(d.range_end), d.prev_kv);
      return;
    }
    case 'request_txn':
      writeTxn(ctx, w, op.request_txn!);
      return;
    default:
      throw ETCD.keyNotFound; // checkTxn has refused it already
  }
}

type Branch = TxnResult['responses'][number];

function responseOp(r: Branch): PbResponseOp {
  switch (r.type) {
    case 'put':
      return { response_put: { header: innerHeader(r.revision), prev_kv: r.prevKv === undefined ? null : kvOut(r.prevKv) } };
    case 'deleteRange':
      return { response_delete_range: { header: innerHeader(r.revision), deleted: r.deleted, prev_kvs: r.prevKvs.map((kv: KeyValue) => kvOut(kv)) } };
    case 'range':
      return { response_range: { header: innerHeader(r.revision), kvs: r.kvs.map(kvOut), more: r.more, count: r.count } };
    case 'txn':
      // etcd leaves a nested transaction's header at revision 0.
      return { response_txn: { header: innerHeader(0), succeeded: r.succeeded, responses: r.responses.map(responseOp) } };
  }
}

/** A Txn: checked statically in etcd's order, then one TXN op proposed as it came. */
export async function txn(ctx: ServerContext, t: PbTxnRequest): Promise<PbTxnResponse> {
  checkTxn(t, ctx.limits.maxTxnOps);
  const w = new BatchWriter(256);
  writeTxn(ctx, w, t);
  const res = single((await ctx.store.applyBatch(w.finish())).result(0));
  if (res.type !== 'txn') throw new WireError(status.INTERNAL, `metastore: expected a txn result, got ${res.type}`);
  return { header: ctx.headers.at(res.revision), succeeded: res.succeeded, responses: res.responses.map(responseOp) };
}

/** A Compact: `store.compact`, one proposal (`physical` accepted: compaction is done when it returns). */
export async function compact(ctx: ServerContext, r: PbCompactionRequest): Promise<{ header: ReturnType<ServerContext['headers']['at']> }> {
  const res = await ctx.store.compact(clamped(r.revision), { physical: r.physical });
  return { header: ctx.headers.at(res.revision) };
}

/** The KV service's handlers. */
export function kvService(ctx: ServerContext): UntypedServiceImplementation {
  return {
    Range: unary(ctx, 'KV', 'Range', (r: PbRangeRequest) => range(ctx, r)),
    Put: unary(ctx, 'KV', 'Put', (r: PbPutRequest) => put(ctx, r), true),
    DeleteRange: unary(ctx, 'KV', 'DeleteRange', (r: PbDeleteRangeRequest) => deleteRange(ctx, r), true),
    Txn: unary(ctx, 'KV', 'Txn', (r: PbTxnRequest) => txn(ctx, r), true),
    Compact: unary(ctx, 'KV', 'Compact', (r: PbCompactionRequest) => compact(ctx, r), true),
  };
}
