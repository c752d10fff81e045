/** Turning the façade's option objects into codec ops, with typed errors for bad input. */

import { FROM_KEY, checkAttached, compareBytes, describe, prefixEnd, toBytes, type Bytes } from '../codec/bytes.js';
import type { PutFields } from '../codec/writer.js';
import { MetaStoreError } from '../errors.js';
import { SortOrder, SortTarget, type RangeOp } from '../types.js';

/**
 * Which keys a read or a delete covers. Give exactly one form:
 * - `key`: one key; with `end`, the half-open range [key, end);
 * - `prefix`: every key starting with it (`''` = every key);
 * - `start` + `end`: the half-open range [start, end);
 * - `fromKey`: every key ≥ it.
 */
export interface KeySelector {
  /** One key (a string is UTF-8 encoded); with `end`, the inclusive start of [key, end). */
  key?: Bytes;
  /**
   * Exclusive end of the range, with `key` or `start`. Must sort after the start (else
   * ERR_INVALID_RANGE), or be `'\0'` for every key from the start on. Not with `prefix` or `fromKey`.
   */
  end?: Bytes;
  /** Every key starting with these bytes; `''` selects every key. */
  prefix?: Bytes;
  /** Inclusive start of the range [start, end); needs `end`. */
  start?: Bytes;
  /** Every key ≥ this one (etcd's `WithFromKey`). */
  fromKey?: Bytes;
}

/** What a range sorts by: the key, `version`, `createRevision`, `modRevision` or the value (bytewise). */
export type SortTargetName = 'key' | 'version' | 'create' | 'mod' | 'value';
/**
 * Sort direction. `'none'` (the default) is ascending; with a target other than `'key'`, no
 * revision filter and a `limit`, it sorts only the first `limit + 1` keys in key order, as etcd does.
 */
export type SortOrderName = 'none' | 'ascend' | 'descend';

/** Options of {@link MetaStore.range}: a key selector plus etcd's RangeRequest fields. */
export interface RangeOptions extends KeySelector {
  /** Most keys to return; 0 or absent = no limit. `more` tells whether keys were left out. */
  limit?: number;
  /** Read at this revision; 0 or absent = latest. */
  revision?: number;
  /** Sort by `target` in `order`; ties stay in ascending key order. Default: ascending key. */
  sort?: { target?: SortTargetName; order?: SortOrderName };
  /** Return keys without values. */
  keysOnly?: boolean;
  /** Return only the count. */
  countOnly?: boolean;
  /** Leave out keys whose modRevision is below this (inclusive bound; 0 or absent = none). `count` is unaffected. */
  minModRevision?: number;
  /** Leave out keys whose modRevision is above this (inclusive bound; 0 or absent = none). `count` is unaffected. */
  maxModRevision?: number;
  /** Leave out keys whose createRevision is below this (inclusive bound; 0 or absent = none). `count` is unaffected. */
  minCreateRevision?: number;
  /** Leave out keys whose createRevision is above this (inclusive bound; 0 or absent = none). `count` is unaffected. */
  maxCreateRevision?: number;
}

const TARGETS: Record<SortTargetName, SortTarget> = {
  key: SortTarget.KEY,
  version: SortTarget.VERSION,
  create: SortTarget.CREATE,
  mod: SortTarget.MOD,
  value: SortTarget.VALUE,
};
const ORDERS: Record<SortOrderName, SortOrder> = { none: SortOrder.NONE, ascend: SortOrder.ASCEND, descend: SortOrder.DESCEND };

const EMPTY = new Uint8Array(0);

/**
 * A copy of a selector's fields, the ones given. Objects here are built field by field, not
 * with `{ ...a, b }`: on Node 20 a spread followed by more properties takes V8's slow path, 0.4-1.3
 * µs an object.
 */
export function copySelector(sel: KeySelector): KeySelector {
  const out: KeySelector = {};
  // As a spread of it would: nothing from null or a non-object (the selector check reports it).
  if (sel === null || typeof sel !== 'object') return out;
  if (sel.key !== undefined) out.key = sel.key;
  if (sel.end !== undefined) out.end = sel.end;
  if (sel.prefix !== undefined) out.prefix = sel.prefix;
  if (sel.start !== undefined) out.start = sel.start;
  if (sel.fromKey !== undefined) out.fromKey = sel.fromKey;
  return out;
}

/** Resolves a selector to etcd's (key, rangeEnd) pair. */
export function resolveSelector(sel: KeySelector | Bytes): { key: Uint8Array; rangeEnd: Uint8Array } {
  if (typeof sel === 'string' || sel instanceof Uint8Array) return { key: toBytes(sel), rangeEnd: EMPTY };
  if (sel === null || typeof sel !== 'object' || Array.isArray(sel)) {
    throw new MetaStoreError('ERR_INVALID_TYPE', `expected a key or a key selector object, got ${describe(sel)}`);
  }
  const forms = +(sel.key !== undefined) + +(sel.prefix !== undefined) + +(sel.start !== undefined) + +(sel.fromKey !== undefined);
  if (forms !== 1) {
    throw new MetaStoreError('ERR_INVALID_OPTION', 'give exactly one of key, prefix, start (with end) or fromKey');
  }
  if (sel.prefix !== undefined) {
    if (sel.end !== undefined) throw new MetaStoreError('ERR_INVALID_OPTION', '`end` does not go with `prefix`');
    const prefix = toBytes(sel.prefix, 'prefix');
    // etcd's WithPrefix(""): every key.
    if (prefix.length === 0) return { key: FROM_KEY, rangeEnd: FROM_KEY };
    return { key: prefix, rangeEnd: prefixEnd(prefix) };
  }
  if (sel.fromKey !== undefined) {
    if (sel.end !== undefined) throw new MetaStoreError('ERR_INVALID_OPTION', '`end` does not go with `fromKey`');
    return { key: toBytes(sel.fromKey, 'fromKey'), rangeEnd: FROM_KEY };
  }
  const key = toBytes((sel.key ?? sel.start)!, sel.key !== undefined ? 'key' : 'start');
  if (sel.start !== undefined && sel.end === undefined) {
    throw new MetaStoreError('ERR_INVALID_OPTION', '`start` needs an `end`');
  }
  if (sel.end === undefined) return { key, rangeEnd: EMPTY };
  const rangeEnd = toBytes(sel.end, 'end');
  // etcd answers an inverted interval with nothing; the façade calls it what it almost always is.
  const endsEverything = rangeEnd.length === 1 && rangeEnd[0] === 0;
  if (rangeEnd.length === 0 || (!endsEverything && compareBytes(rangeEnd, key) <= 0)) {
    throw new MetaStoreError('ERR_INVALID_RANGE', 'range end must sort after its start (use fromKey for "every key from here")');
  }
  return { key, rangeEnd };
}

function revisionOption(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Builds the RangeOp for {@link MetaStore.range}. */
export function toRangeOp(options: RangeOptions): RangeOp {
  const { key, rangeEnd } = resolveSelector(options);
  const sortTarget = options.sort?.target ?? 'key';
  const sortOrder = options.sort?.order ?? 'none';
  if (!(sortTarget in TARGETS) || !(sortOrder in ORDERS)) {
    throw new MetaStoreError('ERR_INVALID_SORT', `invalid sort option ${JSON.stringify(options.sort)}`);
  }
  return {
    type: 'range',
    key,
    rangeEnd,
    limit: revisionOption('limit', options.limit),
    revision: revisionOption('revision', options.revision),
    sortOrder: ORDERS[sortOrder],
    sortTarget: TARGETS[sortTarget],
    keysOnly: options.keysOnly === true,
    countOnly: options.countOnly === true,
    serializable: false,
    minModRevision: revisionOption('minModRevision', options.minModRevision),
    maxModRevision: revisionOption('maxModRevision', options.maxModRevision),
    minCreateRevision: revisionOption('minCreateRevision', options.minCreateRevision),
    maxCreateRevision: revisionOption('maxCreateRevision', options.maxCreateRevision),
  };
}

/** A put's options with the lease checked (built field by field: see {@link copySelector}). */
export function checkedPutFields(options: PutFields | undefined): PutFields {
  return { lease: leaseOption(options?.lease), prevKv: options?.prevKv, ignoreValue: options?.ignoreValue, ignoreLease: options?.ignoreLease };
}

/** Checks a lease option: a non-negative safe integer (0 = none). */
export function leaseOption(lease: number | undefined): number {
  if (lease === undefined) return 0;
  if (!Number.isSafeInteger(lease)) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `lease must be an integer id, got ${String(lease)}`);
  }
  return lease;
}

/**
 * Checks a value argument (string or bytes; not a view of a detached buffer). A string's lone
 * surrogates are refused where it is encoded (bytes.ts).
 */
export function valueArg(value: unknown): Bytes {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    if (value.byteLength === 0) checkAttached(value, 'value');
    return value;
  }
  throw new MetaStoreError('ERR_INVALID_TYPE', `value must be a string or a Uint8Array, got ${describe(value)}`);
}

/** Checks a key argument, as {@link valueArg} a value. */
export function keyArg(key: unknown): Bytes {
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) {
    if (key.byteLength === 0) checkAttached(key, 'key');
    return key;
  }
  throw new MetaStoreError('ERR_INVALID_TYPE', `key must be a string or a Uint8Array, got ${describe(key)}`);
}

/** A watch filter (etcd's WatchCreateRequest.filters): drop put or delete events. */
export type WatchFilter = 'noPut' | 'noDelete';

/** Options of {@link MetaStore.watch}: what to watch (a key selector) and how. */
export interface WatchOptions extends KeySelector {
  /**
   * First revision to deliver, inclusive: history from it is replayed, then live events follow.
   * 0 or absent: from now (the first event is above the current revision). Above the current
   * revision: silent until reached. Below the compacted revision: the watcher is cancelled with
   * reason `'compacted'` and `compactRevision`.
   */
  startRevision?: number;
  /** Events carry the key-value as it was before (`prevKv`), when known. */
  prevKv?: boolean;
  /** Drop put and/or delete events. */
  filters?: WatchFilter[];
  /**
   * Most events held for a consumer that has not taken them (default 10,000; replayed history
   * does not count). Past it the watcher is cancelled with reason `'overflow'` and the revision
   * to resume from; events are never dropped silently.
   */
  maxQueuedEvents?: number;
  /** Emit `'progress'` every this many ms while the watcher is idle and synced (0 / absent: never). */
  progressNotifyMs?: number;
}

/** Watch options, checked and resolved. */
export interface ResolvedWatchOptions {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
  maxQueuedEvents: number;
  progressNotifyMs: number;
}

/** Checks watch options (typed errors) and resolves the selector. */
export function checkWatchOptions(options: WatchOptions): ResolvedWatchOptions {
  const { key, rangeEnd } = resolveSelector(options);
  const filters = options.filters ?? [];
  if (!Array.isArray(filters) || filters.some((f) => f !== 'noPut' && f !== 'noDelete')) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `filters must be an array of 'noPut' / 'noDelete', got ${JSON.stringify(filters)}`);
  }
  const maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
  if (!Number.isSafeInteger(maxQueuedEvents) || maxQueuedEvents < 1) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `maxQueuedEvents must be an integer ≥ 1, got ${String(maxQueuedEvents)}`);
  }
  const progressNotifyMs = options.progressNotifyMs ?? 0;
  if (typeof progressNotifyMs !== 'number' || !Number.isFinite(progressNotifyMs) || progressNotifyMs < 0) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `progressNotifyMs must be a number ≥ 0, got ${String(progressNotifyMs)}`);
  }
  return {
    // The watcher keeps its selector for life (and shows it as `key` / `rangeEnd`): copies, not
    // views of memory the caller may reuse.
    key: new Uint8Array(key),
    rangeEnd: new Uint8Array(rangeEnd),
    startRevision: revisionOption('startRevision', options.startRevision),
    prevKv: options.prevKv === true,
    noPut: filters.includes('noPut'),
    noDelete: filters.includes('noDelete'),
    maxQueuedEvents,
    progressNotifyMs,
  };
}
