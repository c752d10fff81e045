/**
 * The range matrix (docs/etcd-semantics.md §2.2, §2.3, §5 item 4 without history), at engine level
 * unless a case is about the façade.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter, decodeBatch } from '../ts/codec.js';
import { MetaStore } from '../ts/store.js';
import { SortOrder, SortTarget, type Engine, type RangeOp } from '../ts/types.js';
import { ENGINE_KINDS, newEngine } from './engines.js';
import { ALL, applyOps, b, catchAsync, catchSync, dump, kv, nkv, putOp, rangeOp, results, show } from './helpers.js';

const engines: Engine[] = [];
function fresh(kind: (typeof ENGINE_KINDS)[number]): Engine {
  const e = newEngine(kind);
  engines.push(e);
  return e;
}
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

function put(e: Engine, ...pairs: Array<[string | number[], string]>): void {
  applyOps(
    e,
    pairs.map(([k, v]) => putOp(b(k), v)),
  );
}

/** Keys a range returns, as readable strings. */
function keysOf(e: Engine, op: RangeOp): string[] {
  return e.range(op).kvs.map((x) => show(x.key));
}

describe.each(ENGINE_KINDS)('range (%s engine)', (kind) => {
  let e: Engine;

  describe('key ranges over a..e', () => {
    beforeEach(() => {
      e = fresh(kind);
      put(e, ['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5']);
    });

    it.each([
      ['single existing key', 'c', [], ['c']],
      ['single missing key', 'cc', [], []],
      ['[a, z): every key', 'a', 'z', ['a', 'b', 'c', 'd', 'e']],
      ['[b, d): half-open', 'b', 'd', ['b', 'c']],
      ['[bb, dd): bounds between keys', 'bb', 'dd', ['c', 'd']],
      ['[f, z): out of range', 'f', 'z', []],
      ['[c, c): empty', 'c', 'c', []],
      ['[d, b): inverted is empty, not an error', 'd', 'b', []],
      ['[e, a): inverted over every key', 'e', 'a', []],
      ['[\\0, \\0): every key', [0], [0], ['a', 'b', 'c', 'd', 'e']],
      ['fromKey c', 'c', [0], ['c', 'd', 'e']],
      ['fromKey cc', 'cc', [0], ['d', 'e']],
      ['fromKey after the last key', 'f', [0], []],
    ] as const)('%s', (_name, key, end, expected) => {
      const op = rangeOp(key, { rangeEnd: end });
      const r = e.range(op);
      expect(r.kvs.map((x) => show(x.key))).toEqual(expected);
      expect(r.count).toBe(expected.length);
      expect(r.more).toBe(false);
      expect(r.revision).toBe(6);
      // The same op inside a batch, and an op that went through decodeBatch, read the same.
      const w = new BatchWriter().range(op.key, op);
      const viaBatch = results(e.applyBatch(w.peek()))[0]!;
      expect(viaBatch).toEqual({ type: 'range', revision: 6, count: expected.length, more: false, kvs: r.kvs.map(nkv) });
      expect(keysOf(e, decodeBatch(w.finish())[0] as RangeOp)).toEqual(expected);
      expect(e.revision).toBe(6);
    });

    it('a range delete over an inverted or empty interval deletes nothing', () => {
      expect(
        results(
          applyOps(e, [
            { type: 'deleteRange', key: b('d'), rangeEnd: b('b'), prevKv: true },
            { type: 'deleteRange', key: b('c'), rangeEnd: b('c'), prevKv: false },
          ]),
        ),
      ).toEqual([
        { type: 'deleteRange', revision: 6, deleted: 0, prevKvs: [] },
        { type: 'deleteRange', revision: 6, deleted: 0, prevKvs: [] },
      ]);
      expect(dump(e).size).toBe(5);
    });

    it('the façade calls an inverted or empty interval ERR_INVALID_RANGE, on reads and deletes', async () => {
      const s = await MetaStore.open({ engine: kind });
      try {
        await s.put('a', '1');
        await s.put('b', '2');
        const before = s.revision;
        expect(catchSync(() => s.range({ start: 'd', end: 'b' })).code).toBe('ERR_INVALID_RANGE');
        expect(catchSync(() => s.range({ start: 'c', end: 'c' })).code).toBe('ERR_INVALID_RANGE');
        expect(catchSync(() => s.range({ key: 'c', end: 'b' })).code).toBe('ERR_INVALID_RANGE');
        expect((await catchAsync(() => s.delete({ start: 'b', end: 'a' }))).code).toBe('ERR_INVALID_RANGE');
        expect(s.revision).toBe(before);
        expect(s.size).toBe(2);
        // An end of [0x00] is "every key from start", not an inverted interval.
        expect(s.range({ start: 'a', end: new Uint8Array([0]) }).kvs.map((x) => show(x.key))).toEqual(['a', 'b']);
        expect(s.range({ fromKey: 'b' }).kvs.map((x) => show(x.key))).toEqual(['b']);
      } finally {
        await s.close();
      }
    });
  });

  describe('prefixes', () => {
    const keys: number[][] = [[0x00], [0x61], [0x61, 0x61], [0x61, 0xff], [0x61, 0xff, 0x01], [0x62], [0x62, 0x00], [0xff], [0xff, 0xff], [0xff, 0xff, 0x01]];
    let s: MetaStore;
    beforeEach(async () => {
      e = fresh(kind);
      applyOps(
        e,
        keys.map((k) => putOp(b(k), 'v')),
      );
      s = await MetaStore.open({ engine: kind });
      for (const k of keys) await s.put(b(k), 'v');
    });
    afterEach(async () => {
      await s.close();
    });

    it.each([
      ["'a' → 'b'", 'a', 'b', ['a', 'aa', 'hex:61ff', 'hex:61ff01']],
      ["'a\\xff' → 'b'", [0x61, 0xff], 'b', ['hex:61ff', 'hex:61ff01']],
      ["'b' → 'c'", 'b', 'c', ['b', 'hex:6200']],
      ["'\\xff' → every key from it", [0xff], [0], ['hex:ff', 'hex:ffff', 'hex:ffff01']],
      ["'\\xff\\xff' → every key from it", [0xff, 0xff], [0], ['hex:ffff', 'hex:ffff01']],
      ["'' → every key", '', [0], ['hex:00', 'a', 'aa', 'hex:61ff', 'hex:61ff01', 'b', 'hex:6200', 'hex:ff', 'hex:ffff', 'hex:ffff01']],
    ] as const)('prefix %s', async (_name, prefix, end, expected) => {
      const p = typeof prefix === 'string' ? prefix : b(prefix);
      const r = s.range({ prefix: p });
      expect(r.kvs.map((x) => show(x.key))).toEqual(expected);
      expect(r.count).toBe(expected.length);
      // The engine reads the same keys over [prefix, prefixEnd), the '' prefix as [\0, \0).
      expect(keysOf(e, rangeOp(prefix === '' ? [0] : prefix, { rangeEnd: end }))).toEqual(expected);
      const d = await s.delete({ prefix: p }, { prevKv: true });
      expect({ deleted: d.deleted, keys: d.prevKvs.map((x) => show(x.key)) }).toEqual({ deleted: expected.length, keys: expected });
      expect(s.size).toBe(keys.length - expected.length);
    });

    it('the full range [\\0, \\0) holds the key \\0 itself', () => {
      expect(keysOf(e, ALL)[0]).toBe('hex:00');
      expect(e.range(ALL).count).toBe(keys.length);
      expect(keysOf(e, rangeOp([0], { rangeEnd: [0, 0] }))).toEqual(['hex:00']);
    });
  });

  describe('limit, countOnly, keysOnly', () => {
    beforeEach(() => {
      e = fresh(kind);
      put(e, ['a', 'va'], ['b', 'vb'], ['c', 'vc']);
    });

    it.each([
      [1, 'a', 'c', true],
      [2, 'ab', 'cb', true],
      [3, 'abc', 'cba', false],
      [4, 'abc', 'cba', false],
      [0, 'abc', 'cba', false],
      [-1, 'abc', 'cba', false],
    ] as const)('limit %i: keys %s (descending %s), more %s, count unaffected', (limit, asc, desc, more) => {
      const r = e.range(rangeOp('a', { rangeEnd: 'z', limit }));
      expect({ keys: r.kvs.map((x) => show(x.key)).join(''), more: r.more, count: r.count }).toEqual({ keys: asc, more, count: 3 });
      const d = e.range(rangeOp('a', { rangeEnd: 'z', limit, sortOrder: SortOrder.DESCEND }));
      expect({ keys: d.kvs.map((x) => show(x.key)).join(''), more: d.more, count: d.count }).toEqual({ keys: desc, more, count: 3 });
    });

    it.each([0, 1, 2, 5])('countOnly (limit %i): no kvs, more false, full count', (limit) => {
      expect(e.range(rangeOp('a', { rangeEnd: 'z', countOnly: true, limit }))).toEqual({ type: 'range', revision: 4, kvs: [], more: false, count: 3 });
      expect(e.range(rangeOp('b', { countOnly: true, limit }))).toMatchObject({ kvs: [], more: false, count: 1 });
    });

    it('keysOnly: values empty, metadata kept', () => {
      const r = e.range(rangeOp('a', { rangeEnd: 'z', keysOnly: true }));
      expect(r.kvs.map(nkv)).toEqual([kv('a', '', 2, 2, 1), kv('b', '', 3, 3, 1), kv('c', '', 4, 4, 1)]);
      expect(
        e.range(rangeOp('a', { rangeEnd: 'z', keysOnly: true, limit: 1, sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.VALUE })).kvs.map(nkv),
      ).toEqual([kv('c', '', 4, 4, 1)]);
      expect(nkv(e.get(b('a'))!).value).toBe('va');
    });
  });

  describe('sort and filters', () => {
    // a: create 3, mod 6, ver 2, 'y' | b: 2, 2, 1, 'x' | c: 5, 5, 1, 'z' | d: 4, 8, 2, 'x' | e: 7, 7, 1, 'w'
    beforeEach(() => {
      e = fresh(kind);
      put(e, ['b', 'x'], ['a', 'y'], ['d', 'x'], ['c', 'z'], ['a', 'y'], ['e', 'w'], ['d', 'x']);
    });

    const T = SortTarget;
    const O = SortOrder;
    it.each([
      ['KEY', T.KEY, O.NONE, 'abcde'],
      ['KEY', T.KEY, O.ASCEND, 'abcde'],
      ['KEY', T.KEY, O.DESCEND, 'edcba'],
      ['VERSION', T.VERSION, O.NONE, 'bcead'],
      ['VERSION', T.VERSION, O.ASCEND, 'bcead'],
      ['VERSION', T.VERSION, O.DESCEND, 'adbce'],
      ['CREATE', T.CREATE, O.NONE, 'badce'],
      ['CREATE', T.CREATE, O.ASCEND, 'badce'],
      ['CREATE', T.CREATE, O.DESCEND, 'ecdab'],
      ['MOD', T.MOD, O.NONE, 'bcaed'],
      ['MOD', T.MOD, O.ASCEND, 'bcaed'],
      ['MOD', T.MOD, O.DESCEND, 'deacb'],
      ['VALUE', T.VALUE, O.NONE, 'ebdac'],
      ['VALUE', T.VALUE, O.ASCEND, 'ebdac'],
      ['VALUE', T.VALUE, O.DESCEND, 'cabde'],
    ] as const)('sort by %s, order %i: %s (ties in ascending key order)', (_name, sortTarget, sortOrder, expected) => {
      const r = e.range(rangeOp('a', { rangeEnd: 'z', sortTarget, sortOrder }));
      expect(r.kvs.map((x) => show(x.key)).join('')).toBe(expected);
      expect(r.count).toBe(5);
      for (const limit of [1, 2, 4]) {
        const l = e.range(rangeOp('a', { rangeEnd: 'z', sortTarget, sortOrder, limit }));
        // etcd's range.go: with order NONE (and no filter) only the first limit + 1 keys in key
        // order are fetched, then sorted; the sort of a subset keeps the full sort's order.
        const window = 'abcde'.slice(0, limit + 1);
        const keys =
          sortOrder === O.NONE && sortTarget !== T.KEY
            ? [...expected]
                .filter((k) => window.includes(k))
                .join('')
                .slice(0, limit)
            : expected.slice(0, limit);
        expect({ limit, keys: l.kvs.map((x) => show(x.key)).join(''), more: l.more, count: l.count }).toEqual({ limit, keys, more: true, count: 5 });
      }
    });

    it.each([
      ['minMod 6', { minModRevision: 6 }, 'ade'],
      ['maxMod 5', { maxModRevision: 5 }, 'bc'],
      ['minMod 5, maxMod 7', { minModRevision: 5, maxModRevision: 7 }, 'ace'],
      ['minCreate 4', { minCreateRevision: 4 }, 'cde'],
      ['maxCreate 3', { maxCreateRevision: 3 }, 'ab'],
      ['minCreate 3, maxCreate 4', { minCreateRevision: 3, maxCreateRevision: 4 }, 'ad'],
      ['minMod 8 (bound inclusive)', { minModRevision: 8 }, 'd'],
      ['maxMod 2 (bound inclusive)', { maxModRevision: 2 }, 'b'],
      ['minCreate 100: nothing', { minCreateRevision: 100 }, ''],
      ['minMod 6, maxCreate 3', { minModRevision: 6, maxCreateRevision: 3 }, 'a'],
      ['minMod 7, maxMod 6: nothing', { minModRevision: 7, maxModRevision: 6 }, ''],
    ] as const)('filter %s: count unaffected, more computed after filtering', (_name, filter, expected) => {
      const r = e.range(rangeOp('a', { rangeEnd: 'z', ...filter }));
      expect({ keys: r.kvs.map((x) => show(x.key)).join(''), count: r.count, more: r.more }).toEqual({ keys: expected, count: 5, more: false });
      for (let limit = 1; limit <= expected.length; limit++) {
        const l = e.range(rangeOp('a', { rangeEnd: 'z', ...filter, limit }));
        expect({ limit, keys: l.kvs.map((x) => show(x.key)).join(''), count: l.count, more: l.more }).toEqual({
          limit,
          keys: expected.slice(0, limit),
          count: 5,
          more: limit < expected.length,
        });
      }
      expect(e.range(rangeOp('a', { rangeEnd: 'z', ...filter, countOnly: true }))).toMatchObject({ kvs: [], count: 5, more: false });
      const desc = e.range(rangeOp('a', { rangeEnd: 'z', ...filter, sortOrder: SortOrder.DESCEND }));
      expect(desc.kvs.map((x) => show(x.key)).join('')).toBe([...expected].reverse().join(''));
    });

    it('filters combine with a non-key sort and keysOnly', () => {
      const r = e.range(rangeOp('a', { rangeEnd: 'z', minModRevision: 5, sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND, keysOnly: true, limit: 3 }));
      expect({ kvs: r.kvs.map(nkv), more: r.more, count: r.count }).toEqual({
        kvs: [kv('d', '', 4, 8, 2), kv('e', '', 7, 7, 1), kv('a', '', 3, 6, 2)],
        more: true,
        count: 5,
      });
    });

    it('the façade maps sort names and filters to the same result', async () => {
      const s = await MetaStore.open({ engine: kind });
      try {
        for (const [k, v] of [
          ['b', 'x'],
          ['a', 'y'],
          ['d', 'x'],
          ['c', 'z'],
          ['a', 'y'],
          ['e', 'w'],
          ['d', 'x'],
        ] as const)
          await s.put(k, v);
        const r = s.range({ prefix: '', sort: { target: 'value', order: 'descend' }, limit: 3, minModRevision: 3 });
        expect({ keys: r.kvs.map((x) => show(x.key)).join(''), more: r.more, count: r.count, revision: r.revision }).toEqual({
          keys: 'cad',
          more: true,
          count: 5,
          revision: 8,
        });
        expect(
          s
            .range({ prefix: '', sort: { target: 'version' } })
            .kvs.map((x) => show(x.key))
            .join(''),
        ).toBe('bcead');
      } finally {
        await s.close();
      }
    });
  });

  describe('revision', () => {
    it('a fresh store serves revision 0 and 1 and refuses 2 as a future revision', () => {
      e = fresh(kind);
      expect(e.range(rangeOp('a', { revision: 0 }))).toEqual({ type: 'range', revision: 1, kvs: [], more: false, count: 0 });
      expect(e.range(rangeOp('a', { revision: 1 }))).toEqual({ type: 'range', revision: 1, kvs: [], more: false, count: 0 });
      expect(catchSync(() => e.range(rangeOp('a', { revision: 2 }))).code).toBe('ERR_FUTURE_REV');
    });

    it('0, negative and current are served; future → ERR_FUTURE_REV; older reads history until compacted', async () => {
      e = fresh(kind);
      put(e, ['a', '1'], ['b', '2'], ['a', '3']); // revision 4
      for (const revision of [0, -1, -1000, 4]) {
        const r = e.range(rangeOp('a', { rangeEnd: 'z', revision }));
        expect({ revision, keys: r.kvs.map((x) => show(x.key)), header: r.revision }).toEqual({ revision, keys: ['a', 'b'], header: 4 });
      }
      for (const revision of [5, 6, Number.MAX_SAFE_INTEGER])
        expect({ revision, code: catchSync(() => e.range(rangeOp('a', { revision }))).code }).toEqual({ revision, code: 'ERR_FUTURE_REV' });
      // History: at 1 nothing, at 2 a=1, at 3 a=1 and b=2.
      expect([1, 2, 3].map((revision) => e.range(rangeOp('a', { rangeEnd: 'z', revision })).kvs.map((x) => `${show(x.key)}=${show(x.value)}`))).toEqual([
        [],
        ['a=1'],
        ['a=1', 'b=2'],
      ]);
      // Inside a batch: per-op errors, the other ops apply.
      const r = applyOps(e, [rangeOp('a', { revision: 5 }), putOp('c', '1'), rangeOp('a', { revision: 4 }), rangeOp('a', { revision: 5 })]);
      expect(results(r)).toEqual([
        { type: 'error', revision: 4, code: 'ERR_FUTURE_REV' },
        { type: 'put', revision: 5 },
        { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('a', '3', 2, 4, 2)] },
        { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('a', '3', 2, 4, 2)] },
      ]);
      // Below the compacted revision: ERR_COMPACTED.
      expect(results(applyOps(e, [{ type: 'compact', revision: 3, physical: false }, rangeOp('a', { revision: 2 }), rangeOp('a', { revision: 3 })]))).toEqual([
        { type: 'compact', revision: 5 },
        { type: 'error', revision: 5, code: 'ERR_COMPACTED' },
        { type: 'range', revision: 5, count: 1, more: false, kvs: [kv('a', '1', 2, 2, 1)] },
      ]);
      // Through the façade.
      const s = await MetaStore.open({ engine: kind });
      try {
        await s.put('a', '1');
        await s.put('a', '2');
        expect(s.range({ key: 'a', revision: 3 }).count).toBe(1);
        expect(catchSync(() => s.range({ key: 'a', revision: 4 })).code).toBe('ERR_FUTURE_REV');
        expect(s.range({ key: 'a', revision: 2 }).kvs.map((x) => show(x.value))).toEqual(['1']);
        await s.compact(3);
        expect(catchSync(() => s.range({ key: 'a', revision: 2 })).code).toBe('ERR_COMPACTED');
      } finally {
        await s.close();
      }
    });
  });

  it('RANGE ops inside a batch see the earlier writes of the same batch', () => {
    e = fresh(kind);
    const r = applyOps(e, [
      rangeOp('a'),
      putOp('a', '1'), // 2
      rangeOp('a'),
      rangeOp('a', { revision: 2 }),
      putOp('a', '2'), // 3
      putOp('b', '1'), // 4
      rangeOp('a', { rangeEnd: 'z' }),
      rangeOp('a', { revision: 2 }),
      rangeOp('a', { revision: 5 }), // the batch never reaches 5 before this op
      { type: 'deleteRange', key: b('a'), rangeEnd: b([]), prevKv: false }, // 5
      rangeOp('a', { rangeEnd: 'z', countOnly: true }),
      putOp('a', '3'), // 6
      rangeOp('a', { revision: 6 }),
    ]);
    expect(results(r)).toEqual([
      { type: 'range', revision: 1, count: 0, more: false, kvs: [] },
      { type: 'put', revision: 2 },
      { type: 'range', revision: 2, count: 1, more: false, kvs: [kv('a', '1', 2, 2, 1)] },
      { type: 'range', revision: 2, count: 1, more: false, kvs: [kv('a', '1', 2, 2, 1)] },
      { type: 'put', revision: 3 },
      { type: 'put', revision: 4 },
      { type: 'range', revision: 4, count: 2, more: false, kvs: [kv('a', '2', 2, 3, 2), kv('b', '1', 4, 4, 1)] },
      { type: 'range', revision: 4, count: 1, more: false, kvs: [kv('a', '1', 2, 2, 1)] },
      { type: 'error', revision: 4, code: 'ERR_FUTURE_REV' },
      { type: 'deleteRange', revision: 5, deleted: 1, prevKvs: [] },
      { type: 'range', revision: 5, count: 1, more: false, kvs: [] },
      { type: 'put', revision: 6 },
      { type: 'range', revision: 6, count: 1, more: false, kvs: [kv('a', '3', 6, 6, 1)] },
    ]);
    expect(r.revision).toBe(6);
  });

  it("a range whose keys are too long for the engine's request buffer (64 KiB) still reads right", () => {
    e = fresh(kind);
    const long = (c: string) => c.repeat(40_000);
    put(e, [long('a'), '1'], [long('b'), '2'], [long('c'), '3']);
    const op = rangeOp(long('a'), { rangeEnd: long('c'), limit: 10 });
    expect(e.range(op).kvs.map((x) => [x.key.length, show(x.value)])).toEqual([
      [40_000, '1'],
      [40_000, '2'],
    ]);
    expect(e.range({ ...op, countOnly: true }).count).toBe(2);
  });

  it('limit 10 over 100,000 keys returns the right 10 keys', () => {
    e = fresh(kind);
    const n = 100_000;
    const key = (i: number) => `k${String(i).padStart(6, '0')}`;
    const w = new BatchWriter(1 << 22);
    for (let j = 0; j < n; j++) {
      const i = (j * 7919) % n; // every key once, out of order
      w.put(key(i), `v${i}`);
    }
    e.applyBatch(w.peek());
    expect(e.size).toBe(n);
    const first = e.range(rangeOp('k', { rangeEnd: 'l', limit: 10 }));
    expect({ keys: first.kvs.map((x) => show(x.key)), more: first.more, count: first.count }).toEqual({
      keys: Array.from({ length: 10 }, (_, i) => key(i)),
      more: true,
      count: n,
    });
    const mid = e.range(rangeOp(key(50_000), { rangeEnd: [0], limit: 10 }));
    expect(mid.kvs.map(nkv)).toEqual(
      Array.from({ length: 10 }, (_, i) => {
        const k = 50_000 + i;
        const rev = 2 + writePosition(k, n);
        return kv(key(k), `v${k}`, rev, rev, 1);
      }),
    );
    expect(mid.count).toBe(n - 50_000);
    const last = e.range(rangeOp('k', { rangeEnd: 'l', limit: 10, sortOrder: SortOrder.DESCEND }));
    expect(last.kvs.map((x) => show(x.key))).toEqual(Array.from({ length: 10 }, (_, i) => key(n - 1 - i)));
    const byMod = e.range(rangeOp('k', { rangeEnd: 'l', limit: 10, sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND, keysOnly: true }));
    expect(byMod.kvs.map((x) => x.modRevision)).toEqual(Array.from({ length: 10 }, (_, i) => n + 1 - i));
    expect(byMod.more).toBe(true);
  });
});

/** The position j at which key i was written, i = j·7919 mod n. */
function writePosition(i: number, n: number): number {
  // 7919⁻¹ mod 100000, found by the extended Euclidean algorithm.
  let [r0, r1] = [7919, n];
  let [s0, s1] = [1, 0];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  const inv = ((s0 % n) + n) % n;
  return Number((BigInt(i) * BigInt(inv)) % BigInt(n));
}

describe.each(ENGINE_KINDS)('results larger than the scratch buffer (%s)', (kind) => {
  // 2,000 keys with 100-byte values: a whole range or the batch that writes them is ~200 KiB of
  // results, past the native engine's 64 KiB scratch buffer, so each comes as its own buffer.
  const n = 2000;
  const key = (i: number) => `big/${String(i).padStart(5, '0')}`;
  const value = (round: number, i: number) => `${round}:${i}:`.padEnd(100, 'x');
  function writeAll(e: Engine, round: number): void {
    applyOps(
      e,
      Array.from({ length: n }, (_, i) => putOp(key(i), value(round, i), { prevKv: true })),
    );
  }

  it('a held result keeps its contents while later large results are made', () => {
    const e = fresh(kind);
    writeAll(e, 1);
    const first = e.range(ALL);
    writeAll(e, 2); // a large batch result in between
    const second = e.range(ALL);
    expect(first.kvs.length).toBe(n);
    expect(second.kvs.length).toBe(n);
    for (const i of [0, 1, n / 2, n - 1]) {
      expect(show(first.kvs[i]!.value)).toBe(value(1, i));
      expect(show(second.kvs[i]!.value)).toBe(value(2, i));
    }
    expect(first.kvs.every((x, i) => show(x.value) === value(1, i) && x.version === 1)).toBe(true);
    expect(second.kvs.every((x, i) => show(x.value) === value(2, i) && x.version === 2)).toBe(true);
  });

  it('a large batch result read after a later large range is still its own', () => {
    const e = fresh(kind);
    writeAll(e, 1);
    const batch = applyOps(
      e,
      Array.from({ length: n }, (_, i) => putOp(key(i), value(3, i), { prevKv: true })),
    );
    const range = e.range(ALL);
    expect(show(range.kvs[7]!.value)).toBe(value(3, 7));
    for (const i of [0, 7, n - 1]) {
      const r = batch.result(i);
      expect(r.type).toBe('put');
      if (r.type === 'put') expect(show(r.prevKv!.value)).toBe(value(1, i));
    }
  });
});
