/**
 * Transactions in the idiom of the etcd3 npm client:
 *
 * ```ts
 * await store.txn()
 *   .if('config/a', 'value', '==', 'on')
 *   .then(op.put('config/b', 'on'), op.get('config/a'))
 *   .else(op.delete({ prefix: 'config/' }))
 *   .commit();
 * ```
 *
 * and the same as a plain object (`store.txn({ compare, success, failure })`). Both become one
 * TXN op of the codec (docs/codec.md), written by {@link BatchWriter.txn}; the engine's result is
 * decoded into a {@link TxnResponse}.
 */

import { toBytes, type Bytes } from '../codec/bytes.js';
import type { BatchWriter, CompareFields } from '../codec.js';
import { errorFromNumber, ErrorNumber, MetaStoreError } from '../errors.js';
import { copySelector, keyArg, leaseOption, resolveSelector, toRangeOp, valueArg, type KeySelector, type RangeOptions } from './selectors.js';
import type { DeleteOptions, DeleteResponse, PutOptions, PutResponse, RangeResponse } from '../types.js';
import { CompareResult, CompareTarget, DEFAULT_MAX_TXN_DEPTH, type Compare, type OpResult, type RequestOp, type TxnOp, type TxnResult } from '../types.js';

/** What a compare looks at (etcd's Compare.target): the value, or a number of the key-value. */
export type CompareTargetName = 'value' | 'version' | 'create' | 'mod' | 'lease';

/** How a compare compares (etcd's Compare.result). `===` / `!==` are the etcd3 client's aliases. */
export type CompareOp = '==' | '===' | '!=' | '!==' | '>' | '<';

/**
 * One condition of a transaction, plain-object form. Select one key (`key`) or a range (`prefix`,
 * `start` + `end`, `key` + `end`, `fromKey`): with a range, every key in it must satisfy the
 * compare. `value` is bytes for target `'value'`, a number for the other targets.
 */
export interface TxnCompare extends KeySelector {
  /** The field compared: `'value'`, `'version'`, `'create'` (createRevision), `'mod'` (modRevision) or `'lease'`. */
  target: CompareTargetName;
  /** The relation `field <result> value` that must hold. */
  result: CompareOp;
  /** The operand: a string (UTF-8) or bytes for target `'value'`, a safe integer otherwise (ERR_INVALID_TYPE if not). */
  value: Bytes | number;
}

/** A put inside a transaction. */
export interface TxnPut extends PutOptions {
  /** Key to write (a string is UTF-8 encoded). */
  key: Bytes;
  /** New value (a string is UTF-8 encoded); empty with `ignoreValue`. */
  value: Bytes;
}

/** A delete inside a transaction: a key or a selector, plus `prevKv`. */
export type TxnDelete = KeySelector & DeleteOptions;

/**
 * One op of a transaction branch (etcd's RequestOp), plain-object form. Build them with
 * {@link op} or write them out: `{ put: { key, value } }`, `{ range: { prefix } }`,
 * `{ delete: { key } }`, `{ txn: { compare, success, failure } }` (nested).
 */
export type TxnRequestOp = { put: TxnPut } | { range: RangeOptions } | { delete: TxnDelete } | { txn: TxnRequest };

/** A whole transaction, plain-object form (etcd's TxnRequest). Missing lists are empty. */
export interface TxnRequest {
  /** Conditions, all evaluated on the state before the transaction; every one must hold for `success` to run (none: success; at most `maxTxnOps`). */
  compare?: TxnCompare[];
  /** Ops run in order when every compare holds (at most `maxTxnOps`). */
  success?: TxnRequestOp[];
  /** Ops run in order when a compare fails (at most `maxTxnOps`). */
  failure?: TxnRequestOp[];
}

/** Response of one op of the branch taken, tagged with its kind. */
export type TxnOpResponse =
  | ({ type: 'put' } & PutResponse)
  | ({ type: 'delete' } & DeleteResponse)
  | ({ type: 'range' } & RangeResponse)
  | ({ type: 'txn' } & TxnResponse);

/** Outcome of a transaction (etcd's TxnResponse). */
export interface TxnResponse {
  /** Whether every compare held (the success branch ran). */
  succeeded: boolean;
  /** Store revision after the transaction (a nested one: after it ran). */
  revision: number;
  /** One response per op of the branch taken, in order. */
  responses: TxnOpResponse[];
}

/**
 * Builders of transaction ops, named like etcd's clientv3 `OpPut` / `OpGet` / `OpDelete` /
 * `OpTxn`. Each returns the plain-object form ({@link TxnRequestOp}).
 */
export const op = {
  /** A put of `key` = `value`. */
  put(key: Bytes, value: Bytes, options?: PutOptions): TxnRequestOp {
    const put: TxnPut = { key, value };
    if (options !== undefined) {
      if (options.lease !== undefined) put.lease = options.lease;
      if (options.prevKv !== undefined) put.prevKv = options.prevKv;
      if (options.ignoreValue !== undefined) put.ignoreValue = options.ignoreValue;
      if (options.ignoreLease !== undefined) put.ignoreLease = options.ignoreLease;
    }
    return { put };
  },
  /** A read of one key. */
  get(key: Bytes): TxnRequestOp {
    return { range: { key } };
  },
  /** A range read with etcd's RangeRequest options. */
  range(options: RangeOptions): TxnRequestOp {
    return { range: options };
  },
  /** A delete of one key or of the keys a selector covers. */
  delete(selector: Bytes | KeySelector, options?: DeleteOptions): TxnRequestOp {
    const del: TxnDelete = typeof selector === 'string' || selector instanceof Uint8Array ? { key: selector } : copySelector(selector);
    if (options?.prevKv !== undefined) del.prevKv = options.prevKv;
    return { delete: del };
  },
  /** A nested transaction. */
  txn(request: TxnRequest): TxnRequestOp {
    return { txn: request };
  },
};

const TARGETS: Record<string, CompareTarget> = {
  value: CompareTarget.VALUE,
  version: CompareTarget.VERSION,
  create: CompareTarget.CREATE,
  mod: CompareTarget.MOD,
  lease: CompareTarget.LEASE,
};

const RESULTS: Record<string, CompareResult> = {
  '==': CompareResult.EQUAL,
  '===': CompareResult.EQUAL,
  '!=': CompareResult.NOT_EQUAL,
  '!==': CompareResult.NOT_EQUAL,
  '>': CompareResult.GREATER,
  '<': CompareResult.LESS,
};

function invalid(message: string): MetaStoreError {
  return new MetaStoreError('ERR_INVALID_OPTION', message);
}

/** Turns a plain-object compare into the writer's form, with typed errors for bad input. */
export function toCompareFields(c: TxnCompare): CompareFields {
  if (c === null || typeof c !== 'object') throw new MetaStoreError('ERR_INVALID_TYPE', 'a compare must be an object');
  const target = typeof c.target === 'string' ? TARGETS[c.target.toLowerCase()] : undefined;
  if (target === undefined) throw invalid(`compare target must be one of value, version, create, mod, lease; got ${String(c.target)}`);
  const result = RESULTS[c.result];
  if (result === undefined) throw invalid(`compare result must be one of ==, !=, >, <; got ${String(c.result)}`);
  const { key, rangeEnd } = resolveSelector(c);
  if (target === CompareTarget.VALUE) {
    if (typeof c.value !== 'string' && !(c.value instanceof Uint8Array)) {
      throw new MetaStoreError('ERR_INVALID_TYPE', 'a value compare needs a string or Uint8Array value');
    }
    return { key, rangeEnd, target, result, value: toBytes(c.value, 'value') };
  }
  if (typeof c.value !== 'number' || !Number.isSafeInteger(c.value)) {
    throw new MetaStoreError('ERR_INVALID_TYPE', `a ${c.target} compare needs an integer, got ${String(c.value)}`);
  }
  return { key, rangeEnd, target, result, operand: c.value };
}

function list<T>(value: T[] | undefined, name: string): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new MetaStoreError('ERR_INVALID_TYPE', `txn ${name} must be an array`);
  return value;
}

/** Writes one branch op into `w`. */
function checkOne(o: TxnRequestOp): void {
  if (o === null || typeof o !== 'object') throw new MetaStoreError('ERR_INVALID_TYPE', 'a txn op must be an object such as { put: {...} }');
  const kinds = Object.keys(o).filter((k) => k === 'put' || k === 'range' || k === 'delete' || k === 'txn');
  if (kinds.length !== 1) throw invalid('a txn op must have exactly one of put, range, delete, txn (build it with op.put(...) etc.)');
}

function writeRequestOp(w: BatchWriter, o: TxnRequestOp, level: number, maxDepth: number): void {
  checkOne(o);
  if ('put' in o) {
    const p = o.put;
    w.put(keyArg(p.key), valueArg(p.value), {
      lease: leaseOption(p.lease),
      prevKv: p.prevKv === true,
      ignoreValue: p.ignoreValue === true,
      ignoreLease: p.ignoreLease === true,
    });
  } else if ('range' in o) {
    const r = toRangeOp(o.range);
    w.range(r.key, r);
  } else if ('delete' in o) {
    const { key, rangeEnd } = resolveSelector(o.delete);
    w.deleteRange(key, rangeEnd, o.delete.prevKv === true);
  } else {
    writeTxnAt(w, o.txn, level + 1, maxDepth);
  }
}

/**
 * Writes a whole plain-object transaction into `w` as one TXN op. A transaction nested more than
 * `maxDepth` levels deep is refused with ERR_TXN_TOO_DEEP (as validation would refuse its bytes)
 * before the writer descends further: writing recurses once per level.
 */
export function writeTxn(w: BatchWriter, request: TxnRequest, maxDepth = DEFAULT_MAX_TXN_DEPTH): void {
  writeTxnAt(w, request, 1, maxDepth);
}

function writeTxnAt(w: BatchWriter, request: TxnRequest, level: number, maxDepth: number): void {
  if (level > maxDepth) throw errorFromNumber(ErrorNumber.TXN_TOO_DEEP, 0, `more than ${maxDepth} levels of nested txn`);
  if (request === null || typeof request !== 'object') throw new MetaStoreError('ERR_INVALID_TYPE', 'a txn request must be an object');
  const compare = list(request.compare, 'compare').map(toCompareFields);
  const success = list(request.success, 'success');
  const failure = list(request.failure, 'failure');
  w.txn(
    compare,
    (b) => success.forEach((o) => writeRequestOp(b, o, level, maxDepth)),
    (b) => failure.forEach((o) => writeRequestOp(b, o, level, maxDepth)),
  );
}

/**
 * The engine-level form of a plain-object transaction (a codec {@link TxnOp}), for
 * {@link BatchWriter.op} / `encodeBatch`; the same checks as {@link writeTxn}.
 */
export function toTxnOp(request: TxnRequest): TxnOp {
  if (request === null || typeof request !== 'object') throw new MetaStoreError('ERR_INVALID_TYPE', 'a txn request must be an object');
  const compare = list(request.compare, 'compare').map((c): Compare => {
    const f = toCompareFields(c);
    return {
      key: f.key as Uint8Array,
      rangeEnd: f.rangeEnd as Uint8Array,
      target: f.target,
      result: f.result,
      operand: f.operand ?? 0,
      value: (f.value as Uint8Array | undefined) ?? EMPTY,
    };
  });
  return { type: 'txn', compare, success: list(request.success, 'success').map(toRequestOp), failure: list(request.failure, 'failure').map(toRequestOp) };
}

function toRequestOp(o: TxnRequestOp): RequestOp {
  checkOne(o);
  if ('put' in o) {
    const p = o.put;
    return {
      type: 'put',
      key: toBytes(keyArg(p.key)),
      value: toBytes(valueArg(p.value), 'value'),
      lease: leaseOption(p.lease),
      prevKv: p.prevKv === true,
      ignoreValue: p.ignoreValue === true,
      ignoreLease: p.ignoreLease === true,
    };
  }
  if ('range' in o) return toRangeOp(o.range);
  if ('delete' in o) return { type: 'deleteRange', ...resolveSelector(o.delete), prevKv: o.delete.prevKv === true };
  return toTxnOp(o.txn);
}

const EMPTY = new Uint8Array(0);

/** The friendly form of an engine TXN result. Throws the op error of a failed transaction. */
export function toTxnResponse(result: OpResult): TxnResponse {
  if (result.type === 'error') throw result.error;
  if (result.type !== 'txn') throw new MetaStoreError('ERR_INTERNAL', `expected a txn result, got ${result.type}`);
  return decodeTxn(result);
}

function decodeTxn(r: TxnResult): TxnResponse {
  const responses: TxnOpResponse[] = r.responses.map((x): TxnOpResponse => {
    switch (x.type) {
      case 'put':
        return x.prevKv === undefined ? { type: 'put', revision: x.revision } : { type: 'put', revision: x.revision, prevKv: x.prevKv };
      case 'deleteRange':
        return { type: 'delete', revision: x.revision, deleted: x.deleted, prevKvs: x.prevKvs };
      case 'range':
        return { type: 'range', revision: x.revision, kvs: x.kvs, more: x.more, count: x.count };
      case 'txn':
        return { type: 'txn', ...decodeTxn(x) };
    }
  });
  return { succeeded: r.succeeded, revision: r.revision, responses };
}

/**
 * A transaction being built: `.if(...)` adds compares (all must hold), `.then(...)` the ops run
 * when they do, `.else(...)` the ops run when they do not, `.commit()` applies it as one request
 * (one revision for all its changes). Get one from {@link MetaStore.txn}.
 *
 * Not a promise: `await store.txn()...` without `.commit()` does not run it (and `then` refuses
 * the functions `await` would pass it).
 */
export class Txn {
  private readonly request: Required<TxnRequest> = { compare: [], success: [], failure: [] };

  /** @internal */
  constructor(private readonly run: (request: TxnRequest) => Promise<TxnResponse>) {}

  /**
   * Adds a compare: `target` of `key` (or of every key of a selector) `op` `value`. Targets
   * `'value'` (bytes), `'version'`, `'create'`, `'mod'`, `'lease'` (numbers); a missing key has
   * version, create, mod and lease 0, and a value compare on it is false.
   */
  if(key: Bytes | KeySelector, target: CompareTargetName, result: CompareOp, value: Bytes | number): this {
    const c = (typeof key === 'string' || key instanceof Uint8Array ? { key } : copySelector(key)) as TxnCompare;
    c.target = target;
    c.result = result;
    c.value = value;
    toCompareFields(c); // report bad input here rather than at commit
    this.request.compare.push(c);
    return this;
  }

  /** Ops to run when every compare holds (built with {@link op}). */
  then(...ops: TxnRequestOp[]): this {
    this.request.success.push(...checkOps(ops));
    return this;
  }

  /** Ops to run when a compare fails. */
  else(...ops: TxnRequestOp[]): this {
    this.request.failure.push(...checkOps(ops));
    return this;
  }

  /** The transaction in plain-object form. */
  toRequest(): TxnRequest {
    return { compare: [...this.request.compare], success: [...this.request.success], failure: [...this.request.failure] };
  }

  /**
   * Applies the transaction. Resolves to `{ succeeded, revision, responses }`; rejects with the
   * first failing op's error (ERR_LEASE_NOT_FOUND, ERR_KEY_NOT_FOUND, ERR_FUTURE_REV,
   * ERR_COMPACTED) when an op of the branch taken cannot run, and then nothing of it applied;
   * rejects with an input error (ERR_DUPLICATE_KEY, ERR_TOO_MANY_OPS...) for a bad transaction.
   */
  commit(): Promise<TxnResponse> {
    return this.run(this.toRequest());
  }
}

function checkOps(ops: TxnRequestOp[]): TxnRequestOp[] {
  for (const o of ops) {
    if (typeof o === 'function') {
      throw new MetaStoreError('ERR_INVALID_TYPE', 'a Txn is not a promise: call .commit() and await that');
    }
    if (o === null || typeof o !== 'object') throw new MetaStoreError('ERR_INVALID_TYPE', 'txn ops must be objects built with op.put(...), op.get(...), ...');
  }
  return ops;
}
