/**
 * Shared helpers of the behaviour tests: byte helpers, op builders, result normalisers (bytes
 * become comparable strings) and a full state dump. Everything here is engine-agnostic.
 */

import { BatchWriter } from '../ts/codec.js';
import type { RangeFields } from '../ts/codec.js';
import { MetaStoreError } from '../ts/errors.js';
import type { ErrorCode } from '../ts/errors.js';
import type { BatchResult, DeleteRangeOp, Engine, KeyValue, Op, OpResult, PutOp, RangeOp, WatchEvent } from '../ts/types.js';

const utf8 = new TextEncoder();

/** Bytes of a string (UTF-8), a byte list, or bytes as they are. */
export function b(input: string | readonly number[] | Uint8Array): Uint8Array {
  if (typeof input === 'string') return utf8.encode(input);
  if (input instanceof Uint8Array) return input;
  return Uint8Array.from(input);
}

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const x of bytes) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Printable ASCII as itself, anything else as `hex:…`: readable in diffs, exact in comparisons. */
export function show(bytes: Uint8Array): string {
  for (const x of bytes) if (x < 0x20 || x > 0x7e) return `hex:${hex(bytes)}`;
  return String.fromCharCode(...bytes);
}

/** A KeyValue with its bytes as strings, so `toEqual` compares content, never identity. */
export interface NKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

export function nkv(kv: KeyValue): NKv {
  return {
    key: show(kv.key),
    value: show(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

/** Shorthand for an expected KV. */
export function kv(key: string, value: string, createRevision: number, modRevision: number, version: number, lease = 0): NKv {
  return { key, value, createRevision, modRevision, version, lease };
}

export type NResult =
  | { type: 'put'; revision: number; prevKv?: NKv }
  | { type: 'deleteRange'; revision: number; deleted: number; prevKvs: NKv[] }
  | { type: 'range'; revision: number; count: number; more: boolean; kvs: NKv[] }
  | { type: 'txn'; revision: number; succeeded: boolean; responses: NResult[] }
  | { type: 'leaseGrant'; revision: number; id: number; ttl: number }
  | { type: 'leaseRevoke'; revision: number }
  | { type: 'compact'; revision: number }
  | { type: 'error'; revision: number; code: ErrorCode };

export function nres(r: OpResult): NResult {
  switch (r.type) {
    case 'put':
      return r.prevKv === undefined ? { type: 'put', revision: r.revision } : { type: 'put', revision: r.revision, prevKv: nkv(r.prevKv) };
    case 'deleteRange':
      return { type: 'deleteRange', revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs.map(nkv) };
    case 'range':
      return { type: 'range', revision: r.revision, count: r.count, more: r.more, kvs: r.kvs.map(nkv) };
    case 'txn':
      return { type: 'txn', revision: r.revision, succeeded: r.succeeded, responses: r.responses.map(nres) };
    case 'leaseGrant':
      return { type: 'leaseGrant', revision: r.revision, id: r.id, ttl: r.ttl };
    case 'leaseRevoke':
      return { type: 'leaseRevoke', revision: r.revision };
    case 'compact':
      return { type: 'compact', revision: r.revision };
    case 'error':
      if (!(r.error instanceof MetaStoreError)) throw new Error(`error result without a MetaStoreError: ${String(r.error)}`);
      return { type: 'error', revision: r.revision, code: r.error.code };
  }
}

/** A watch event with its bytes as strings. */
export interface NEvent {
  type: 'put' | 'delete';
  kv: NKv;
  prevKv?: NKv;
  subRevision: number;
}

export function nevent(e: WatchEvent): NEvent {
  const out: NEvent = { type: e.type, kv: nkv(e.kv), subRevision: e.subRevision };
  if (e.prevKv !== undefined) out.prevKv = nkv(e.prevKv);
  return out;
}

/** Shorthand for an expected DELETE event's KV: the key and the deletion's revision, the rest zero. */
export function tomb(key: string, modRevision: number): NKv {
  return { key, value: '', createRevision: 0, modRevision, version: 0, lease: 0 };
}

/** Every result of a batch, normalised, checking that `size` is the number of results. */
export function results(batch: BatchResult): NResult[] {
  const out: NResult[] = [];
  for (let i = 0; i < batch.size; i++) out.push(nres(batch.result(i)));
  return out;
}

/** A complete RangeOp: every unset field is zero/false, as the codec means "unset". */
export function rangeOp(
  key: string | readonly number[] | Uint8Array,
  fields: Omit<RangeFields, 'rangeEnd'> & { rangeEnd?: string | readonly number[] | Uint8Array } = {},
): RangeOp {
  return {
    type: 'range',
    key: b(key),
    rangeEnd: b(fields.rangeEnd ?? []),
    limit: fields.limit ?? 0,
    revision: fields.revision ?? 0,
    sortOrder: fields.sortOrder ?? 0,
    sortTarget: fields.sortTarget ?? 0,
    keysOnly: fields.keysOnly ?? false,
    countOnly: fields.countOnly ?? false,
    serializable: fields.serializable ?? false,
    minModRevision: fields.minModRevision ?? 0,
    maxModRevision: fields.maxModRevision ?? 0,
    minCreateRevision: fields.minCreateRevision ?? 0,
    maxCreateRevision: fields.maxCreateRevision ?? 0,
  };
}

export function putOp(key: string | Uint8Array, value: string | Uint8Array, f: Partial<Omit<PutOp, 'type' | 'key' | 'value'>> = {}): PutOp {
  return {
    type: 'put',
    key: b(key),
    value: b(value),
    lease: f.lease ?? 0,
    prevKv: f.prevKv ?? false,
    ignoreValue: f.ignoreValue ?? false,
    ignoreLease: f.ignoreLease ?? false,
  };
}

export function delOp(key: string | Uint8Array, rangeEnd: string | readonly number[] | Uint8Array = [], prevKv = false): DeleteRangeOp {
  return { type: 'deleteRange', key: b(key), rangeEnd: b(rangeEnd), prevKv };
}

/** The whole range: key [0x00], rangeEnd [0x00]. */
export const ALL: RangeOp = rangeOp([0], { rangeEnd: [0] });

export interface Dump {
  revision: number;
  size: number;
  kvs: NKv[];
}

/** Revision, size and every key with its metadata, in key order. */
export function dump(engine: Engine): Dump {
  const r = engine.range(ALL);
  if (r.count !== r.kvs.length || r.more) throw new Error(`full range inconsistent: count ${r.count}, ${r.kvs.length} kvs, more ${r.more}`);
  return { revision: engine.revision, size: engine.size, kvs: r.kvs.map(nkv) };
}

/** Applies ops as one batch (encoded with a BatchWriter). */
export function applyOps(engine: Engine, ops: readonly Op[]): BatchResult {
  const w = new BatchWriter();
  for (const op of ops) w.op(op);
  return engine.applyBatch(w.peek());
}

/** Applies ops one batch each; returns every op's normalised result. */
export function applyOneByOne(engine: Engine, ops: readonly Op[]): NResult[] {
  const w = new BatchWriter();
  return ops.map((op) => {
    const r = engine.applyBatch(w.reset().op(op).peek());
    if (r.size !== 1) throw new Error(`one-op batch gave ${r.size} results`);
    return nres(r.result(0));
  });
}

/** The MetaStoreError `fn` throws; fails when it throws nothing or something else. */
export function catchSync(fn: () => unknown): MetaStoreError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MetaStoreError) return e;
    throw new Error(`expected a MetaStoreError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a MetaStoreError, nothing was thrown');
}

/** Like {@link catchSync} for async calls (a synchronous throw counts too). */
export async function catchAsync(fn: () => Promise<unknown> | unknown): Promise<MetaStoreError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof MetaStoreError) return e;
    throw new Error(`expected a MetaStoreError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a MetaStoreError, nothing was thrown');
}
