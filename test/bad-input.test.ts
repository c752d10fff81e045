/**
 * Bad input, one table on both engines: every row names the error code both engines must raise
 * (so the codes are identical across engines) and checks that nothing was applied. Malformed
 * batches are built by mutating a valid BatchWriter batch.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import type { ErrorCode } from '../ts/errors.js';
import { MetaStore, type OpenOptions } from '../ts/store.js';
import type { RangeOptions } from '../ts/facade/selectors.js';
import { DEFAULT_MAX_VALUE_BYTES, type Engine, type EngineOptions } from '../ts/types.js';
import { ENGINE_KINDS, newEngine } from './engines.js';
import { applyOps, catchAsync, dump, nkv, putOp, rangeOp, results } from './helpers.js';

/** Bad input on purpose. */
type Any = any;

interface Row {
  name: string;
  options?: EngineOptions;
  act: (s: MetaStore, e: Engine) => unknown;
  code: ErrorCode;
  /** The failing op's index when the error comes from a batch (−1: the batch header). */
  opIndex?: number;
}

/** A valid batch of five ops; op 2 is the "middle" one a row may replace. */
function batch(middle: (w: BatchWriter) => void = (w) => w.deleteRange('a')): { bytes: Uint8Array; at: number[] } {
  const w = new BatchWriter();
  const at: number[] = [];
  const step = (f: (w: BatchWriter) => void) => {
    at.push(w.byteLength);
    f(w);
  };
  step((w) => w.put('k1', 'v1'));
  step((w) => w.put('k2', 'v2', { prevKv: true }));
  step(middle);
  step((w) => w.range('a', { rangeEnd: new TextEncoder().encode('z'), limit: 3 }));
  step((w) => w.put('k3', 'v3'));
  return { bytes: w.finish(), at };
}

/** The valid batch (with `middle` as op 2, if given) after `f` changed its bytes. */
// biome-ignore lint/suspicious/noConfusingVoidType: a mutation may return new bytes or nothing (changed in place).
function mutated(f: (bytes: Uint8Array, view: DataView, at: number[]) => Uint8Array | void, middle?: (w: BatchWriter) => void): Uint8Array {
  const { bytes, at } = batch(middle);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return f(bytes, view, at) ?? bytes;
}

const apply = (bytes: Uint8Array) => (s: MetaStore) => s.applyBatch(bytes);
const big = (n: number) => new Uint8Array(n).fill(0x61);
const TWO_53 = 2 ** 53;
/** Writes an i64 that JS numbers cannot hold exactly, as two 32-bit halves. */
function setI64(view: DataView, at: number, hi: number, lo: number): void {
  view.setUint32(at, lo >>> 0, true);
  view.setInt32(at + 4, hi | 0, true);
}

const ROWS: Row[] = [
  // Empty keys, through the façade.
  { name: 'put with an empty key', act: (s) => s.put('', 'v'), code: 'ERR_KEY_NOT_PROVIDED' },
  { name: 'put with an empty byte key', act: (s) => s.put(new Uint8Array(0), 'v'), code: 'ERR_KEY_NOT_PROVIDED' },
  { name: 'delete of an empty key', act: (s) => s.delete(''), code: 'ERR_KEY_NOT_PROVIDED' },
  { name: 'get of an empty key', act: (s) => s.get(''), code: 'ERR_KEY_NOT_PROVIDED' },
  { name: 'range of an empty key', act: (s) => s.range({ key: '' }), code: 'ERR_KEY_NOT_PROVIDED' },
  { name: 'range from an empty start', act: (s) => s.range({ start: '', end: 'b' }), code: 'ERR_KEY_NOT_PROVIDED' },
  { name: 'batch put with an empty key', act: (s) => s.batch().put('x', '1').put('', 'v').commit(), code: 'ERR_KEY_NOT_PROVIDED', opIndex: 1 },
  { name: 'engine range of an empty key', act: (_s, e) => e.range(rangeOp([])), code: 'ERR_KEY_NOT_PROVIDED' },
  // Keys and values that are neither strings nor bytes.
  ...(
    [
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
      ['an object', { key: 'a' }],
      ['an array', [0x61]],
    ] as Array<[string, unknown]>
  ).flatMap(([what, bad]): Row[] => [
    { name: `put with ${what} as key`, act: (s) => s.put(bad as Any, 'v'), code: 'ERR_INVALID_TYPE' },
    { name: `put with ${what} as value`, act: (s) => s.put('a', bad as Any), code: 'ERR_INVALID_TYPE' },
    { name: `get of ${what}`, act: (s) => s.get(bad as Any), code: 'ERR_INVALID_TYPE' },
    // (`key: undefined` is no key at all: ERR_INVALID_OPTION, not a type error.)
    ...(bad === undefined ? [] : [{ name: `range with ${what} as key`, act: (s: MetaStore) => s.range({ key: bad as Any }), code: 'ERR_INVALID_TYPE' } as Row]),
    { name: `batch put with ${what} as value`, act: (s) => s.batch().put('a', bad as Any), code: 'ERR_INVALID_TYPE' },
  ]),
  { name: 'delete of a number', act: (s) => s.delete(42 as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'delete of null', act: (s) => s.delete(null as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'delete of an array', act: (s) => s.delete([0x61] as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'range with a number as end', act: (s) => s.range({ start: 'a', end: 5 as Any }), code: 'ERR_INVALID_TYPE' },
  // Sizes.
  { name: 'value over a small maxValueBytes', options: { maxValueBytes: 8 }, act: (s) => s.put('a', big(9)), code: 'ERR_VALUE_TOO_LARGE', opIndex: 0 },
  { name: 'value over the 1.5 MiB default', act: (s) => s.put('a', big(DEFAULT_MAX_VALUE_BYTES + 1)), code: 'ERR_VALUE_TOO_LARGE' },
  { name: 'key over maxKeyBytes (put)', options: { maxKeyBytes: 4 }, act: (s) => s.put('abcde', 'v'), code: 'ERR_KEY_TOO_LARGE' },
  { name: 'key over maxKeyBytes (delete)', options: { maxKeyBytes: 4 }, act: (s) => s.delete('abcde'), code: 'ERR_KEY_TOO_LARGE' },
  { name: 'key over maxKeyBytes (range)', options: { maxKeyBytes: 4 }, act: (s) => s.range({ key: 'abcde' }), code: 'ERR_KEY_TOO_LARGE' },
  { name: 'key over maxKeyBytes (engine range)', options: { maxKeyBytes: 4 }, act: (_s, e) => e.range(rangeOp('abcde')), code: 'ERR_KEY_TOO_LARGE' },
  // Intervals, sort names, put flags.
  { name: 'range over an inverted interval', act: (s) => s.range({ start: 'd', end: 'b' }), code: 'ERR_INVALID_RANGE' },
  { name: 'delete over an inverted interval', act: (s) => s.delete({ start: 'd', end: 'b' }), code: 'ERR_INVALID_RANGE' },
  { name: 'range over [c, c)', act: (s) => s.range({ start: 'c', end: 'c' }), code: 'ERR_INVALID_RANGE' },
  { name: 'a bad sort target name', act: (s) => s.range({ prefix: '', sort: { target: 'size' } } as Any as RangeOptions), code: 'ERR_INVALID_SORT' },
  { name: 'a bad sort order name', act: (s) => s.range({ prefix: '', sort: { order: 'up' } } as Any as RangeOptions), code: 'ERR_INVALID_SORT' },
  { name: 'engine range with sortOrder 3', act: (_s, e) => e.range(rangeOp('a', { sortOrder: 3 as Any })), code: 'ERR_INVALID_SORT' },
  { name: 'engine range with sortTarget 5', act: (_s, e) => e.range(rangeOp('a', { sortTarget: 5 as Any })), code: 'ERR_INVALID_SORT' },
  { name: 'put with ignoreValue and a value', act: (s) => s.put('a', 'x', { ignoreValue: true }), code: 'ERR_VALUE_PROVIDED', opIndex: 0 },
  { name: 'put with ignoreLease and a lease', act: (s) => s.put('a', 'x', { ignoreLease: true, lease: 1 }), code: 'ERR_LEASE_PROVIDED', opIndex: 0 },
  // One bad op in the middle of a valid batch: the whole batch is rejected.
  { name: 'middle op: put with an empty key', act: apply(batch((w) => w.put('', 'v')).bytes), code: 'ERR_KEY_NOT_PROVIDED', opIndex: 2 },
  { name: 'middle op: delete of an empty key', act: apply(batch((w) => w.deleteRange('')).bytes), code: 'ERR_KEY_NOT_PROVIDED', opIndex: 2 },
  { name: 'middle op: range of an empty key', act: apply(batch((w) => w.range('')).bytes), code: 'ERR_KEY_NOT_PROVIDED', opIndex: 2 },
  {
    name: 'middle op: value too large',
    options: { maxValueBytes: 8 },
    act: apply(batch((w) => w.put('m', big(9))).bytes),
    code: 'ERR_VALUE_TOO_LARGE',
    opIndex: 2,
  },
  {
    name: 'middle op: key too large',
    options: { maxKeyBytes: 8 },
    act: apply(batch((w) => w.put('123456789', 'v')).bytes),
    code: 'ERR_KEY_TOO_LARGE',
    opIndex: 2,
  },
  {
    name: 'middle op: ignoreValue with a value',
    act: apply(batch((w) => w.put('k1', 'x', { ignoreValue: true })).bytes),
    code: 'ERR_VALUE_PROVIDED',
    opIndex: 2,
  },
  {
    name: 'middle op: ignoreLease with a lease',
    act: apply(batch((w) => w.put('k1', '', { ignoreLease: true, lease: 5 })).bytes),
    code: 'ERR_LEASE_PROVIDED',
    opIndex: 2,
  },
  // The writer refuses bad sort values, so these bytes are patched after writing.
  {
    name: 'middle op: sortOrder 3',
    act: apply(
      mutated(
        (b, _v, at) => void (b[at[2]! + 2] = 3),
        (w) => w.range('a'),
      ),
    ),
    code: 'ERR_INVALID_SORT',
    opIndex: 2,
  },
  {
    name: 'middle op: sortTarget 5',
    act: apply(
      mutated(
        (b, _v, at) => void (b[at[2]! + 3] = 5),
        (w) => w.range('a'),
      ),
    ),
    code: 'ERR_INVALID_SORT',
    opIndex: 2,
  },
  { name: 'writer: sortOrder 3', act: () => new BatchWriter().range('a', { sortOrder: 3 as Any }), code: 'ERR_INVALID_SORT' },
  // Which error wins.
  {
    name: 'the first failing op decides the code',
    options: { maxValueBytes: 8 },
    act: (s) => s.applyBatch(new BatchWriter().put('a', '1').put('b', big(9)).put('', '1').range('').peek()),
    code: 'ERR_VALUE_TOO_LARGE',
    opIndex: 1,
  },
  {
    name: 'within an op, an empty key comes before a too large value',
    options: { maxValueBytes: 8 },
    act: (s) => s.put('', big(9)),
    code: 'ERR_KEY_NOT_PROVIDED',
  },
  {
    name: 'within an op, a too large key comes before a too large value',
    options: { maxValueBytes: 8, maxKeyBytes: 4 },
    act: (s) => s.put('abcde', big(9)),
    code: 'ERR_KEY_TOO_LARGE',
  },
  {
    name: 'within an op, a too large value comes before ignoreValue',
    options: { maxValueBytes: 8 },
    act: (s) => s.put('a', big(9), { ignoreValue: true }),
    code: 'ERR_VALUE_TOO_LARGE',
  },
  {
    name: 'within an op, an undefined flag comes before an empty key',
    act: apply(
      mutated(
        (bytes, _v, at) => void (bytes[at[2]! + 1] = 0x08),
        (w) => w.put('', 'v'),
      ),
    ),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 2,
  },
  // Numbers the façade checks.
  { name: 'range with a fractional limit', act: (s) => s.range({ prefix: '', limit: 1.5 }), code: 'ERR_INVALID_OPTION' },
  { name: 'range with a negative revision', act: (s) => s.range({ prefix: '', revision: -1 }), code: 'ERR_INVALID_OPTION' },
  { name: 'put with a fractional lease', act: (s) => s.put('a', 'x', { lease: 0.5 }), code: 'ERR_INVALID_OPTION' },
  // The engine interface called directly with what its types forbid.
  { name: 'engine get of a number', act: (_s, e) => e.get(42 as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'engine get of a string', act: (_s, e) => e.get('a' as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'engine get of a plain array', act: (_s, e) => e.get([0x61] as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'engine range of null', act: (_s, e) => e.range(null as Any), code: 'ERR_INVALID_TYPE' },
  { name: 'engine range with a string key', act: (_s, e) => e.range({ ...rangeOp('a'), key: 'a' as Any }), code: 'ERR_INVALID_TYPE' },
  { name: 'engine range with a string rangeEnd', act: (_s, e) => e.range({ ...rangeOp('a'), rangeEnd: 'z' as Any }), code: 'ERR_INVALID_TYPE' },
  { name: 'engine range with sortOrder 256', act: (_s, e) => e.range(rangeOp('a', { sortOrder: 256 as Any })), code: 'ERR_INVALID_SORT' },
  { name: 'engine range with sortTarget 1.5', act: (_s, e) => e.range(rangeOp('a', { sortTarget: 1.5 as Any })), code: 'ERR_INVALID_SORT' },
  { name: 'engine range with sortTarget −1', act: (_s, e) => e.range(rangeOp('a', { sortTarget: -1 as Any })), code: 'ERR_INVALID_SORT' },
  { name: 'engine range with limit 2^53', act: (_s, e) => e.range(rangeOp('a', { limit: TWO_53 })), code: 'ERR_INVALID_OPTION' },
  { name: 'engine range with revision 1.5', act: (_s, e) => e.range(rangeOp('a', { revision: 1.5 })), code: 'ERR_INVALID_OPTION' },
  // Malformed bytes at engine level.
  { name: 'an empty buffer', act: apply(new Uint8Array(0)), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  { name: 'a 7-byte header', act: apply(mutated((bytes) => bytes.slice(0, 7))), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  { name: 'truncated by one byte', act: apply(mutated((bytes) => bytes.slice(0, -1))), code: 'ERR_MALFORMED_BATCH', opIndex: 4 },
  {
    name: 'truncated inside the middle op header',
    act: apply(mutated((bytes, _v, at) => bytes.slice(0, at[2]! + 1))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 2,
  },
  {
    name: 'truncated inside the range op fixed part',
    act: apply(mutated((bytes, _v, at) => bytes.slice(0, at[3]! + 30))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 3,
  },
  { name: 'wrong magic', act: apply(mutated((bytes) => void (bytes[2] = 0x58))), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  {
    name: 'wrong magic and wrong version: magic first',
    act: apply(mutated((bytes) => void ((bytes[0] = 0), (bytes[3] = 2)))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: -1,
  },
  { name: 'version 2', act: apply(mutated((bytes) => void (bytes[3] = 2))), code: 'ERR_UNSUPPORTED_VERSION', opIndex: -1 },
  { name: 'version 0', act: apply(mutated((bytes) => void (bytes[3] = 0))), code: 'ERR_UNSUPPORTED_VERSION', opIndex: -1 },
  {
    name: 'version 2 on a truncated batch: version first',
    act: apply(mutated((bytes) => ((bytes[3] = 2), bytes.slice(0, 12)))),
    code: 'ERR_UNSUPPORTED_VERSION',
    opIndex: -1,
  },
  ...[0, 8, 9, 255].map(
    (type): Row => ({
      name: `unknown op type ${type}`,
      act: apply(mutated((bytes, _v, at) => void (bytes[at[2]!] = type))),
      code: 'ERR_MALFORMED_BATCH',
      opIndex: 2,
    }),
  ),
  ...(
    [
      [0, 0x08],
      [0, 0x80],
      [2, 0x02],
      [2, 0xfe],
      [3, 0x08],
      [3, 0xf0],
    ] as const
  ).map(
    ([op, bit]): Row => ({
      name: `reserved flag bits 0x${bit.toString(16)} on op ${op}`,
      act: apply(mutated((bytes, _v, at) => void (bytes[at[op]! + 1]! |= bit))),
      code: 'ERR_MALFORMED_BATCH',
      opIndex: op,
    }),
  ),
  { name: 'one trailing byte', act: apply(mutated((bytes) => Uint8Array.of(...bytes, 0))), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  { name: 'count smaller than the ops present', act: apply(mutated((_b, view) => view.setUint32(4, 4, true))), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  { name: 'count 0 with ops present', act: apply(mutated((_b, view) => view.setUint32(4, 0, true))), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  { name: 'count larger than the ops present', act: apply(mutated((_b, view) => view.setUint32(4, 6, true))), code: 'ERR_MALFORMED_BATCH', opIndex: 5 },
  { name: 'count 2^32 − 1', act: apply(mutated((_b, view) => view.setUint32(4, 0xffff_ffff, true))), code: 'ERR_MALFORMED_BATCH', opIndex: 5 },
  {
    name: 'key length past the end (middle delete)',
    act: apply(mutated((_b, view, at) => view.setUint32(at[2]! + 2, 0xffff_ffff, true))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 2,
  },
  {
    name: 'range end length past the end (middle delete)',
    act: apply(mutated((_b, view, at) => view.setUint32(at[2]! + 6, 0x8000_0000, true))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 2,
  },
  {
    name: 'value length one past the end (last put)',
    act: apply(mutated((_b, view, at) => view.setUint32(at[4]! + 14, 3, true))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 4,
  },
  {
    name: 'key length + value length overflowing 32 bits',
    act: apply(mutated((_b, view, at) => (view.setUint32(at[4]! + 10, 0xffff_ffff, true), view.setUint32(at[4]! + 14, 0xffff_ffff, true)))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 4,
  },
  {
    name: 'a length that shifts the next op onto garbage',
    act: apply(mutated((_b, view, at) => view.setUint32(at[2]! + 2, 2, true))),
    code: 'ERR_MALFORMED_BATCH',
  },
  { name: 'lease 2^53', act: apply(mutated((_b, view, at) => setI64(view, at[0]! + 2, 2 ** 21, 0))), code: 'ERR_MALFORMED_BATCH', opIndex: 0 },
  { name: 'lease −2^53', act: apply(mutated((_b, view, at) => setI64(view, at[1]! + 2, -(2 ** 21), 0))), code: 'ERR_MALFORMED_BATCH', opIndex: 1 },
  { name: 'lease i64 max', act: apply(mutated((_b, view, at) => setI64(view, at[4]! + 2, 0x7fff_ffff, 0xffff_ffff))), code: 'ERR_MALFORMED_BATCH', opIndex: 4 },
  ...['limit', 'revision', 'minModRevision', 'maxModRevision', 'minCreateRevision', 'maxCreateRevision'].map(
    (field, k): Row => ({
      name: `range ${field} outside ±(2^53 − 1)`,
      act: apply(mutated((_b, view, at) => (k % 2 === 0 ? setI64(view, at[3]! + 4 + 8 * k, 2 ** 21, 0) : setI64(view, at[3]! + 4 + 8 * k, -(2 ** 31), 0)))),
      code: 'ERR_MALFORMED_BATCH',
      opIndex: 3,
    }),
  ),
  {
    name: 'an unsafe i64 comes before an empty key',
    act: apply(mutated((_b, view, at) => (setI64(view, at[0]! + 2, 2 ** 21, 0), view.setUint32(at[0]! + 10, 0, true), view.setUint32(at[0]! + 14, 4, true)))),
    code: 'ERR_MALFORMED_BATCH',
    opIndex: 0,
  },
  { name: 'sortOrder byte 3', act: apply(mutated((bytes, _v, at) => void (bytes[at[3]! + 2] = 3))), code: 'ERR_INVALID_SORT', opIndex: 3 },
  { name: 'sortTarget byte 5', act: apply(mutated((bytes, _v, at) => void (bytes[at[3]! + 3] = 5))), code: 'ERR_INVALID_SORT', opIndex: 3 },
  { name: 'sortOrder byte 255', act: apply(mutated((bytes, _v, at) => void (bytes[at[3]! + 2] = 255))), code: 'ERR_INVALID_SORT', opIndex: 3 },
  { name: 'a batch that is an ArrayBuffer', act: (s) => s.applyBatch(batch().bytes.buffer as Any), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
  { name: 'a batch that is a plain array', act: (s) => s.applyBatch(Array.from(batch().bytes) as Any), code: 'ERR_MALFORMED_BATCH', opIndex: -1 },
];

describe.each(ENGINE_KINDS)('bad input (%s engine)', (kind) => {
  let s: MetaStore | undefined;
  let e: Engine | undefined;
  afterEach(async () => {
    await s?.close();
    e?.close();
    s = e = undefined;
  });

  async function seeded(options: EngineOptions = {}): Promise<[MetaStore, Engine]> {
    s = await MetaStore.open({ ...options, engine: kind } satisfies OpenOptions);
    e = newEngine(kind, options);
    await s.put('a', 'va');
    await s.put('k1', 'old');
    applyOps(e, [putOp('a', 'va'), putOp('k1', 'old')]);
    return [s, e];
  }
  const facadeState = (st: MetaStore) => ({ revision: st.revision, size: st.size, kvs: st.range({ prefix: '' }).kvs.map(nkv) });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const [st, en] = await seeded(row.options);
    const before = [facadeState(st), dump(en)];
    const err = await catchAsync(() => row.act(st, en));
    expect({ code: err.code, ...(row.opIndex === undefined ? {} : { opIndex: err.opIndex }) }).toEqual({
      code: row.code,
      ...(row.opIndex === undefined ? {} : { opIndex: row.opIndex }),
    });
    expect([facadeState(st), dump(en)]).toEqual(before);
    expect(before[0]!.revision).toBe(3);
  });

  describe('just inside the limits', () => {
    beforeEach(async () => {
      await seeded({ maxValueBytes: 8, maxKeyBytes: 4 });
    });

    it('a value of exactly maxValueBytes and a key of exactly maxKeyBytes are accepted', async () => {
      expect(await s!.put('abcd', new Uint8Array(8))).toEqual({ revision: 4 });
      expect(s!.get('abcd')!.value.length).toBe(8);
    });

    it('leases ±(2^53 − 1) pass validation and fail as missing leases, per op', () => {
      const r = applyOps(e!, [putOp('x', '1', { lease: TWO_53 - 1 }), putOp('y', '1', { lease: -(TWO_53 - 1) }), putOp('z', '1')]);
      expect(results(r)).toEqual([
        { type: 'error', revision: 3, code: 'ERR_LEASE_NOT_FOUND' },
        { type: 'error', revision: 3, code: 'ERR_LEASE_NOT_FOUND' },
        { type: 'put', revision: 4 },
      ]);
    });

    it('range fields of ±(2^53 − 1) pass validation', () => {
      expect(e!.range(rangeOp('a', { limit: TWO_53 - 1, minModRevision: TWO_53 - 1 }))).toMatchObject({ count: 1, kvs: [] });
      expect(e!.range(rangeOp('a', { revision: -(TWO_53 - 1), maxCreateRevision: TWO_53 - 1 })).count).toBe(1);
    });
  });

  it('a value of exactly the 1.5 MiB default is accepted', async () => {
    await seeded();
    expect(await s!.put('big', big(DEFAULT_MAX_VALUE_BYTES))).toEqual({ revision: 4 });
    expect(s!.get('big')!.value.length).toBe(DEFAULT_MAX_VALUE_BYTES);
  });
});
