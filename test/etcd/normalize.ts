/**
 * One normalized form for etcd's gRPC responses and our engines' results (ts/types.ts OpResult), so the
 * differential tests compare them with a plain deep equality.
 *
 * Rules (docs/etcd-semantics.md §5 "Normalize"):
 * - cluster_id / member_id / raft_term are dropped; every int64 becomes a number; proto3 omitted fields
 *   (the loader is run with `defaults: true`) become explicit zeros / empty lists / null.
 * - Revisions are offsets from the fresh store: `RevisionMap` maps a revision of a server whose fresh
 *   revision is F to `rev - F + 1`. Both a fresh etcd and a fresh engine are at revision 1, so the map is
 *   the identity; it stays explicit (and asserted) so a non-fresh server can never be compared silently.
 * - Lease ids are labelled by grant order (`L0`, `L1`, ... per {@link LeaseBook}); 0 stays 0. etcd picks
 *   random int63 ids for ID 0, we pick a counter: only the order is comparable.
 * - Keys and values become strings: printable ASCII as is, anything else as `hex:...`.
 * - Ranges sorted by a target other than KEY: runs of equal sort value are put in ascending key order
 *   (Go's sort.Sort is unstable in general). Only WITHIN such runs: an engine that sorts wrongly still
 *   differs. With at most 12 kvs Go's sort is an insertion sort (stable over the key-ordered input), so
 *   a `limit` cutting through a run of ties picks the same kvs as ours; the fuzz key space is 10 keys.
 * - Nested txn revision: etcd leaves the header of a nested TxnResponse empty (revision 0; only the leaf
 *   ops' headers are set), while docs/codec.md gives a nested TXN result "the revision after it ran". We
 *   do NOT drop it: for etcd we derive it from etcd's own leaf headers, as the store revision after the
 *   nested txn ran = max(revision before the top-level txn, every leaf header executed up to the end of
 *   the nested txn); ours is compared against that. The revision before the txn is the top header minus
 *   one if the txn changed anything (a put, or a delete with deleted > 0, anywhere in the taken path),
 *   else the top header. `rawNestedRevision` keeps etcd's raw 0 for the record (not compared).
 * - Errors compare by our error code (+ gRPC category): etcd's messages are mapped to codes by the
 *   error table (docs/etcd-semantics.md §2.10 / docs/codec.md). An error's header revision is not compared
 *   (etcd has none); the next op's revision shows whether the failed op changed anything.
 * - Lease TimeToLive: remaining TTL is time-dependent and not compared (checked for range separately);
 *   granted TTL and the attached keys (sorted; etcd returns them in map order) are. Lease lists compare
 *   as sorted label sets.
 * - Watch: responses are flattened to one event list (response boundaries are not compared); a watch
 *   cancelled for compaction becomes `{canceled: true, compactRevision}`. Our side is the engine's
 *   history replay `changes()`.
 */

import type { ErrorCategory, ErrorCode } from '../../ts/errors.js';
import { MetaStoreError } from '../../ts/errors.js';
import type { KeyValue, OpResult, WatchEvent } from '../../ts/types.js';
import type { EtcdError, PbEvent, PbKeyValue, PbRangeResponse, PbResponseOp, PbTxnResponse } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Bytes.

/** Latin-1 string (one char = one byte) to bytes. */
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Printable ASCII as itself, anything else as `hex:…`. */
export function show(b: Uint8Array | string): string {
  const u = typeof b === 'string' ? bytes(b) : b;
  for (const x of u) {
    if (x < 0x20 || x > 0x7e) return `hex:${Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex')}`;
  }
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1');
}

/** The bytes behind a {@link show}n string. */
export function unshow(s: string): Buffer {
  return s.startsWith('hex:') ? Buffer.from(s.slice(4), 'hex') : bytes(s);
}

function compareShown(a: string, b: string): number {
  return Buffer.compare(unshow(a), unshow(b));
}

// ---------------------------------------------------------------------------------------------
// Revisions and leases.

/** Revisions as offsets from a fresh store (see the file comment). */
export class RevisionMap {
  constructor(readonly freshRevision: number) {
    if (freshRevision !== 1) throw new Error(`expected a fresh store at revision 1, got ${freshRevision}`);
  }
  /** A response revision, as the offset-mapped number. 0 (unset) stays 0. */
  out(rev: number | string): number {
    const n = Number(rev);
    return n === 0 ? 0 : n - this.freshRevision + 1;
  }
  /** A request revision (range revision, compact, compare operand, watch start): only positive ones move. */
  in(rev: number): number {
    return rev > 0 ? rev + this.freshRevision - 1 : rev;
  }
}

/** Our identity map (an engine is fresh at revision 1). */
export const OUR_REVISIONS = new RevisionMap(1);

/** A lease reference in a script: a literal id, or the name of a `grant` step (the id it got). */
export type LeaseRef = number | string;

/** An id never granted by any script (for "lease not found" cases). */
export const UNKNOWN_LEASE = 4242;

/** Normalized lease: 0 (none) or `L<k>` = the k-th successful grant; `?<id>` for ids never granted. */
export type NLease = 0 | string;

/** Per-target lease ids: grant order (for labels) and names (for references). */
export class LeaseBook {
  private readonly order = new Map<string, number>();
  private readonly named = new Map<string, string>();
  private grants = 0;

  /** Records a successful grant of `raw` (decimal id string). */
  granted(raw: string | number, name?: string): void {
    const id = String(raw);
    this.order.set(id, this.grants++);
    if (name !== undefined) this.named.set(name, id);
  }

  /** The decimal id a reference means on this target. */
  resolve(ref: LeaseRef | undefined): string {
    if (ref === undefined) return '0';
    if (typeof ref === 'number') return String(ref);
    return this.named.get(ref) ?? String(UNKNOWN_LEASE);
  }

  label(raw: string | number): NLease {
    const id = String(raw);
    if (id === '0') return 0;
    const k = this.order.get(id);
    return k === undefined ? `?${id}` : `L${k}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The normalized form.

export interface NKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: NLease;
}

export interface NEvent {
  type: 'put' | 'delete';
  kv: NKv;
  prevKv: NKv | null;
}

export type NPut = { type: 'put'; revision: number; prevKv: NKv | null };
export type NDelete = { type: 'deleteRange'; revision: number; deleted: number; prevKvs: NKv[] };
export type NRange = { type: 'range'; revision: number; count: number; more: boolean; kvs: NKv[] };
export type NTxn = { type: 'txn'; revision: number; succeeded: boolean; responses: NTxnResponse[] };
export type NTxnResponse = NPut | NDelete | NRange | NTxn;
export type NError = { type: 'error'; code: ErrorCode | `etcd:${string}`; category: ErrorCategory | `grpc:${number}` };

export type NRes =
  | NTxnResponse
  | { type: 'leaseGrant'; revision: number; id: NLease; ttl: number }
  | { type: 'leaseRevoke'; revision: number }
  | { type: 'compact'; revision: number }
  | NError
  | { type: 'timeToLive'; found: boolean; grantedTtl: number; keys: string[] }
  | { type: 'leases'; ids: NLease[] }
  | { type: 'keepAlive'; id: NLease; ttl: number }
  | { type: 'watch'; canceled: boolean; compactRevision: number; events: NEvent[] };

/** Sort options of a range, for tie canonicalization. */
export interface SortSpec {
  sortOrder?: number;
  sortTarget?: number;
  keysOnly?: boolean;
}

/** Puts runs of equal sort value in ascending key order (only for non-KEY sorts; see file comment). */
export function canonicalTies(kvs: NKv[], spec: SortSpec): NKv[] {
  const target = spec.sortTarget ?? 0;
  if (target === 0 || kvs.length < 2) return kvs;
  // keys_only hides the values a VALUE sort ordered by: ties cannot be told apart, keep etcd's order.
  if (target === 4 && spec.keysOnly) return kvs;
  const value = (kv: NKv): number | string => {
    switch (target) {
      case 1:
        return kv.version;
      case 2:
        return kv.createRevision;
      case 3:
        return kv.modRevision;
      default:
        return kv.value;
    }
  };
  const out: NKv[] = [];
  let i = 0;
  while (i < kvs.length) {
    let j = i + 1;
    while (j < kvs.length && value(kvs[j]!) === value(kvs[i]!)) j++;
    out.push(...kvs.slice(i, j).sort((a, b) => compareShown(a.key, b.key)));
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// etcd side.

const ETCD_MESSAGES: Record<string, ErrorCode> = {
  'etcdserver: key is not provided': 'ERR_KEY_NOT_PROVIDED',
  'etcdserver: key not found': 'ERR_KEY_NOT_FOUND',
  'etcdserver: value is provided': 'ERR_VALUE_PROVIDED',
  'etcdserver: lease is provided': 'ERR_LEASE_PROVIDED',
  'etcdserver: too many operations in txn request': 'ERR_TOO_MANY_OPS',
  'etcdserver: duplicate key given in txn request': 'ERR_DUPLICATE_KEY',
  'etcdserver: invalid sort option': 'ERR_INVALID_SORT',
  'etcdserver: mvcc: required revision has been compacted': 'ERR_COMPACTED',
  'etcdserver: mvcc: required revision is a future revision': 'ERR_FUTURE_REV',
  'etcdserver: requested lease not found': 'ERR_LEASE_NOT_FOUND',
  'etcdserver: lease already exists': 'ERR_LEASE_EXISTS',
  'etcdserver: too large lease TTL': 'ERR_LEASE_TTL_TOO_LARGE',
};

const GRPC_CATEGORY: Record<number, ErrorCategory> = {
  3: 'InvalidArgument',
  5: 'NotFound',
  9: 'FailedPrecondition',
  11: 'OutOfRange',
  13: 'Internal',
  14: 'Unavailable',
};

/**
 * An etcd error as a normalized error, or undefined when it is not one of etcd's request errors (a
 * dead server, a deadline...): those are harness failures, never "divergences".
 */
export function normEtcdError(e: EtcdError): NError | undefined {
  const code = ETCD_MESSAGES[e.details];
  const category = GRPC_CATEGORY[e.grpcCode];
  if (code === undefined || category === undefined) return undefined;
  return { type: 'error', code, category };
}

export class EtcdNormalizer {
  constructor(
    readonly revisions: RevisionMap,
    readonly leases: LeaseBook,
  ) {}

  kv(kv: PbKeyValue): NKv {
    return {
      key: show(kv.key),
      value: show(kv.value ?? Buffer.alloc(0)),
      createRevision: this.revisions.out(kv.create_revision),
      modRevision: this.revisions.out(kv.mod_revision),
      version: Number(kv.version),
      lease: this.leases.label(kv.lease),
    };
  }

  headerRevision(h: { revision: string } | null | undefined): number {
    if (!h) throw new Error('etcd response without a header');
    return this.revisions.out(h.revision);
  }

  range(r: PbRangeResponse, spec: SortSpec): NRange {
    return {
      type: 'range',
      revision: this.headerRevision(r.header),
      count: Number(r.count),
      more: r.more,
      kvs: canonicalTies(
        r.kvs.map((kv) => this.kv(kv)),
        spec,
      ),
    };
  }

  /**
   * A top-level TxnResponse. `specs` gives, for each op of the taken path, its sort spec (ranges) or
   * its branch specs (nested txns) — the request side, which the response does not repeat.
   */
  txn(r: PbTxnResponse, specs: TxnSpecs): NTxn {
    const top: NTxn = { type: 'txn', revision: this.headerRevision(r.header), succeeded: r.succeeded, responses: this.ops(r.responses, specs, r.succeeded) };
    const before = changedAnything(top) ? top.revision - 1 : top.revision;
    deriveNestedRevisions(top, before);
    return top;
  }

  private ops(responses: PbResponseOp[], specs: TxnSpecs, succeeded: boolean): NTxnResponse[] {
    const branch = succeeded ? specs.success : specs.failure;
    return responses.map((op, i) => {
      const spec = branch[i];
      switch (op.response) {
        case 'response_range':
          return this.range(op.response_range!, spec && 'sortTarget' in spec ? spec : {});
        case 'response_put': {
          const p = op.response_put!;
          return { type: 'put', revision: this.headerRevision(p.header), prevKv: p.prev_kv ? this.kv(p.prev_kv) : null };
        }
        case 'response_delete_range': {
          const d = op.response_delete_range!;
          return { type: 'deleteRange', revision: this.headerRevision(d.header), deleted: Number(d.deleted), prevKvs: d.prev_kvs.map((kv) => this.kv(kv)) };
        }
        case 'response_txn': {
          const t = op.response_txn!;
          const nested = spec && 'success' in spec ? spec : { success: [], failure: [] };
          // Placeholder: etcd's nested header revision is 0; deriveNestedRevisions fills it in.
          return { type: 'txn', revision: Number(t.header?.revision ?? 0), succeeded: t.succeeded, responses: this.ops(t.responses, nested, t.succeeded) };
        }
        default:
          throw new Error(`unexpected etcd ResponseOp ${JSON.stringify(op)}`);
      }
    });
  }

  event(ev: PbEvent): NEvent {
    if (!ev.kv) throw new Error('etcd event without kv');
    return { type: ev.type === 1 ? 'delete' : 'put', kv: this.kv(ev.kv), prevKv: ev.prev_kv ? this.kv(ev.prev_kv) : null };
  }
}

/** Per op of a txn's branches: a range's sort spec, or a nested txn's own branch specs. */
export interface TxnSpecs {
  success: Array<SortSpec | TxnSpecs | undefined>;
  failure: Array<SortSpec | TxnSpecs | undefined>;
}

function changedAnything(r: NTxnResponse): boolean {
  switch (r.type) {
    case 'put':
      return true;
    case 'deleteRange':
      return r.deleted > 0;
    case 'range':
      return false;
    case 'txn':
      return r.responses.some(changedAnything);
  }
}

/** Fills in nested txn revisions as "the store revision after the nested txn ran" (file comment). */
function deriveNestedRevisions(top: NTxn, before: number): void {
  let current = before;
  const walk = (responses: NTxnResponse[]): void => {
    for (const r of responses) {
      if (r.type === 'txn') {
        walk(r.responses);
        r.revision = current;
      } else {
        current = Math.max(current, r.revision);
      }
    }
  };
  walk(top.responses);
}

// ---------------------------------------------------------------------------------------------
// Our side.

export class OurNormalizer {
  constructor(
    readonly leases: LeaseBook,
    readonly revisions: RevisionMap = OUR_REVISIONS,
  ) {}

  kv(kv: KeyValue): NKv {
    return {
      key: show(kv.key),
      value: show(kv.value),
      createRevision: this.revisions.out(kv.createRevision),
      modRevision: this.revisions.out(kv.modRevision),
      version: kv.version,
      lease: this.leases.label(kv.lease),
    };
  }

  error(e: MetaStoreError): NError {
    return { type: 'error', code: e.code, category: e.category };
  }

  /** One op result; `spec` as in {@link EtcdNormalizer.txn} (sort spec for a range, branch specs for a txn). */
  result(r: OpResult, spec?: SortSpec | TxnSpecs): NRes {
    switch (r.type) {
      case 'put':
      case 'deleteRange':
      case 'range':
      case 'txn':
        return this.txnResponse(r, spec);
      case 'leaseGrant':
        return { type: 'leaseGrant', revision: this.revisions.out(r.revision), id: this.leases.label(r.id), ttl: r.ttl };
      case 'leaseRevoke':
        return { type: 'leaseRevoke', revision: this.revisions.out(r.revision) };
      case 'compact':
        return { type: 'compact', revision: this.revisions.out(r.revision) };
      case 'error':
        if (!(r.error instanceof MetaStoreError)) throw new Error(`error result without a MetaStoreError: ${String(r.error)}`);
        return this.error(r.error);
    }
  }

  private txnResponse(r: OpResult, spec: SortSpec | TxnSpecs | undefined): NTxnResponse {
    switch (r.type) {
      case 'put':
        return { type: 'put', revision: this.revisions.out(r.revision), prevKv: r.prevKv ? this.kv(r.prevKv) : null };
      case 'deleteRange':
        return { type: 'deleteRange', revision: this.revisions.out(r.revision), deleted: r.deleted, prevKvs: r.prevKvs.map((kv) => this.kv(kv)) };
      case 'range':
        return {
          type: 'range',
          revision: this.revisions.out(r.revision),
          count: r.count,
          more: r.more,
          kvs: canonicalTies(
            r.kvs.map((kv) => this.kv(kv)),
            spec && 'sortTarget' in spec ? spec : {},
          ),
        };
      case 'txn': {
        const specs = spec && 'success' in spec ? spec : { success: [], failure: [] };
        const branch = r.succeeded ? specs.success : specs.failure;
        return {
          type: 'txn',
          revision: this.revisions.out(r.revision),
          succeeded: r.succeeded,
          responses: r.responses.map((x, i) => this.txnResponse(x, branch[i])),
        };
      }
      default:
        throw new Error(`unexpected result inside a txn: ${r.type}`);
    }
  }

  event(ev: WatchEvent): NEvent {
    return { type: ev.type, kv: this.kv(ev.kv), prevKv: ev.prevKv ? this.kv(ev.prevKv) : null };
  }
}
