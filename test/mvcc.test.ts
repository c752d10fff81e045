/**
 * MVCC history and compaction at engine level (docs/codec.md "RANGE" and "COMPACT";
 * docs/etcd-semantics.md §2.3, §2.7, §5 items 4 and 8): reads at past revisions see the keys as they
 * were, compaction keeps per key the newest version at or below its revision (a tombstone exactly
 * there included) and refuses repeated or future revisions.
 */

import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import type { EngineKind } from '../ts/engines/create-engine.js';
import { SortOrder, SortTarget, type Engine, type RangeOp } from '../ts/types.js';
import { ENGINE_KINDS, engineFactory } from './engines.js';
import { b, catchSync, dump, kv, nevent, nkv, rangeOp, results, tomb, type NKv, type NResult } from './helpers.js';

const fresh = engineFactory();

function run(e: Engine, build: (w: BatchWriter) => void): NResult[] {
  const w = new BatchWriter();
  build(w);
  return results(e.applyBatch(w.peek()));
}

const Z = new Uint8Array([0]);

/** Every key at revision `revision`, in key order. */
function at(e: Engine, revision: number, fields: Partial<RangeOp> = {}): NKv[] {
  return e.range({ ...rangeOp(Z, { rangeEnd: Z, revision }), ...fields }).kvs.map(nkv);
}

/**
 * A history over keys a, b, c:
 *   2 put a=1 · 3 put b=1 · 4 put a=2 · 5 delete a · 6 put c=1 · 7 put a=3 (new generation)
 *   8 delete [b, d) (b and c, in key order) · 9 put b=2
 */
function history(kind: EngineKind): Engine {
  const e = fresh(kind);
  run(e, (w) => w.put('a', '1').put('b', '1').put('a', '2').deleteRange('a').put('c', '1').put('a', '3').deleteRange('b', 'd').put('b', '2'));
  expect(e.revision).toBe(9);
  return e;
}

/** The state at each revision of {@link history}. */
const STATES: Record<number, NKv[]> = {
  1: [],
  2: [kv('a', '1', 2, 2, 1)],
  3: [kv('a', '1', 2, 2, 1), kv('b', '1', 3, 3, 1)],
  4: [kv('a', '2', 2, 4, 2), kv('b', '1', 3, 3, 1)],
  5: [kv('b', '1', 3, 3, 1)],
  6: [kv('b', '1', 3, 3, 1), kv('c', '1', 6, 6, 1)],
  7: [kv('a', '3', 7, 7, 1), kv('b', '1', 3, 3, 1), kv('c', '1', 6, 6, 1)],
  8: [kv('a', '3', 7, 7, 1)],
  9: [kv('a', '3', 7, 7, 1), kv('b', '2', 9, 9, 1)],
};

describe.each(ENGINE_KINDS)('MVCC reads (%s engine)', (kind) => {
  it.each(Object.keys(STATES).map(Number))('the whole keyspace at revision %i', (rev) => {
    const e = history(kind);
    const r = e.range(rangeOp(Z, { rangeEnd: Z, revision: rev }));
    expect({ revision: r.revision, count: r.count, more: r.more, kvs: r.kvs.map(nkv) }).toEqual({
      revision: 9,
      count: STATES[rev]!.length,
      more: false,
      kvs: STATES[rev],
    });
  });

  it('single keys at past revisions: deleted keys, older generations, keys not yet created', () => {
    const e = history(kind);
    const one = (key: string, revision: number) => e.range(rangeOp(key, { revision })).kvs.map(nkv);
    expect(one('a', 4)).toEqual([kv('a', '2', 2, 4, 2)]);
    expect(one('a', 5)).toEqual([]);
    expect(one('a', 6)).toEqual([]);
    expect(one('a', 7)).toEqual([kv('a', '3', 7, 7, 1)]);
    expect(one('c', 5)).toEqual([]);
    expect(one('c', 7)).toEqual([kv('c', '1', 6, 6, 1)]);
    expect(one('c', 9)).toEqual([]);
    expect(one('zz', 3)).toEqual([]);
  });

  it('count, limit, sort, filters, keysOnly and countOnly apply to the keys as they were', () => {
    const e = history(kind);
    const read = (fields: Partial<RangeOp>) => {
      const r = e.range({ ...rangeOp('a', { rangeEnd: 'z', revision: 7 }), ...fields });
      return { count: r.count, more: r.more, keys: r.kvs.map((x) => `${nkv(x).key}:${nkv(x).value}`) };
    };
    expect(read({})).toEqual({ count: 3, more: false, keys: ['a:3', 'b:1', 'c:1'] });
    expect(read({ limit: 2 })).toEqual({ count: 3, more: true, keys: ['a:3', 'b:1'] });
    expect(read({ sortOrder: SortOrder.DESCEND })).toEqual({ count: 3, more: false, keys: ['c:1', 'b:1', 'a:3'] });
    expect(read({ sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND, limit: 2 })).toEqual({ count: 3, more: true, keys: ['a:3', 'c:1'] });
    expect(read({ sortTarget: SortTarget.VALUE })).toEqual({ count: 3, more: false, keys: ['b:1', 'c:1', 'a:3'] });
    expect(read({ sortTarget: SortTarget.CREATE, sortOrder: SortOrder.ASCEND })).toEqual({ count: 3, more: false, keys: ['b:1', 'c:1', 'a:3'] });
    expect(read({ minCreateRevision: 4 })).toEqual({ count: 3, more: false, keys: ['a:3', 'c:1'] });
    expect(read({ maxModRevision: 6, limit: 1 })).toEqual({ count: 3, more: true, keys: ['b:1'] });
    expect(read({ countOnly: true })).toEqual({ count: 3, more: false, keys: [] });
    expect(e.range({ ...rangeOp('a', { rangeEnd: 'z', revision: 4 }), keysOnly: true }).kvs.map(nkv)).toEqual([kv('a', '', 2, 4, 2), kv('b', '', 3, 3, 1)]);
    // Inverted and empty ranges at a past revision.
    expect(read({ key: b('c'), rangeEnd: b('a') })).toEqual({ count: 0, more: false, keys: [] });
    expect(e.range(rangeOp('b', { rangeEnd: Z, revision: 5 })).count).toBe(1);
  });

  it('RANGE ops of a batch read history at the revision they name', () => {
    const e = fresh(kind);
    expect(
      run(e, (w) =>
        w
          .put('k', 'v1') // 2
          .put('k', 'v2', { ignoreLease: true }) // 3
          .range('k', { revision: 2 })
          .deleteRange('k') // 4
          .range('k', { revision: 3 })
          .range('k', { revision: 4 })
          .range('k'),
      ),
    ).toEqual([
      { type: 'put', revision: 2 },
      { type: 'put', revision: 3 },
      { type: 'range', revision: 3, count: 1, more: false, kvs: [kv('k', 'v1', 2, 2, 1)] },
      { type: 'deleteRange', revision: 4, deleted: 1, prevKvs: [] },
      { type: 'range', revision: 4, count: 1, more: false, kvs: [kv('k', 'v2', 2, 3, 2)] },
      { type: 'range', revision: 4, count: 0, more: false, kvs: [] },
      { type: 'range', revision: 4, count: 0, more: false, kvs: [] },
    ]);
  });

  it('values of every size and byte survive in history', () => {
    const e = fresh(kind);
    const values = [
      b([]),
      b([0]),
      b([0xff, 0x00, 0x80]),
      b('x'.repeat(33)),
      new Uint8Array(40_000).fill(7),
      new Uint8Array(100_000).map((_, i) => i & 0xff),
      b('end'),
    ];
    const w = new BatchWriter();
    for (const v of values) w.put('k', v);
    e.applyBatch(w.peek()); // revisions 2..8
    for (let i = 0; i < values.length; i++) {
      const [got] = e.range(rangeOp('k', { revision: i + 2 })).kvs;
      expect({ i, value: Buffer.from(got!.value).equals(Buffer.from(values[i]!)), version: got!.version }).toEqual({ i, value: true, version: i + 1 });
    }
  });
});

describe.each(ENGINE_KINDS)('compaction (%s engine)', (kind) => {
  it('a fresh store: compacted revision −1; compact(0) and compact(1) succeed once; repeats and the future are refused', () => {
    const e = fresh(kind);
    expect(e.compactRevision).toBe(-1);
    expect(run(e, (w) => w.compact(0).compact(0).compact(1).compact(1).compact(2).compact(-1))).toEqual([
      { type: 'compact', revision: 1 },
      { type: 'error', revision: 1, code: 'ERR_COMPACTED' },
      { type: 'compact', revision: 1 },
      { type: 'error', revision: 1, code: 'ERR_COMPACTED' },
      { type: 'error', revision: 1, code: 'ERR_FUTURE_REV' },
      { type: 'error', revision: 1, code: 'ERR_COMPACTED' },
    ]);
    expect(e.compactRevision).toBe(1);
    expect(e.revision).toBe(1);
  });

  it('compact(current) works, does not change the revision, and a repeat is ERR_COMPACTED', () => {
    const e = history(kind);
    expect(run(e, (w) => w.compact(9).compact(9).compact(8).compact(10))).toEqual([
      { type: 'compact', revision: 9 },
      { type: 'error', revision: 9, code: 'ERR_COMPACTED' },
      { type: 'error', revision: 9, code: 'ERR_COMPACTED' },
      { type: 'error', revision: 9, code: 'ERR_FUTURE_REV' },
    ]);
    expect(e.compactRevision).toBe(9);
    expect(dump(e)).toEqual({ revision: 9, size: 2, kvs: STATES[9] });
  });

  it.each([2, 3, 4, 5, 6, 7, 8, 9])('after compact(%i): reads at and above it unchanged, below it ERR_COMPACTED', (c) => {
    const e = history(kind);
    run(e, (w) => w.compact(c));
    for (let rev = 1; rev <= 9; rev++) {
      if (rev < c) expect({ rev, code: catchSync(() => at(e, rev)).code }).toEqual({ rev, code: 'ERR_COMPACTED' });
      else expect({ rev, kvs: at(e, rev) }).toEqual({ rev, kvs: STATES[rev] });
    }
    // Revision 0 (latest) is always served, and ops of a batch get per-op errors.
    expect(at(e, 0)).toEqual(STATES[9]);
    if (c > 2) {
      expect(run(e, (w) => w.range('a', { revision: c - 1 }).range('a', { revision: c }))).toEqual([
        { type: 'error', revision: 9, code: 'ERR_COMPACTED' },
        { type: 'range', revision: 9, count: STATES[c]!.filter((x) => x.key === 'a').length, more: false, kvs: STATES[c]!.filter((x) => x.key === 'a') },
      ]);
    }
  });

  it('history kept per key: the newest version at or below the revision and everything after it', () => {
    const e = history(kind);
    run(e, (w) => w.compact(6));
    // a: put@2, put@4, del@5, put@7 → del@5 is the newest ≤ 6, a deletion below 6: it goes, put@7 stays.
    // b: put@3, del@8, put@9 → put@3 stays (newest ≤ 6) with everything after: it is del@8's prevKv.
    // c: put@6, del@8 → both stay.
    expect(e.changes(6, b('a'), Z, true).map(nevent)).toEqual([
      { type: 'put', kv: kv('c', '1', 6, 6, 1), subRevision: 0 },
      { type: 'put', kv: kv('a', '3', 7, 7, 1), subRevision: 0 },
      { type: 'delete', kv: tomb('b', 8), prevKv: kv('b', '1', 3, 3, 1), subRevision: 0 },
      { type: 'delete', kv: tomb('c', 8), prevKv: kv('c', '1', 6, 6, 1), subRevision: 1 },
      { type: 'put', kv: kv('b', '2', 9, 9, 1), subRevision: 0 },
    ]);
    expect(at(e, 6)).toEqual(STATES[6]);
  });

  it('a tombstone exactly at the compact revision is kept (a watch from there still sees the delete)', () => {
    const e = history(kind);
    run(e, (w) => w.compact(5));
    expect(e.changes(5, b('a'), b([]), false).map(nevent)).toEqual([
      { type: 'delete', kv: tomb('a', 5), subRevision: 0 },
      { type: 'put', kv: kv('a', '3', 7, 7, 1), subRevision: 0 },
    ]);
    // The next compaction past it drops it: a's history starts at the new generation.
    run(e, (w) => w.compact(6));
    expect(e.changes(6, b('a'), b([]), false).map((ev) => `${ev.type}@${ev.kv.modRevision}`)).toEqual(['put@7']);
  });

  it('a key whose last change below the revision is a deletion is gone from history, and can come back', () => {
    const e = fresh(kind);
    run(e, (w) => w.put('gone', '1').deleteRange('gone').put('other', '1')); // 2, 3, 4
    run(e, (w) => w.compact(4));
    expect(at(e, 4)).toEqual([kv('other', '1', 4, 4, 1)]);
    expect(e.changes(4, b('a'), Z, true).map(nevent)).toEqual([{ type: 'put', kv: kv('other', '1', 4, 4, 1), subRevision: 0 }]);
    // It comes back as a new generation, with no previous key-value.
    run(e, (w) => w.put('gone', '2'));
    expect(dump(e).kvs).toEqual([kv('gone', '2', 5, 5, 1), kv('other', '1', 4, 4, 1)]);
    expect(e.changes(4, b('gone'), b([]), true).map(nevent)).toEqual([{ type: 'put', kv: kv('gone', '2', 5, 5, 1), subRevision: 0 }]);
  });

  it('compaction between the ops of one batch; later puts keep building on the kept versions', () => {
    const e = fresh(kind);
    expect(
      run(e, (w) =>
        w
          .put('k', '1') // 2
          .put('k', '2') // 3
          .compact(3)
          .put('k', '3', { prevKv: true }) // 4
          .range('k', { revision: 2 })
          .range('k', { revision: 3 }),
      ),
    ).toEqual([
      { type: 'put', revision: 2 },
      { type: 'put', revision: 3 },
      { type: 'compact', revision: 3 },
      { type: 'put', revision: 4, prevKv: kv('k', '2', 2, 3, 2) },
      { type: 'error', revision: 4, code: 'ERR_COMPACTED' },
      { type: 'range', revision: 4, count: 1, more: false, kvs: [kv('k', '2', 2, 3, 2)] },
    ]);
    expect(dump(e).kvs).toEqual([kv('k', '3', 2, 4, 3)]);
  });

  it('repeated compactions over a long history keep exactly the retained window', () => {
    const e = fresh(kind);
    const w = new BatchWriter();
    for (let i = 0; i < 300; i++) w.put(`k${i % 7}`, `v${i}`);
    for (let i = 0; i < 7; i += 3) w.deleteRange(`k${i}`);
    e.applyBatch(w.peek()); // revisions 2..304
    const expectedAt = (rev: number) => at(e, rev);
    const snapshots = new Map([250, 251, 290, 300, 304].map((rev) => [rev, expectedAt(rev)]));
    for (const c of [50, 120, 200, 250]) run(e, (x) => x.compact(c));
    for (const [rev, kvs] of snapshots) expect({ rev, kvs: at(e, rev) }).toEqual({ rev, kvs });
    expect(catchSync(() => at(e, 249)).code).toBe('ERR_COMPACTED');
    // Replay from 250 on: every change at or after it (one per revision here), none of the older kept versions.
    expect(e.changes(250, b('k'), b('l'), false).map((ev) => ev.kv.modRevision)).toEqual(Array.from({ length: 304 - 250 + 1 }, (_, i) => 250 + i));
  });
});
