/** Shared data types of the engine layer: what ops carry and what results hold. */

import type { MetaStoreError } from './errors.js';

/** A key and its value at one revision, as etcd's `mvccpb.KeyValue`. */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Empty when the read asked for keys only. */
  readonly value: Uint8Array;
  /** Revision of the put that created the key in its current generation. */
  readonly createRevision: number;
  /** Revision of the last put to the key. */
  readonly modRevision: number;
  /** 1 on create, +1 on each put; a delete ends the generation. */
  readonly version: number;
  /** Lease the key is attached to, 0 for none. */
  readonly lease: number;
}

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export type SortOrder = (typeof SortOrder)[keyof typeof SortOrder];

export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export type SortTarget = (typeof SortTarget)[keyof typeof SortTarget];

/** A put, as the codec carries it. */
export interface PutOp {
  readonly type: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease: number;
  readonly prevKv: boolean;
  readonly ignoreValue: boolean;
  readonly ignoreLease: boolean;
}

/** A delete of one key (empty `rangeEnd`) or of a range. */
export interface DeleteRangeOp {
  readonly type: 'deleteRange';
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly prevKv: boolean;
}

/** A read, etcd's RangeRequest. Zero means "unset" for every number. */
export interface RangeOp {
  readonly type: 'range';
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly limit: number;
  readonly revision: number;
  readonly sortOrder: SortOrder;
  readonly sortTarget: SortTarget;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
  readonly serializable: boolean;
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;
export type CompareTarget = (typeof CompareTarget)[keyof typeof CompareTarget];

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export type CompareResult = (typeof CompareResult)[keyof typeof CompareResult];

/** One condition of a transaction (etcd's Compare). */
export interface Compare {
  readonly key: Uint8Array;
  /** Empty: the key alone; otherwise every key of the range must satisfy the compare. */
  readonly rangeEnd: Uint8Array;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  /** Operand for VERSION / CREATE / MOD / LEASE. */
  readonly operand: number;
  /** Operand for VALUE. */
  readonly value: Uint8Array;
}

/** A transaction: if every compare holds, the success ops run, else the failure ops. */
export interface TxnOp {
  readonly type: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface LeaseGrantOp {
  readonly type: 'leaseGrant';
  /** 0: the engine picks. */
  readonly id: number;
  /** Seconds. */
  readonly ttl: number;
}

export interface LeaseRevokeOp {
  readonly type: 'leaseRevoke';
  readonly id: number;
}

export interface CompactOp {
  readonly type: 'compact';
  readonly revision: number;
  readonly physical: boolean;
}

/** An op that can sit in a transaction branch. */
export type RequestOp = PutOp | DeleteRangeOp | RangeOp | TxnOp;

export type Op = RequestOp | LeaseGrantOp | LeaseRevokeOp | CompactOp;

export interface PutResult {
  readonly type: 'put';
  /** Header revision: the revision after this put. */
  readonly revision: number;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeResult {
  readonly type: 'deleteRange';
  /** Header revision: the new revision if anything was deleted, else the current one. */
  readonly revision: number;
  readonly deleted: number;
  /** Deleted key-values in key order, when `prevKv` was asked for. */
  readonly prevKvs: KeyValue[];
}

export interface RangeResult {
  readonly type: 'range';
  /** Header revision: the store's current revision. */
  readonly revision: number;
  readonly kvs: KeyValue[];
  readonly more: boolean;
  /** Keys in the range, before filters and limit. */
  readonly count: number;
}

/** A state-dependent failure of one op (lease not found, future revision...). Other ops still apply. */
export interface ErrorResult {
  readonly type: 'error';
  readonly revision: number;
  readonly error: MetaStoreError;
}

export interface TxnResult {
  readonly type: 'txn';
  /** Header revision: after the transaction. */
  readonly revision: number;
  readonly succeeded: boolean;
  /** One result per op of the branch taken. */
  readonly responses: Array<PutResult | DeleteRangeResult | RangeResult | TxnResult>;
}

export interface LeaseGrantResult {
  readonly type: 'leaseGrant';
  readonly revision: number;
  readonly id: number;
  /** Effective TTL in seconds (raised to the minimum when below it). */
  readonly ttl: number;
}

export interface LeaseRevokeResult {
  readonly type: 'leaseRevoke';
  readonly revision: number;
}

export interface CompactResult {
  readonly type: 'compact';
  readonly revision: number;
}

export type OpResult = PutResult | DeleteRangeResult | RangeResult | TxnResult | LeaseGrantResult | LeaseRevokeResult | CompactResult | ErrorResult;

/** One change, as watchers see it. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** For a put, the key-value after it; for a delete, the key with `modRevision` = the deletion's revision. */
  readonly kv: KeyValue;
  /** The key as it was before, when asked for and known. */
  readonly prevKv?: KeyValue;
  /** Order among the changes of one revision. */
  readonly subRevision: number;
}

/** How much of the batch's changes {@link Engine.applyBatch} reports. */
export const EventsMode = { NONE: 0, EVENTS: 1, EVENTS_WITH_PREV: 2 } as const;
export type EventsMode = (typeof EventsMode)[keyof typeof EventsMode];

/** A lease as the engine's state holds it. */
export interface LeaseInfo {
  readonly id: number;
  /** Granted TTL in seconds. */
  readonly ttl: number;
  /** Attached keys, in key order. */
  readonly keys: Uint8Array[];
}

/** The outcome of one applied batch. Results are decoded on access, so untouched ones cost nothing. */
export interface BatchResult {
  /** Number of ops (and results). */
  readonly size: number;
  /** Store revision after the batch. */
  readonly revision: number;
  /** Result of op `index`. */
  result(index: number): OpResult;
  /** The changes the batch made, in revision order (empty unless an events mode was asked for). */
  events(): WatchEvent[];
}

/** Limits and tuning shared by both engines. */
export interface EngineOptions {
  /** Largest value accepted, in bytes. Default 1.5 MiB (etcd's request limit). */
  maxValueBytes?: number;
  /** Largest key accepted, in bytes. Default 1.5 MiB. */
  maxKeyBytes?: number;
  /**
   * Smallest group of same-type ops applied in parallel across shards (native engine only;
   * the result is identical either way). Default: see the engine.
   */
  parallelThreshold?: number;
  /** Worker threads for parallel apply (native engine only). 0 = one per core. */
  threads?: number;
  /** Most ops per transaction branch (etcd's --max-txn-ops). Default 128. */
  maxTxnOps?: number;
  /** Smallest lease TTL in seconds; shorter grants are raised to it. Default 2 (etcd's). */
  minLeaseTtl?: number;
}

export const DEFAULT_MAX_TXN_OPS = 128;
export const DEFAULT_MIN_LEASE_TTL = 2;
export const MAX_LEASE_TTL = 9_000_000_000;

export const DEFAULT_MAX_VALUE_BYTES = 1_572_864;
export const DEFAULT_MAX_KEY_BYTES = 1_572_864;

/**
 * The engine-level interface both engines implement. Writes arrive as codec bytes
 * (docs/codec.md); reads take a decoded range request.
 */
export interface Engine {
  /** `'native'` (Rust addon) or `'js'` (pure TypeScript). */
  readonly kind: 'native' | 'js';
  /** Current store revision (1 for a fresh store). */
  readonly revision: number;
  /** Number of live keys. */
  readonly size: number;
  /**
   * Applies a whole encoded batch. Throws a MetaStoreError (nothing applied) when the batch is
   * malformed or fails static validation; state-dependent failures are per-op `error` results.
   */
  applyBatch(batch: Uint8Array, events?: EventsMode): BatchResult;
  /** Latest value of one key, or undefined. */
  get(key: Uint8Array): KeyValue | undefined;
  /** A range read; per-op failures (future or compacted revision) are thrown. */
  range(request: RangeOp): RangeResult;
  /** The compacted revision (−1 on a fresh store). */
  readonly compactRevision: number;
  /**
   * History replay for watches: events with revision ≥ `fromRevision` for keys in
   * [key, rangeEnd) (rangeEnd rules as for ranges), in revision order. Throws ERR_COMPACTED when
   * `fromRevision` is below the compacted revision.
   */
  changes(fromRevision: number, key: Uint8Array, rangeEnd: Uint8Array, prevKv: boolean): WatchEvent[];
  /** A granted lease, or undefined. */
  leaseInfo(id: number): LeaseInfo | undefined;
  /** Granted lease ids, ascending. */
  leases(): number[];
  /** Releases the engine's memory; later calls throw ERR_CLOSED. */
  close(): void;
}
