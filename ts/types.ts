/** Shared data types of the engine layer: what ops carry and what results hold. */

import type { CompareResult, CompareTarget, SortOrder, SortTarget } from './codec/layout.js';
import type { MetaStoreError } from './errors.js';
import type { DurableOptions } from './log/durable-options.js';
import type { EventsMode } from './codec/results-layout.js';

/** A key and its value at one revision, as etcd's `mvccpb.KeyValue`. */
export interface KeyValue {
  /** Key bytes (a string key given to the façade is stored as its UTF-8 bytes). */
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

// SortOrder, SortTarget, CompareTarget and CompareResult are numbers of the op codec, declared in
// formats/codec.mjs; EventsMode is declared in formats/results.mjs.
export { SortOrder, SortTarget, CompareTarget, CompareResult } from './codec/layout.js';
export { EventsMode } from './codec/results-layout.js';

/** A put, as the codec carries it. */
export interface PutOp {
  /** Discriminant (codec op type 1, PUT). */
  readonly type: 'put';
  /** Key bytes; must be non-empty and at most `maxKeyBytes`. */
  readonly key: Uint8Array;
  /** New value; at most `maxValueBytes`, and empty when `ignoreValue` is set. */
  readonly value: Uint8Array;
  /** Lease to attach the key to (must be granted, else op error ERR_LEASE_NOT_FOUND); 0 detaches it unless `ignoreLease`. */
  readonly lease: number;
  /** Return the key-value as it was before the put, in {@link PutResult.prevKv}. */
  readonly prevKv: boolean;
  /** Keep the current value (`value` must be empty, else ERR_VALUE_PROVIDED; a missing key is ERR_KEY_NOT_FOUND). */
  readonly ignoreValue: boolean;
  /** Keep the current lease (`lease` must be 0, else ERR_LEASE_PROVIDED; a missing key is ERR_KEY_NOT_FOUND). */
  readonly ignoreLease: boolean;
}

/** A delete of one key (empty `rangeEnd`) or of a range. */
export interface DeleteRangeOp {
  /** Discriminant (codec op type 2, DELETE_RANGE). */
  readonly type: 'deleteRange';
  /** The key to delete, or the inclusive start of the range; must be non-empty. */
  readonly key: Uint8Array;
  /** Empty: only `key`; `[0x00]`: every key ≥ `key`; otherwise the exclusive end of [key, rangeEnd). */
  readonly rangeEnd: Uint8Array;
  /** Return the deleted key-values in {@link DeleteRangeResult.prevKvs}. */
  readonly prevKv: boolean;
}

/** A read, etcd's RangeRequest. Zero means "unset" for every number. */
export interface RangeOp {
  /** Discriminant (codec op type 3, RANGE). */
  readonly type: 'range';
  /** The key to read, or the inclusive start of the range; must be non-empty. */
  readonly key: Uint8Array;
  /** Empty: only `key`; `[0x00]`: every key ≥ `key`; otherwise the exclusive end of [key, rangeEnd). */
  readonly rangeEnd: Uint8Array;
  /** Most key-values to return; ≤ 0 = no limit. */
  readonly limit: number;
  /** Read the store as of this revision; 0 = current. Above current: ERR_FUTURE_REV; below the compacted revision: ERR_COMPACTED. */
  readonly revision: number;
  /** {@link SortOrder} value (0–2; anything else is ERR_INVALID_SORT). */
  readonly sortOrder: SortOrder;
  /** {@link SortTarget} value (0–4; anything else is ERR_INVALID_SORT). */
  readonly sortTarget: SortTarget;
  /** Return key-values with empty values. */
  readonly keysOnly: boolean;
  /** Return no key-values, only `count`. */
  readonly countOnly: boolean;
  /** etcd's member-local read flag: accepted, no effect on one embedded node. */
  readonly serializable: boolean;
  /** Drop keys with a lower modRevision (inclusive bound; 0 = unset). Does not change `count`. */
  readonly minModRevision: number;
  /** Drop keys with a higher modRevision (inclusive bound; 0 = unset). Does not change `count`. */
  readonly maxModRevision: number;
  /** Drop keys with a lower createRevision (inclusive bound; 0 = unset). Does not change `count`. */
  readonly minCreateRevision: number;
  /** Drop keys with a higher createRevision (inclusive bound; 0 = unset). Does not change `count`. */
  readonly maxCreateRevision: number;
}

/** One condition of a transaction (etcd's Compare). */
export interface Compare {
  /** The key compared, or the inclusive start of the range with `rangeEnd`. */
  readonly key: Uint8Array;
  /** Empty: the key alone; otherwise every key of the range must satisfy the compare. */
  readonly rangeEnd: Uint8Array;
  /** The field compared; a missing key has version, create, mod and lease 0, and any VALUE compare on it is false. */
  readonly target: CompareTarget;
  /** The relation that must hold between the key's field and the operand. */
  readonly result: CompareResult;
  /** Operand for VERSION / CREATE / MOD / LEASE. */
  readonly operand: number;
  /** Operand for VALUE. */
  readonly value: Uint8Array;
}

/** A transaction: if every compare holds, the success ops run, else the failure ops. */
export interface TxnOp {
  /** Discriminant (codec op type 4, TXN). */
  readonly type: 'txn';
  /** Conditions, all evaluated on the state before the transaction; empty = success. */
  readonly compare: readonly Compare[];
  /** Ops run, in order, when every compare holds. */
  readonly success: readonly RequestOp[];
  /** Ops run, in order, when a compare fails. */
  readonly failure: readonly RequestOp[];
}

/** Grants a lease (etcd's LeaseGrant). Does not change the revision; not allowed in a transaction. */
export interface LeaseGrantOp {
  /** Discriminant (codec op type 5, LEASE_GRANT). */
  readonly type: 'leaseGrant';
  /** 0: the engine picks the next free id (from 1). An id already granted is op error ERR_LEASE_EXISTS. */
  readonly id: number;
  /** Seconds. Below `minLeaseTtl` it is raised to it; above {@link MAX_LEASE_TTL} the batch is rejected with ERR_LEASE_TTL_TOO_LARGE. */
  readonly ttl: number;
}

/** Revokes a lease, deleting its keys in one revision (etcd's LeaseRevoke); not allowed in a transaction. */
export interface LeaseRevokeOp {
  /** Discriminant (codec op type 6, LEASE_REVOKE). */
  readonly type: 'leaseRevoke';
  /** The lease to revoke; an unknown id is op error ERR_LEASE_NOT_FOUND. */
  readonly id: number;
}

/** Drops history below a revision (etcd's Compact); not allowed in a transaction. */
export interface CompactOp {
  /** Discriminant (codec op type 7, COMPACT). */
  readonly type: 'compact';
  /** Compact up to this revision: ≤ the compacted revision is op error ERR_COMPACTED, above current ERR_FUTURE_REV. */
  readonly revision: number;
  /** etcd's `physical` flag: accepted, no effect (compaction is always immediate). */
  readonly physical: boolean;
}

/** An op that can sit in a transaction branch. */
export type RequestOp = PutOp | DeleteRangeOp | RangeOp | TxnOp;

/** Any op a batch can carry (docs/codec.md); lease grant/revoke and compact only at the top level. */
export type Op = RequestOp | LeaseGrantOp | LeaseRevokeOp | CompactOp;

/** Result of a {@link PutOp}. */
export interface PutResult {
  /** Discriminant (result kind 1, PUT). */
  readonly type: 'put';
  /** Header revision: the revision after this put. */
  readonly revision: number;
  /** The key-value before the put, when `prevKv` was asked for and the key existed. */
  readonly prevKv?: KeyValue;
}

/** Result of a {@link DeleteRangeOp}. */
export interface DeleteRangeResult {
  /** Discriminant (result kind 2, DELETE_RANGE). */
  readonly type: 'deleteRange';
  /** Header revision: the new revision if anything was deleted, else the current one. */
  readonly revision: number;
  /** Number of keys deleted (0 when the range matched nothing). */
  readonly deleted: number;
  /** Deleted key-values in key order, when `prevKv` was asked for. */
  readonly prevKvs: KeyValue[];
}

/** Result of a {@link RangeOp}. */
export interface RangeResult {
  /** Discriminant (result kind 3, RANGE). */
  readonly type: 'range';
  /** Header revision: the store's current revision. */
  readonly revision: number;
  /** Matching key-values after filters, sort and limit (empty with `countOnly`; values empty with `keysOnly`). */
  readonly kvs: KeyValue[];
  /** Whether more keys passed the filters than `limit` let through. */
  readonly more: boolean;
  /** Keys in the range, before filters and limit. */
  readonly count: number;
}

/** A state-dependent failure of one op (lease not found, future revision...). Other ops still apply. */
export interface ErrorResult {
  /** Discriminant (result kind 255, ERROR). */
  readonly type: 'error';
  /** The current store revision (the failed op changed nothing). */
  readonly revision: number;
  /** The failure (ERR_LEASE_NOT_FOUND, ERR_KEY_NOT_FOUND, ERR_FUTURE_REV, ERR_COMPACTED, ERR_LEASE_EXISTS...), `opIndex` = the op's index in the batch. */
  readonly error: MetaStoreError;
}

/** Result of a {@link TxnOp}. */
export interface TxnResult {
  /** Discriminant (result kind 4, TXN). */
  readonly type: 'txn';
  /** Header revision: after the transaction. */
  readonly revision: number;
  /** Whether every compare held (the success branch ran). */
  readonly succeeded: boolean;
  /** One result per op of the branch taken. */
  readonly responses: Array<PutResult | DeleteRangeResult | RangeResult | TxnResult>;
}

/** Result of a {@link LeaseGrantOp}. */
export interface LeaseGrantResult {
  /** Discriminant (result kind 5, LEASE_GRANT). */
  readonly type: 'leaseGrant';
  /** The store revision (a grant does not change it). */
  readonly revision: number;
  /** The granted lease id: the one asked for, or the engine's pick for id 0. */
  readonly id: number;
  /** Effective TTL in seconds (raised to the minimum when below it). */
  readonly ttl: number;
}

/** Result of a {@link LeaseRevokeOp}. */
export interface LeaseRevokeResult {
  /** Discriminant (result kind 6, LEASE_REVOKE). */
  readonly type: 'leaseRevoke';
  /** Store revision after the revoke: +1 when the lease had keys (all deleted in that revision), else unchanged. */
  readonly revision: number;
}

/** Result of a {@link CompactOp}. */
export interface CompactResult {
  /** Discriminant (result kind 7, COMPACT). */
  readonly type: 'compact';
  /** The store revision (compaction does not change it). */
  readonly revision: number;
}

/** The result of one op of a batch, tagged by `type`; `'error'` when the op failed on the store's state. */
export type OpResult = PutResult | DeleteRangeResult | RangeResult | TxnResult | LeaseGrantResult | LeaseRevokeResult | CompactResult | ErrorResult;

/** One change, as watchers see it. */
export interface WatchEvent {
  /** `'put'` for a create or an update; `'delete'` for a deletion (a delete, or its lease's revoke or expiry). */
  readonly type: 'put' | 'delete';
  /** For a put, the key-value after it; for a delete, the key with `modRevision` = the deletion's revision. */
  readonly kv: KeyValue;
  /** The key as it was before, when asked for and known. */
  readonly prevKv?: KeyValue;
  /** Order among the changes of one revision. */
  readonly subRevision: number;
}

/** A lease as the engine's state holds it. */
export interface LeaseInfo {
  /** The lease id. */
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

/**
 * Limits and tuning shared by both engines. Integers, each in its range; anything else (and an
 * unknown name) is ERR_INVALID_OPTION, from either engine alike.
 */
export interface EngineOptions {
  /** Largest value accepted, in bytes: 0 to 2^32 − 1. Default 1.5 MiB (etcd's request limit). */
  maxValueBytes?: number;
  /** Largest key accepted, in bytes: 1 to 2^32 − 1. Default 1.5 MiB. */
  maxKeyBytes?: number;
  /**
   * Smallest group of same-type ops applied in parallel across shards (native engine only;
   * the result is identical either way): 0 to 2^32 − 1 (below 2 acts as 2). Default 4096.
   */
  parallelThreshold?: number;
  /**
   * Worker threads for parallel apply besides the calling thread, which takes its share (native
   * engine only): 0 to 256. 0 (the default) = one per core but one, at least one.
   */
  threads?: number;
  /** Most ops per transaction branch (etcd's --max-txn-ops): 1 to 2^32 − 1. Default 128. */
  maxTxnOps?: number;
  /**
   * Most levels of transaction nesting: a transaction is level 1, one in its branch level 2
   * (deeper: ERR_TXN_TOO_DEEP): 1 to {@link TXN_DEPTH_CEILING}. Default 64.
   */
  maxTxnDepth?: number;
  /** Smallest lease TTL in seconds, 1 to 9,000,000,000; shorter grants are raised to it. Default 2 (etcd's). */
  minLeaseTtl?: number;
}

/** Default {@link EngineOptions.maxTxnOps}: most ops per transaction branch (etcd's --max-txn-ops default). */
export const DEFAULT_MAX_TXN_OPS = 128;
/** Default {@link EngineOptions.maxTxnDepth}: most levels of transaction nesting. */
export const DEFAULT_MAX_TXN_DEPTH = 64;
/**
 * The largest {@link EngineOptions.maxTxnDepth}: both engines decode, check and apply a
 * transaction recursively, one level at a time, and this many levels fit in a 1 MiB thread stack.
 */
export const TXN_DEPTH_CEILING = 512;
/** Default {@link EngineOptions.minLeaseTtl}, in seconds (etcd's minimum lease TTL). */
export const DEFAULT_MIN_LEASE_TTL = 2;
/** Largest lease TTL accepted, in seconds (etcd's MaxLeaseTTL); above it a grant fails with ERR_LEASE_TTL_TOO_LARGE. */
export const MAX_LEASE_TTL = 9_000_000_000;

/** Default {@link EngineOptions.maxValueBytes}: 1.5 MiB (etcd's default request size limit). */
export const DEFAULT_MAX_VALUE_BYTES = 1_572_864;
/** Default {@link EngineOptions.maxKeyBytes}: 1.5 MiB. */
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
  /** {@link Engine.get} for a key given as text (its UTF-8 bytes), without an intermediate copy. */
  getText(key: string): KeyValue | undefined;
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

// ---------------------------------------------------------------------------------------------
// The façade's options and responses (MetaStore)

/** An engine: `'native'` (the Rust addon) or `'js'` (the pure-TypeScript twin, same behaviour). */
export type EngineKind = 'native' | 'js';

/** Tuning of a {@link BatchProposer}. Integers; out of range is ERR_INVALID_OPTION at open. */
export interface ProposerOptions {
  /** Most ops in one entry (a proposal larger than this gets an entry of its own): 1 to 2^32 − 1. Default 4096. */
  maxEntryOps?: number;
  /** Most bytes in one entry (a proposal larger than this gets an entry of its own): 1 to 1 GiB. Default 4 MiB. */
  maxEntryBytes?: number;
  /**
   * Appends in flight at once, 1 to 64 (default 2): while one group is being fsynced the next
   * one is written behind it, so the proposer's own work overlaps the device flush. 1 = strictly
   * one at a time.
   */
  maxAppendsInFlight?: number;
  /**
   * With an append slot free, pending proposals holding this many ops are flushed at once
   * rather than at the end of the tick, so that a crowd of writers woken together splits into
   * groups that keep the log busy back to back (with 256 awaiting writers: 411–449K durable puts/s vs 304–353K unsplit, same machine, three runs each).
   * 1 to 2^32 − 1. Default 128.
   */
  flushAtOps?: number;
}

/** Milliseconds from any fixed origin; only differences matter. Inject a fake one in tests. */
export interface LeaseClock {
  /** The current time in milliseconds, from the clock's own fixed origin. */
  now(): number;
}

/**
 * The `autoCompaction` option of `MetaStore.open`: `retention` an integer from 1 to 2^53 − 1,
 * `periodMs` an integer from 1 to 366 days (checked in open-options.ts).
 */
export type AutoCompactionOptions = { mode: 'revision'; retention: number } | { mode: 'periodic'; periodMs: number };

/**
 * Options of {@link MetaStore.open}. Each has a type and a range (see each one); a value outside
 * it, or a name that is not one of these, is ERR_INVALID_OPTION naming it, checked before an
 * engine is chosen. `undefined` means the default.
 */
export interface OpenOptions extends EngineOptions, ProposerOptions, DurableOptions {
  /**
   * Directory of a durable store: writes resolve once fsynced to its write-ahead log, and
   * opening it again restores the state (newest snapshot + the log after it). Created if
   * missing. Needs the native addon (ERR_NATIVE_UNAVAILABLE otherwise). Default: in memory.
   */
  path?: string;
  /**
   * `'auto'` (default): the native engine, or the pure-TS engine when the native binary cannot
   * load (see {@link MetaStore.nativeLoadError}). `'native'`: fail if it cannot load. `'js'`:
   * the pure-TS engine.
   */
  engine?: 'auto' | EngineKind;
  /**
   * The clock of lease expiry and periodic compaction, in ms (`{ now() }`). Default:
   * `performance.now()`. Inject a fake one in tests; apply never reads it.
   */
  clock?: LeaseClock;
  /** Period of the lease expiry check in ms, an integer from 0 to 2^31 − 1 (etcd's 500 ms, the default); 0: no timer. */
  leaseCheckIntervalMs?: number;
  /**
   * Automatic compaction, etcd's retention modes: `{ mode: 'revision', retention: N }` keeps
   * the last N revisions (an integer ≥ 1); `{ mode: 'periodic', periodMs }` keeps `periodMs` of
   * history (an integer from 1 to 366 days). Default: none (call {@link MetaStore.compact}).
   */
  autoCompaction?: AutoCompactionOptions;
}

/** Options of {@link MetaStore.compact}. */
export interface CompactOptions {
  /** etcd's `physical` (wait until the space is reclaimed): accepted; compaction here is always immediate. */
  physical?: boolean;
}

/** Response of {@link MetaStore.compact}. */
export interface CompactResponse {
  /** The store revision (compaction does not change it). */
  revision: number;
}

/** Options of {@link MetaStore.put}. */
export interface PutOptions {
  /** Attach the key to this lease (0 = none). */
  lease?: number;
  /** Return the key-value as it was before the put. */
  prevKv?: boolean;
  /** Keep the current value (the key must exist; pass an empty value). */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  ignoreLease?: boolean;
}

/** Options of {@link MetaStore.delete}. */
export interface DeleteOptions {
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

/** Response of {@link MetaStore.put} (and of a put in {@link WriteBatch.commit}). */
export interface PutResponse {
  /** Store revision after the put. */
  revision: number;
  /** The key-value before the put, when `prevKv` was asked for and the key existed. */
  prevKv?: KeyValue;
}

/** Response of {@link MetaStore.delete} (and of a delete in {@link WriteBatch.commit}). */
export interface DeleteResponse {
  /** Store revision after the delete (unchanged when nothing was deleted). */
  revision: number;
  /** Number of keys deleted. */
  deleted: number;
  /** The deleted key-values in key order, when `prevKv` was asked for. */
  prevKvs: KeyValue[];
}

/** Response of {@link MetaStore.range}. */
export interface RangeResponse {
  /** The store's current revision (also when reading at an older `revision`). */
  revision: number;
  /** Matching key-values after filters, sort and limit; empty with `countOnly`, values empty with `keysOnly`. */
  kvs: KeyValue[];
  /** Whether `limit` left matching keys out. */
  more: boolean;
  /** Keys in the range, regardless of `limit` and of the revision filters. */
  count: number;
}
