/**
 * The Go seed's seven batch-apply tests, carried over at engine level and made stronger: every
 * per-op result and every key's metadata is checked, not only the final revision.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import type { Engine, EngineOptions, Op } from '../ts/types.js';
import { ENGINE_KINDS, newEngine } from './engines.js';
import { applyOneByOne, applyOps, delOp, dump, kv, nkv, putOp, rangeOp, results, type NResult } from './helpers.js';

const open: Engine[] = [];
function engineOf(kind: (typeof ENGINE_KINDS)[number], options?: EngineOptions): Engine {
  const e = newEngine(kind, options);
  open.push(e);
  return e;
}
afterEach(() => {
  for (const e of open.splice(0)) e.close();
});

/** Option sets the batch paths must not be able to tell apart (native: serial vs parallel apply). */
const CONFIGS: Array<[string, EngineOptions]> = [
  ['default options', {}],
  ['parallelThreshold 2', { parallelThreshold: 2 }],
  ['parallelThreshold 2, threads 1', { parallelThreshold: 2, threads: 1 }],
  ['parallelThreshold 2, threads 2', { parallelThreshold: 2, threads: 2 }],
  ['threads 1', { threads: 1 }],
  ['threads 2', { threads: 2 }],
];

/**
 * The seed's CorrectnessVsSingle script ([PUT k1,k2,k3; DELETE k1; PUT k1]) followed by runs that
 * a parallel apply could get wrong: repeated keys in one run of puts, prevKv, ignore flags on
 * existing and missing keys, missing leases, runs of single-key deletes with repeats and misses,
 * range deletes and reads between runs.
 */
function correctnessScript(): Op[] {
  const ops: Op[] = [putOp('k1', 'value1'), putOp('k2', 'value2'), putOp('k3', 'value3'), delOp('k1'), putOp('k1', 'new-value1')];
  ops.push(
    putOp('k2', 'v2b', { prevKv: true }),
    putOp('k4', 'v4'),
    putOp('k4', 'v4b', { prevKv: true }),
    putOp('k5', '', { ignoreValue: true }), // missing key: ERR_KEY_NOT_FOUND
    putOp('k4', '', { ignoreValue: true, prevKv: true }),
    putOp('k6', 'v6', { lease: 1 }), // no lease: ERR_LEASE_NOT_FOUND
    putOp('k3', 'v3b', { ignoreLease: true }),
    putOp('k6', 'v6', { ignoreLease: true }), // still missing: ERR_KEY_NOT_FOUND
    putOp('k7', ''),
    rangeOp('k', { rangeEnd: 'l' }),
    delOp('k2', [], true),
    delOp('k2', [], true), // already gone
    delOp('missing'),
    delOp('k3'),
    delOp('k7', [], true),
    rangeOp('k', { rangeEnd: 'l', sortOrder: 2, sortTarget: 3 }),
    delOp('k', 'k5', true), // range delete: k1, k4
    delOp('k', 'k5'), // nothing left in it
  );
  for (let i = 0; i < 40; i++) ops.push(putOp(`p${i % 7}`, `pv${i}`, { prevKv: i % 3 === 0 }));
  for (let i = 0; i < 10; i++) ops.push(delOp(`p${i % 9}`, [], i % 2 === 0));
  ops.push(rangeOp([0], { rangeEnd: [0] }));
  return ops;
}

describe.each(ENGINE_KINDS)('batch apply (%s engine)', (kind) => {
  it('Put: 100 puts in one batch, revision 1 → 101, one revision per put', () => {
    const e = engineOf(kind);
    const w = new BatchWriter();
    for (let i = 0; i < 100; i++) w.put(`key-${i}`, `value-${i}`);
    const r = e.applyBatch(w.peek());
    expect(r.size).toBe(100);
    expect(r.revision).toBe(101);
    expect(e.revision).toBe(101);
    expect(e.size).toBe(100);
    expect(results(r)).toEqual(Array.from({ length: 100 }, (_, i) => ({ type: 'put', revision: i + 2 })));
    for (let i = 0; i < 100; i++) {
      expect(nkv(e.get(new TextEncoder().encode(`key-${i}`))!)).toEqual(kv(`key-${i}`, `value-${i}`, i + 2, i + 2, 1));
    }
  });

  it('Delete: 100 puts then 100 deletes, every key absent, one revision and deleted 1 per delete', () => {
    const e = engineOf(kind);
    const w = new BatchWriter();
    for (let i = 0; i < 100; i++) w.put(`key-${i}`, `value-${i}`);
    e.applyBatch(w.peek());
    w.reset();
    for (let i = 0; i < 100; i++) w.deleteRange(`key-${i}`, undefined, i % 2 === 1);
    const r = e.applyBatch(w.peek());
    expect(r.revision).toBe(201);
    expect(results(r)).toEqual(
      Array.from({ length: 100 }, (_, i) => ({
        type: 'deleteRange',
        revision: 102 + i,
        deleted: 1,
        prevKvs: i % 2 === 1 ? [kv(`key-${i}`, `value-${i}`, i + 2, i + 2, 1)] : [],
      })),
    );
    expect(dump(e)).toEqual({ revision: 201, size: 0, kvs: [] });
    for (let i = 0; i < 100; i++) expect(e.get(new TextEncoder().encode(`key-${i}`))).toBeUndefined();
  });

  it('Mixed: puts, deletes and reads interleaved; deletes of missing keys do not bump', () => {
    const e = engineOf(kind);
    const pre = new BatchWriter();
    for (let i = 50; i < 80; i++) pre.put(`key-${i}`, `old-${i}`); // revisions 2..31
    e.applyBatch(pre.peek());
    expect(e.revision).toBe(31);

    const ops: Op[] = [];
    const expected: NResult[] = [];
    let rev = 31;
    let live = 30;
    for (let i = 0; i < 50; i++) {
      ops.push(putOp(`key-${i}`, `value-${i}`));
      expected.push({ type: 'put', revision: ++rev });
      live++;
      if (i < 30) {
        ops.push(delOp(`key-${50 + i}`));
        expected.push({ type: 'deleteRange', revision: ++rev, deleted: 1, prevKvs: [] });
        live--;
      }
      if (i % 10 === 0) {
        ops.push(delOp(`absent-${i}`, [], true));
        expected.push({ type: 'deleteRange', revision: rev, deleted: 0, prevKvs: [] });
        ops.push(rangeOp(`key-${i}`));
        expected.push({
          type: 'range',
          revision: rev,
          count: 1,
          more: false,
          kvs: [kv(`key-${i}`, `value-${i}`, rev - (i < 30 ? 1 : 0), rev - (i < 30 ? 1 : 0), 1)],
        });
        ops.push(rangeOp('key-', { rangeEnd: 'key.', countOnly: true }));
        expected.push({ type: 'range', revision: rev, count: live, more: false, kvs: [] });
      }
    }
    const r = applyOps(e, ops);
    expect(results(r)).toEqual(expected);
    expect(r.revision).toBe(31 + 50 + 30);
    expect(e.revision).toBe(111);
    expect(e.size).toBe(50);
    for (let i = 0; i < 50; i++) expect(nkv(e.get(new TextEncoder().encode(`key-${i}`))!).value).toBe(`value-${i}`);
    for (let i = 50; i < 80; i++) expect(e.get(new TextEncoder().encode(`key-${i}`))).toBeUndefined();
  });

  it('EmptyOps: an empty batch changes nothing and has no results', () => {
    const e = engineOf(kind);
    const w = new BatchWriter();
    const r1 = e.applyBatch(w.peek());
    expect(r1.size).toBe(0);
    expect(r1.revision).toBe(1);
    expect(dump(e)).toEqual({ revision: 1, size: 0, kvs: [] });
    e.applyBatch(w.put('a', '1').put('b', '2').peek());
    const before = dump(e);
    const r2 = e.applyBatch(w.reset().peek());
    expect(r2.size).toBe(0);
    expect(r2.revision).toBe(3);
    expect(dump(e)).toEqual(before);
  });

  it('SingleOp: one put gives key1=value1 at revision 2', () => {
    const e = engineOf(kind);
    const r = e.applyBatch(new BatchWriter().put('key1', 'value1').peek());
    expect(r.size).toBe(1);
    expect(r.revision).toBe(2);
    expect(results(r)).toEqual([{ type: 'put', revision: 2 }]);
    expect(dump(e)).toEqual({ revision: 2, size: 1, kvs: [kv('key1', 'value1', 2, 2, 1)] });
  });

  it('a BatchResult decoded after later batches, gets and ranges still holds its own results', () => {
    const e = engineOf(kind);
    const w = new BatchWriter();
    const small = e.applyBatch(w.put('a', '1').put('a', '2', { prevKv: true }).range('a').finish());
    const bigValue = new Uint8Array(100 * 1024).fill(0x62);
    const large = e.applyBatch(w.reset().put('b', bigValue).put('b', 'x', { prevKv: true }).finish());
    // Later calls of every kind, before either result is read.
    e.applyBatch(
      w
        .reset()
        .put('a', '3')
        .deleteRange('b', undefined, true)
        .range('a', { rangeEnd: new Uint8Array([0]) })
        .finish(),
    );
    e.get(new TextEncoder().encode('a'));
    e.range(rangeOp('a', { rangeEnd: [0] }));
    expect({ size: small.size, revision: small.revision }).toEqual({ size: 3, revision: 3 });
    expect(results(small)).toEqual([
      { type: 'put', revision: 2 },
      { type: 'put', revision: 3, prevKv: kv('a', '1', 2, 2, 1) },
      { type: 'range', revision: 3, count: 1, more: false, kvs: [kv('a', '2', 2, 3, 2)] },
    ]);
    expect({ size: large.size, revision: large.revision }).toEqual({ size: 2, revision: 5 });
    const prev = large.result(1);
    expect(prev.type === 'put' && prev.prevKv !== undefined && nkv(prev.prevKv)).toEqual(kv('b', 'b'.repeat(100 * 1024), 4, 4, 1));
    expect(() => small.result(3)).toThrow(RangeError);
  });

  describe.each(CONFIGS)('with %s', (_name, options) => {
    it('keys a large batch creates are all in a range and a count read right after it, and in a delete later in the batch', () => {
      // The native engine finishes a large batch's index inserts after applyBatch returns: reads
      // of ranges and counts must wait for them, and ops after the puts within a batch see them.
      const e = engineOf(kind, options);
      const w = new BatchWriter();
      for (let round = 0; round < 5; round++) {
        w.reset();
        for (let i = 0; i < 2000; i++) w.put(`r${round}/${String((i * 7919) % 2000).padStart(4, '0')}`, 'v');
        e.applyBatch(w.peek());
        const all = e.range(rangeOp([0], { rangeEnd: [0], countOnly: true }));
        expect(all.count).toBe(2000 * (round + 1));
        const mine = e.range(rangeOp(`r${round}/`, { rangeEnd: `r${round}0` }));
        expect(mine.kvs.map((x) => new TextDecoder().decode(x.key))).toEqual(Array.from({ length: 2000 }, (_, i) => `r${round}/${String(i).padStart(4, '0')}`));
      }
      w.reset();
      for (let i = 0; i < 1000; i++) w.put(`s/${String(i).padStart(4, '0')}`, 'v');
      w.deleteRange('s/0500', 's/9');
      const r = e.applyBatch(w.peek());
      expect(r.result(1000)).toEqual({ type: 'deleteRange', revision: 1 + 10_000 + 1000 + 1, deleted: 500, prevKvs: [] });
      expect(e.size).toBe(10_000 + 500);
    });

    it('CorrectnessVsSingle: one batch gives the same per-op results and per-key state as one op per batch', () => {
      const ops = correctnessScript();
      const single = engineOf(kind, options);
      const batched = engineOf(kind, options);
      const oneByOne = applyOneByOne(single, ops);
      const r = applyOps(batched, ops);
      expect(r.size).toBe(ops.length);
      expect(results(r)).toEqual(oneByOne);
      expect(r.revision).toBe(single.revision);
      expect(dump(batched)).toEqual(dump(single));

      // Pin the seed's prefix by hand: k1..k3 at 2..4, k1 deleted at 5, re-created at 6.
      expect(oneByOne.slice(0, 5)).toEqual([
        { type: 'put', revision: 2 },
        { type: 'put', revision: 3 },
        { type: 'put', revision: 4 },
        { type: 'deleteRange', revision: 5, deleted: 1, prevKvs: [] },
        { type: 'put', revision: 6 },
      ]);
      expect(oneByOne.slice(5, 14)).toEqual([
        { type: 'put', revision: 7, prevKv: kv('k2', 'value2', 3, 3, 1) },
        { type: 'put', revision: 8 },
        { type: 'put', revision: 9, prevKv: kv('k4', 'v4', 8, 8, 1) },
        { type: 'error', revision: 9, code: 'ERR_KEY_NOT_FOUND' },
        { type: 'put', revision: 10, prevKv: kv('k4', 'v4b', 8, 9, 2) },
        { type: 'error', revision: 10, code: 'ERR_LEASE_NOT_FOUND' },
        { type: 'put', revision: 11 },
        { type: 'error', revision: 11, code: 'ERR_KEY_NOT_FOUND' },
        { type: 'put', revision: 12 },
      ]);
      expect(oneByOne[14]).toEqual({
        type: 'range',
        revision: 12,
        count: 5,
        more: false,
        kvs: [kv('k1', 'new-value1', 6, 6, 1), kv('k2', 'v2b', 3, 7, 2), kv('k3', 'v3b', 4, 11, 2), kv('k4', 'v4b', 8, 10, 3), kv('k7', '', 12, 12, 1)],
      });
    });

    it('CorrectnessVsSingle: every option set gives what the default engine gives', () => {
      const ops = correctnessScript();
      const reference = engineOf(kind);
      const e = engineOf(kind, options);
      expect(results(applyOps(e, ops))).toEqual(results(applyOps(reference, ops)));
      expect(dump(e)).toEqual(dump(reference));
    });

    it('Stress: 10,000 puts over 1,000 keys in one batch advance the revision by exactly 10,000', () => {
      const e = engineOf(kind, options);
      const w = new BatchWriter(1 << 18);
      for (let i = 0; i < 10_000; i++) w.put(`key-${i % 1000}`, `value-${i}`, { prevKv: i % 2 === 1 });
      const r = e.applyBatch(w.peek());
      expect(r.size).toBe(10_000);
      expect(r.revision).toBe(10_001);
      expect(e.revision).toBe(10_001);
      expect(e.size).toBe(1000);
      for (let i = 0; i < 10_000; i++) {
        const got = r.result(i);
        const prev = i >= 1000 && i % 2 === 1 ? { prevKv: kv(`key-${i % 1000}`, `value-${i - 1000}`, (i % 1000) + 2, i - 1000 + 2, Math.floor(i / 1000)) } : {};
        // Compare only on mismatch-prone fields first, so a failure names its op.
        if (got.type !== 'put' || got.revision !== i + 2) expect({ op: i, result: results(r)[i] }).toEqual({ op: i, result: { type: 'put', revision: i + 2 } });
        if (i % 2 === 1) expect({ op: i, prevKv: got.type === 'put' && got.prevKv ? nkv(got.prevKv) : undefined }).toEqual({ op: i, prevKv: prev.prevKv });
      }
      const expected = Array.from({ length: 1000 }, (_, j) => kv(`key-${j}`, `value-${9000 + j}`, j + 2, 9000 + j + 2, 10));
      expected.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      expect(dump(e)).toEqual({ revision: 10_001, size: 1000, kvs: expected });
    });
  });

  it('Stress gives identical results and state on every option set', () => {
    const w = new BatchWriter(1 << 18);
    for (let i = 0; i < 10_000; i++) {
      if (i % 500 === 499) w.deleteRange(`key-${(i * 7) % 1000}`, undefined, true);
      else w.put(`key-${i % 1000}`, `value-${i}`, { prevKv: i % 3 === 0 });
    }
    const batch = w.finish();
    let reference: { results: NResult[]; state: ReturnType<typeof dump> } | undefined;
    for (const [name, options] of CONFIGS) {
      const e = engineOf(kind, options);
      const got = { results: results(e.applyBatch(batch)), state: dump(e) };
      if (reference === undefined) reference = got;
      else expect({ name, ...got }).toEqual({ name, ...reference });
    }
  });
});
