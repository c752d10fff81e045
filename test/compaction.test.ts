/**
 * MVCC history and compaction through the façade (docs/etcd-semantics.md §2.7; §5 items 4 and 8):
 * reads at past revisions, compact rules and errors, the tombstone kept at the compact revision,
 * and auto-compaction in both of etcd's retention modes (driven outside apply, fake clock).
 */

import { describe, expect, it } from 'vitest';
import { resolveOpenOptions } from '../ts/facade/open-options.js';
import type { LeaseClock } from '../ts/lease/lessor.js';
import { op } from '../ts/facade/txn.js';
import { ENGINE_KINDS, storeFactory } from './engines.js';
import { catchAsync, catchSync, kv, nkv } from './helpers.js';

class FakeClock implements LeaseClock {
  t = 0;
  now(): number {
    return this.t;
  }
}

const openStore = storeFactory();

describe('autoCompaction option', () => {
  it("accepts etcd's two modes and refuses anything else", () => {
    const resolved = (autoCompaction: unknown) => resolveOpenOptions({ autoCompaction }).autoCompaction;
    expect(resolved(undefined)).toBeUndefined();
    expect(resolved({ mode: 'revision', retention: 10 })).toEqual({ mode: 'revision', retention: 10 });
    expect(resolved({ mode: 'periodic', periodMs: 1000 })).toEqual({ mode: 'periodic', periodMs: 1000 });
    for (const bad of [
      null,
      {},
      { mode: 'revision', retention: 0 },
      { mode: 'revision', retention: 1.5 },
      { mode: 'periodic', periodMs: -1 },
      { mode: 'hourly' },
    ]) {
      expect(catchSync(() => resolved(bad)).code).toBe('ERR_INVALID_OPTION');
    }
  });
});

describe.each(ENGINE_KINDS)('history and compaction (%s engine)', (kind) => {
  it('range({ revision }) reads the past, with count and filters as of then', async () => {
    const s = await openStore(kind);
    await s.put('a', '1'); // 2
    await s.put('b', '1'); // 3
    await s.put('a', '2'); // 4
    await s.delete('b'); // 5
    expect(s.range({ prefix: '', revision: 3 }).kvs.map(nkv)).toEqual([kv('a', '1', 2, 2, 1), kv('b', '1', 3, 3, 1)]);
    expect(s.range({ prefix: '', revision: 3 }).revision).toBe(5);
    expect(s.range({ prefix: '', revision: 4, countOnly: true }).count).toBe(2);
    expect(s.range({ prefix: '', revision: 5 }).kvs.map(nkv)).toEqual([kv('a', '2', 2, 4, 2)]);
    expect(s.range({ key: 'a', revision: 1 }).kvs).toEqual([]);
    expect(() => s.range({ key: 'a', revision: 6 })).toThrow(expect.objectContaining({ code: 'ERR_FUTURE_REV' }));
  });

  it('compact: history below is gone (ERR_COMPACTED), at and above stays; the revision does not move', async () => {
    const s = await openStore(kind);
    await s.put('a', '1'); // 2
    await s.put('a', '2'); // 3
    await s.put('a', '3'); // 4
    expect(s.compactRevision).toBe(-1);
    expect(await s.compact(3)).toEqual({ revision: 4 });
    expect(s.revision).toBe(4);
    expect(s.compactRevision).toBe(3);
    expect(catchSync(() => s.range({ key: 'a', revision: 2 })).code).toBe('ERR_COMPACTED');
    expect(s.range({ key: 'a', revision: 3 }).kvs.map(nkv)).toEqual([kv('a', '2', 2, 3, 2)]);
    expect(s.range({ key: 'a', revision: 4 }).kvs.map(nkv)).toEqual([kv('a', '3', 2, 4, 3)]);
    expect(catchSync(() => s.range({ key: 'a', revision: 5 })).code).toBe('ERR_FUTURE_REV');
  });

  it('compact twice at one revision → ERR_COMPACTED; below → ERR_COMPACTED; future → ERR_FUTURE_REV', async () => {
    const s = await openStore(kind);
    await s.put('a', '1');
    await s.put('a', '2');
    await s.compact(2);
    expect((await catchAsync(() => s.compact(2))).code).toBe('ERR_COMPACTED');
    expect((await catchAsync(() => s.compact(1))).code).toBe('ERR_COMPACTED');
    expect((await catchAsync(() => s.compact(4))).code).toBe('ERR_FUTURE_REV');
    expect(await s.compact(3, { physical: true })).toEqual({ revision: 3 });
    expect((await catchAsync(() => s.compact(1.5))).code).toBe('ERR_INVALID_OPTION');
  });

  it('a fresh store compacts at 0 and then at 1, once each', async () => {
    const s = await openStore(kind);
    expect(await s.compact(0)).toEqual({ revision: 1 });
    expect(await s.compact(1)).toEqual({ revision: 1 });
    expect((await catchAsync(() => s.compact(1))).code).toBe('ERR_COMPACTED');
  });

  it('a deletion exactly at the compact revision is kept for watches from it; older ones go', async () => {
    const s = await openStore(kind);
    await s.put('k', 'v2'); // 2
    await s.put('k', 'v3'); // 3
    await s.delete('k'); // 4
    await s.put('k', 'v6'); // 5
    await s.put('gone', 'x'); // 6
    await s.delete('gone'); // 7
    await s.put('z', 'x'); // 8
    await s.compact(4);
    const seen: string[] = [];
    s.watch({ prefix: '', startRevision: 4 }).on('data', (r) => seen.push(...r.events.map((e) => `${e.type}@${e.kv.modRevision}`)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['delete@4', 'put@5', 'put@6', 'delete@7', 'put@8']);
    await s.compact(8);
    expect(s.range({ prefix: '', revision: 8 }).kvs.map((x) => x.modRevision)).toEqual([5, 8]);
  });

  it('txn revisions are history too', async () => {
    const s = await openStore(kind);
    await s.txn().then(op.put('a', '1'), op.put('b', '1')).commit(); // 2
    await s.txn().then(op.delete('a'), op.put('b', '2')).commit(); // 3
    expect(s.range({ prefix: '', revision: 2 }).kvs.map(nkv)).toEqual([kv('a', '1', 2, 2, 1), kv('b', '1', 2, 2, 1)]);
    expect(s.range({ prefix: '', revision: 3 }).kvs.map(nkv)).toEqual([kv('b', '2', 2, 3, 2)]);
  });

  it('auto-compaction by revision keeps the last N revisions under steady writes', async () => {
    const s = await openStore(kind, { autoCompaction: { mode: 'revision', retention: 20 } });
    for (let i = 0; i < 500; i++) {
      await s.put(`k${i % 10}`, String(i));
      const lag = s.revision - s.compactRevision;
      expect(lag).toBeLessThanOrEqual(20 + 10); // retention + a step of max(⌈20/10⌉, 10 keys)
    }
    expect(s.compactRevision).toBeGreaterThanOrEqual(s.revision - 30);
    expect(s.range({ prefix: '', revision: s.revision - 20 }).count).toBe(10);
    expect(catchSync(() => s.range({ prefix: '', revision: s.revision - 30 })).code).toBe('ERR_COMPACTED');
    // The check itself, called directly, compacts exactly to revision − retention.
    expect(await s.checkAutoCompaction()).toBe(s.revision - 20);
    expect(s.compactRevision).toBe(s.revision - 20);
    expect(await s.checkAutoCompaction()).toBeUndefined();
  });

  it('periodic auto-compaction keeps the history of the last period (fake clock)', async () => {
    const clock = new FakeClock();
    const s = await openStore(kind, { clock, autoCompaction: { mode: 'periodic', periodMs: 10_000 } });
    const revAt: number[] = [];
    for (let second = 0; second <= 30; second++) {
      clock.t = second * 1000;
      revAt[second] = s.revision;
      await s.checkAutoCompaction();
      await s.put('k', String(second));
    }
    // At t = 30 s the newest sample at least 10 s old is the one of t = 20 s.
    expect(s.compactRevision).toBe(revAt[20]);
    expect(s.range({ key: 'k', revision: revAt[20]! }).count).toBe(1);
    expect(catchSync(() => s.range({ key: 'k', revision: revAt[20]! - 1 })).code).toBe('ERR_COMPACTED');
  });

  it('without autoCompaction nothing is compacted', async () => {
    const s = await openStore(kind);
    for (let i = 0; i < 50; i++) await s.put('k', String(i));
    expect(s.compactRevision).toBe(-1);
    expect(await s.checkAutoCompaction()).toBeUndefined();
    expect(s.range({ key: 'k', revision: 2 }).kvs[0]!.version).toBe(1);
  });
});
