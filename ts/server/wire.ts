/**
 * The messages as the handlers see them (proto-loader objects, see ./protos.ts) and the
 * conversions between the wire and the store.
 *
 * int64 on the wire, numbers in the store. Revisions, versions and counts of this store stay far
 * below 2^53, so an int64 that does not fit a double is treated by what it means: a revision,
 * limit or filter beyond ±(2^53 − 1) is clamped to it (a future revision stays future, a limit
 * stays unlimited in effect, a filter keeps or drops the same keys). Lease IDs are different:
 * etcd's clients may pick any int64, the store keeps IDs within ±(2^53 − 1); an ID outside that
 * cannot name a lease here, so it is treated as a lease that does not exist, and a grant of one
 * is refused (see ./lease.ts).
 */

import type { KeyValue, WatchEvent } from '../index.js';
import type { PbHeader } from './header.js';

/** An int64 as proto-loader hands it over (`longs: String`), or as a client library may. */
export type Int64 = string | number;

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The int64 as a bigint (0 for anything unparsable: proto-loader only gives decimal strings). */
export function big(v: Int64 | null | undefined): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  try {
    return BigInt(v);
  } catch {
    return 0n;
  }
}

/** The int64 as a number, clamped to ±(2^53 − 1). */
export function clamped(v: Int64 | null | undefined): number {
  const b = big(v);
  if (b > MAX) return Number.MAX_SAFE_INTEGER;
  if (b < -MAX) return -Number.MAX_SAFE_INTEGER;
  return Number(b);
}

/** The int64 as a number when it is one exactly (within ±(2^53 − 1)), else undefined. */
export function exact(v: Int64 | null | undefined): number | undefined {
  const b = big(v);
  return b > MAX || b < -MAX ? undefined : Number(b);
}

/** A bytes field as a Uint8Array (proto-loader gives Buffers; absent fields are empty). */
export function bytesOf(b: Uint8Array | null | undefined): Uint8Array {
  return b ?? EMPTY;
}

const EMPTY = new Uint8Array(0);

/** mvccpb.KeyValue. */
export interface PbKeyValue {
  key: Uint8Array;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Uint8Array;
  lease: number;
}

/** A store KeyValue on the wire. */
export function kvOut(kv: KeyValue): PbKeyValue {
  return { key: kv.key, create_revision: kv.createRevision, mod_revision: kv.modRevision, version: kv.version, value: kv.value, lease: kv.lease };
}

/** mvccpb.Event. */
export interface PbEvent {
  type: number;
  kv: PbKeyValue;
  prev_kv: PbKeyValue | null;
}

/** A store WatchEvent on the wire. */
export function eventOut(ev: WatchEvent, withPrev: boolean): PbEvent {
  return { type: ev.type === 'put' ? 0 : 1, kv: kvOut(ev.kv), prev_kv: withPrev && ev.prevKv !== undefined ? kvOut(ev.prevKv) : null };
}

// ---------------------------------------------------------------------------------------------
// Requests (as decoded: every field present, defaults filled in).

/** etcdserverpb.RangeRequest. */
export interface PbRangeRequest {
  key: Uint8Array;
  range_end: Uint8Array;
  limit: Int64;
  revision: Int64;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: Int64;
  max_mod_revision: Int64;
  min_create_revision: Int64;
  max_create_revision: Int64;
}

/** etcdserverpb.PutRequest. */
export interface PbPutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease: Int64;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

/** etcdserverpb.DeleteRangeRequest. */
export interface PbDeleteRangeRequest {
  key: Uint8Array;
  range_end: Uint8Array;
  prev_kv: boolean;
}

/** etcdserverpb.Compare (`target_union` names the operand member that is set, if any). */
export interface PbCompare {
  result: number;
  target: number;
  key: Uint8Array;
  range_end: Uint8Array;
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Uint8Array;
  lease?: Int64;
}

/** etcdserverpb.RequestOp (`request` names the member that is set; none: the empty op). */
export interface PbRequestOp {
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  request_range?: PbRangeRequest;
  request_put?: PbPutRequest;
  request_delete_range?: PbDeleteRangeRequest;
  request_txn?: PbTxnRequest;
}

/** etcdserverpb.TxnRequest. */
export interface PbTxnRequest {
  compare: PbCompare[];
  success: PbRequestOp[];
  failure: PbRequestOp[];
}

/** etcdserverpb.CompactionRequest. */
export interface PbCompactionRequest {
  revision: Int64;
  physical: boolean;
}

// ---------------------------------------------------------------------------------------------
// Responses.

/** etcdserverpb.RangeResponse. */
export interface PbRangeResponse {
  header: PbHeader;
  kvs: PbKeyValue[];
  more: boolean;
  count: number;
}

/** etcdserverpb.PutResponse. */
export interface PbPutResponse {
  header: PbHeader;
  prev_kv: PbKeyValue | null;
}

/** etcdserverpb.DeleteRangeResponse. */
export interface PbDeleteRangeResponse {
  header: PbHeader;
  deleted: number;
  prev_kvs: PbKeyValue[];
}

/** etcdserverpb.ResponseOp. */
export type PbResponseOp =
  | { response_range: PbRangeResponse }
  | { response_put: PbPutResponse }
  | { response_delete_range: PbDeleteRangeResponse }
  | { response_txn: PbTxnResponse };

/** etcdserverpb.TxnResponse. */
export interface PbTxnResponse {
  header: PbHeader;
  succeeded: boolean;
  responses: PbResponseOp[];
}
