/**
 * Watches through the façade (docs/etcd-semantics.md §2.8; §5 items 10 and 15): key / prefix / range,
 * replay from a start revision, compacted starts, prevKv, filters, progress, cancel, and etcd's
 * guarantees — ordered, unique, atomic, reliable, resumable — including a slow consumer that
 * is cancelled with a reason and a resume revision instead of losing events.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FROM_KEY, prefixEnd, toBytes } from '../ts/codec/bytes.js';
import { op } from '../ts/facade/txn.js';
import type { WatchEvent } from '../ts/types.js';
import { WatchableStore } from '../ts/watch/watchable-store.js';
import type { Watcher, WatchCancel, WatchResponse } from '../ts/watch/watcher.js';
import { ENGINE_KINDS, storeFactory } from './engines.js';
import { catchAsync, show } from './helpers.js';

const openStore = storeFactory();

/** Lets every queued microtask and immediate run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** An event as `type key=value@rev.sub`, prev as `(prev value@mod)`. */
function ev(e: WatchEvent): string {
  const base = `${e.type} ${show(e.kv.key)}${e.type === 'put' ? `=${show(e.kv.value)}` : ''}@${e.kv.modRevision}`;
  return e.prevKv === undefined ? base : `${base} (prev ${show(e.prevKv.value)}@${e.prevKv.modRevision})`;
}

/** Collects a watcher's responses through 'data'. */
function collect(w: Watcher): { responses: WatchResponse[]; events: () => string[]; cancel: WatchCancel[] } {
  const responses: WatchResponse[] = [];
  const cancel: WatchCancel[] = [];
  w.on('data', (r: WatchResponse) => responses.push(r));
  w.on('cancel', (c: WatchCancel) => cancel.push(c));
  return { responses, cancel, events: () => responses.flatMap((r) => r.events.map(ev)) };
}

describe('WatchableStore matching (unit)', () => {
  const keyArb = fc.uint8Array({ minLength: 1, maxLength: 4, max: 3 });

  it('matches exactly the watchers whose key, prefix or range holds the key (vs a brute-force check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            keyArb.map((k) => ({ key: k, rangeEnd: new Uint8Array(0) })),
            keyArb.map((k) => ({ key: k, rangeEnd: prefixEnd(k) })),
            fc
              .tuple(keyArb, keyArb)
              .filter(([a, b]) => Buffer.compare(a, b) < 0)
              .map(([a, b]) => ({ key: a, rangeEnd: b })),
            keyArb.map((k) => ({ key: k, rangeEnd: FROM_KEY })),
            fc.constant({ key: FROM_KEY, rangeEnd: FROM_KEY }),
          ),
          { maxLength: 30 },
        ),
        fc.array(keyArb, { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (specs, keys, removals) => {
          const ws = new WatchableStore();
          const hits = new Map<number, string[]>();
          const watchers = specs.map((spec, i) => {
            const w = {
              key: spec.key,
              rangeEnd: spec.rangeEnd,
              prevKv: false,
              push: (e: WatchEvent) => hits.get(i)!.push(show(e.kv.key)),
            } as unknown as Watcher;
            hits.set(i, []);
            ws.add(w);
            return w;
          });
          const removed = new Set<number>();
          for (const r of removals) {
            if (specs.length === 0) break;
            const i = r % specs.length;
            ws.remove(watchers[i]!);
            removed.add(i);
          }
          const events = keys.map(
            (k) => ({ type: 'put', kv: { key: k, value: k, createRevision: 2, modRevision: 2, version: 1, lease: 0 }, subRevision: 0 }) as WatchEvent,
          );
          ws.notify(events);
          specs.forEach((spec, i) => {
            const holds = (k: Uint8Array) => {
              if (spec.rangeEnd.length === 0) return Buffer.compare(k, spec.key) === 0;
              const geStart = Buffer.compare(k, spec.key) >= 0;
              if (spec.rangeEnd.length === 1 && spec.rangeEnd[0] === 0) return geStart;
              return geStart && Buffer.compare(k, spec.rangeEnd) < 0;
            };
            const expected = removed.has(i) ? [] : keys.filter(holds).map(show);
            expect(hits.get(i)).toEqual(expected);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prefix-only watchers of short and long prefixes match bytes ≥ 0x80 exactly (vs a brute-force check)', () => {
    const ws = new WatchableStore();
    const hits: string[] = [];
    const prefixes = ['', 'a', '\xff\x80', 'abcdefghijk\xe9', 'abcdefghijk\xe9\x00', 'abcdefghijk\xe9\x00xyz\xff'];
    const bin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    for (const p of prefixes) {
      ws.add({
        key: p === '' ? FROM_KEY : bin(p),
        rangeEnd: p === '' ? FROM_KEY : prefixEnd(bin(p)),
        prevKv: false,
        push: (e: WatchEvent) => hits.push(`${JSON.stringify(p)} ${Buffer.from(e.kv.key).toString('latin1')}`),
      } as unknown as Watcher);
    }
    const keys = ['a', 'ab', '\xff\x80\x01', '\xff\x81', 'abcdefghijk\xe9', 'abcdefghijk\xe9\x00xyz\xff!', 'abcdefghijk\xea\x00'];
    ws.notify(
      keys.map(
        (k) =>
          ({
            type: 'put',
            kv: { key: bin(k), value: new Uint8Array(0), createRevision: 2, modRevision: 2, version: 1, lease: 0 },
            subRevision: 0,
          }) as WatchEvent,
      ),
    );
    const expected = keys.flatMap((k) => prefixes.filter((p) => k.startsWith(p)).map((p) => `${JSON.stringify(p)} ${k}`));
    expect(hits).toEqual(expected);
  });

  it('1,000 prefix watchers: an event reaches only its own watcher (no per-watcher test)', () => {
    const ws = new WatchableStore();
    let pushes = 0;
    const got: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const key = toBytes(`p${String(i).padStart(3, '0')}/`);
      ws.add({ key, rangeEnd: prefixEnd(key), prevKv: false, push: () => (pushes++, got.push(i)) } as unknown as Watcher);
    }
    const e = {
      type: 'put',
      kv: { key: toBytes('p123/x'), value: new Uint8Array(0), createRevision: 2, modRevision: 2, version: 1, lease: 0 },
      subRevision: 0,
    } as WatchEvent;
    ws.notify([e]);
    expect(got).toEqual([123]);
    expect(pushes).toBe(1);
  });
});

describe.each(ENGINE_KINDS)('watch (%s engine)', (kind) => {
  it("a key watch gets puts and deletes of that key only, asynchronously, with etcd's event shapes", async () => {
    const s = await openStore(kind);
    const w = s.watch({ key: 'a' });
    const c = collect(w);
    const puts: string[] = [];
    w.on('put', (kv) => puts.push(`${show(kv.key)}=${show(kv.value)} v${kv.version} c${kv.createRevision}`));
    await s.put('a', '1');
    await s.put('ab', 'x');
    void s.put('a', '2'); // not awaited: delivery is still asynchronous
    expect(c.events()).toEqual(['put a=1@2']);
    await s.delete('a');
    await tick();
    expect(c.events()).toEqual(['put a=1@2', 'put a=2@4', 'delete a@5']);
    expect(puts).toEqual(['a=1 v1 c2', 'a=2 v2 c2']);
    const del = c.responses.flatMap((r) => r.events).at(-1)!;
    expect(del.kv).toMatchObject({ createRevision: 0, version: 0, lease: 0, modRevision: 5 });
    expect(del.kv.value.length).toBe(0);
    expect(w.resumeRevision).toBe(6);
  });

  it('prefix, range and fromKey watches', async () => {
    const s = await openStore(kind);
    const p = collect(s.watch({ prefix: 'p/' }));
    const r = collect(s.watch({ start: 'b', end: 'd' }));
    const f = collect(s.watch({ fromKey: 'x' }));
    const all = collect(s.watch({ prefix: '' }));
    for (const k of ['a', 'b', 'c', 'd', 'p/1', 'p0', 'x', 'zz']) await s.put(k, '1');
    await tick();
    expect(p.events()).toEqual(['put p/1=1@6']);
    expect(r.events()).toEqual(['put b=1@3', 'put c=1@4']);
    expect(f.events()).toEqual(['put x=1@8', 'put zz=1@9']);
    expect(all.events()).toHaveLength(8);
  });

  it("a txn's events arrive together in one response, in op order (atomic)", async () => {
    const s = await openStore(kind);
    await s.put('k/z', '0');
    const c = collect(s.watch({ prefix: 'k/' }));
    await s.txn().then(op.put('k/b', '1'), op.put('k/a', '2'), op.delete('k/z'), op.put('other', 'x')).commit();
    await tick();
    expect(c.responses).toHaveLength(1);
    expect(c.events()).toEqual(['put k/b=1@3', 'put k/a=2@3', 'delete k/z@3']);
    expect(c.responses[0]!.events.map((e) => e.subRevision)).toEqual([0, 1, 2]);
  });

  it('ordered, unique, reliable: many writes, interleaved awaits, flattened stream = history', async () => {
    const s = await openStore(kind);
    const c = collect(s.watch({ prefix: '' }));
    // Writes are applied in the order they are made, so the outcomes in call order are the history.
    const outcomes: Array<Promise<string | undefined>> = [];
    for (let i = 0; i < 300; i++) {
      const key = `k${i % 7}`;
      if (i % 5 === 4) {
        const r = await s.delete(key);
        if (r.deleted > 0) expect(r.revision).toBe(s.revision);
        outcomes.push(Promise.resolve(r.deleted > 0 ? `delete ${key}@${r.revision}` : undefined));
      } else {
        const p = s.put(key, String(i)).then((r) => `put ${key}=${i}@${r.revision}`); // some not awaited: several in one entry
        outcomes.push(p);
        if (i % 3 === 0) await p;
      }
    }
    const expected = (await Promise.all(outcomes)).filter((e) => e !== undefined);
    const revisions = expected.map((e) => Number(e.split('@')[1]));
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    await tick();
    expect(c.events()).toEqual(expected);
    // No revision split across responses.
    const seen = new Set<number>();
    for (const r of c.responses) {
      const revs = [...new Set(r.events.map((e) => e.kv.modRevision))];
      for (const rev of revs) expect(seen.has(rev)).toBe(false), seen.add(rev);
    }
  });

  it('startRevision replays history inclusively, then continues live; a future start waits', async () => {
    const s = await openStore(kind);
    await s.put('a', '1'); // 2
    await s.put('a', '2'); // 3
    await s.delete('a'); // 4
    await s.put('a', '3'); // 5
    const c = collect(s.watch({ key: 'a', startRevision: 3 }));
    const future = collect(s.watch({ key: 'a', startRevision: 7 }));
    await s.put('a', '4'); // 6
    await s.put('a', '5'); // 7
    await tick();
    expect(c.events()).toEqual(['put a=2@3', 'delete a@4', 'put a=3@5', 'put a=4@6', 'put a=5@7']);
    expect(future.events()).toEqual(['put a=5@7']);
  });

  it('resumable: cancel, then a new watch from last revision + 1 continues without gaps or repeats', async () => {
    const s = await openStore(kind);
    const first = s.watch({ prefix: '' });
    const c1 = collect(first);
    for (let i = 0; i < 5; i++) await s.put(`k${i}`, 'v');
    await tick();
    first.cancel();
    expect(c1.cancel).toEqual([{ reason: 'cancelled', message: 'watch cancelled', resumeRevision: 7 }]);
    for (let i = 5; i < 9; i++) await s.put(`k${i}`, 'v');
    const last = c1.responses.at(-1)!.events.at(-1)!.kv.modRevision;
    const c2 = collect(s.watch({ prefix: '', startRevision: last + 1 }));
    await tick();
    const revs = [...c1.responses, ...c2.responses].flatMap((r) => r.events.map((e) => e.kv.modRevision));
    expect(revs).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.active).toBe(false);
  });

  it('a start below the compacted revision cancels with the compact revision; at it is valid', async () => {
    const s = await openStore(kind);
    for (let i = 0; i < 5; i++) await s.put('k', String(i)); // 2..6
    await s.delete('k'); // 7
    await s.put('k', 'again'); // 8
    await s.compact(7);
    const w = s.watch({ key: 'k', startRevision: 5 });
    const c = collect(w);
    const errors: unknown[] = [];
    w.on('error', (e) => errors.push(e));
    await tick();
    expect(c.events()).toEqual([]);
    expect(c.cancel).toHaveLength(1);
    expect(c.cancel[0]).toMatchObject({ reason: 'compacted', compactRevision: 7 });
    expect(errors).toHaveLength(1);
    expect((errors[0] as { code: string }).code).toBe('ERR_COMPACTED');
    // The iterator reports it too.
    const e = await catchAsync(async () => {
      for await (const _ of s.watch({ key: 'k', startRevision: 1 })) void _;
    });
    expect(e.code).toBe('ERR_COMPACTED');
    // From the compacted revision: the tombstone at it is kept (etcd #18089 fixed).
    const at = collect(s.watch({ key: 'k', startRevision: 7 }));
    await tick();
    expect(at.events()).toEqual(['delete k@7', 'put k=again@8']);
  });

  it('prevKv: puts and deletes carry the previous key-value, creates none; others get none', async () => {
    const s = await openStore(kind);
    const withPrev = collect(s.watch({ key: 'a', prevKv: true }));
    const without = collect(s.watch({ key: 'a' }));
    await s.put('a', '1');
    await s.put('a', '2');
    await s.delete('a');
    await tick();
    expect(withPrev.events()).toEqual(['put a=1@2', 'put a=2@3 (prev 1@2)', 'delete a@4 (prev 2@3)']);
    expect(without.events()).toEqual(['put a=1@2', 'put a=2@3', 'delete a@4']);
    // Replay gives prevKv too.
    const replay = collect(s.watch({ key: 'a', prevKv: true, startRevision: 3 }));
    await tick();
    expect(replay.events()).toEqual(['put a=2@3 (prev 1@2)', 'delete a@4 (prev 2@3)']);
  });

  it('filters noPut / noDelete drop events; an all-filtered revision sends nothing', async () => {
    const s = await openStore(kind);
    const noPut = collect(s.watch({ prefix: '', filters: ['noPut'] }));
    const noDelete = collect(s.watch({ prefix: '', filters: ['noDelete'] }));
    await s.put('a', '1');
    await s.put('b', '1');
    await s.delete('a');
    await tick();
    expect(noPut.events()).toEqual(['delete a@4']);
    expect(noPut.responses).toHaveLength(1);
    expect(noDelete.events()).toEqual(['put a=1@2', 'put b=1@3']);
  });

  it('progress: requestProgress reports the current revision once queued events are out', async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: 'x/' });
    const log: string[] = [];
    w.on('data', (r: WatchResponse) => log.push(`data ${r.events.map(ev).join(',')}`));
    w.on('progress', (rev: number) => log.push(`progress ${rev}`));
    await s.put('x/1', 'v');
    await s.put('other', 'v');
    w.requestProgress();
    await tick();
    expect(log).toEqual(['data put x/1=v@2', 'progress 3']);
    // A watcher waiting for a future start revision is not synced: no progress.
    const future = s.watch({ key: 'x/1', startRevision: 100 });
    const got: number[] = [];
    future.on('progress', (rev: number) => got.push(rev));
    future.requestProgress();
    await tick();
    expect(got).toEqual([]);
  });

  it('async iteration yields whole-revision responses; break cancels the watcher', async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: '' });
    const writer = (async () => {
      await s.put('a', '1');
      await s.txn().then(op.put('b', '1'), op.put('c', '1')).commit();
      await s.put('d', '1');
    })();
    writer.catch(() => w.cancel()); // a failing write must not leave the loop waiting
    const got: string[][] = [];
    for await (const r of w) {
      got.push(r.events.map(ev));
      if (got.flat().length === 4) break;
    }
    await writer;
    expect(got.flat()).toEqual(['put a=1@2', 'put b=1@3', 'put c=1@3', 'put d=1@4']);
    for (const batch of got) expect(new Set(batch.map((e) => e.split('@')[1])).size).toBe(1);
    expect(w.active).toBe(false);
    expect(w.cancelled?.reason).toBe('cancelled');
  });

  it("per-event listeners get what 'data' gets, event by event; a cancel inside one drops the rest of its response", async () => {
    const s = await openStore(kind);
    const withData = s.watch({ prefix: 'k' });
    const responses: string[][] = [];
    withData.on('data', (r: WatchResponse) => responses.push(r.events.map(ev)));
    const seen: string[] = [];
    const perEvent = s.watch({ prefix: 'k' });
    perEvent.on('put', (kv) => seen.push(`put ${show(kv.key)}@${kv.modRevision}`));
    perEvent.on('delete', (kv) => seen.push(`delete ${show(kv.key)}@${kv.modRevision}`));
    const cancelling = s.watch({ prefix: 'k' });
    const first: string[] = [];
    cancelling.on('put', (kv) => {
      first.push(`${show(kv.key)}@${kv.modRevision}`);
      cancelling.cancel();
    });
    // Three revisions applied together: one response each watcher.
    await Promise.all([s.put('k1', 'a'), s.put('k2', 'b'), s.delete('k1')]);
    await s.put('k3', 'c');
    await tick();
    expect(responses).toEqual([['put k1=a@2', 'put k2=b@3', 'delete k1@4'], ['put k3=c@5']]);
    expect(seen).toEqual(['put k1@2', 'put k2@3', 'delete k1@4', 'put k3@5']);
    expect(perEvent.resumeRevision).toBe(6);
    // The response it was in counts as taken: resume after it, as with a 'data' listener.
    expect(first).toEqual(['k1@2']);
    expect(cancelling.cancelled).toMatchObject({ reason: 'cancelled', resumeRevision: 5 });
  });

  it('leaving a loop early: the resume revision is after what the loop took, not what was buffered', async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: '' });
    const it = w[Symbol.asyncIterator]();
    await s.put('a', '1'); // 2
    await s.put('b', '1'); // 3
    await s.put('c', '1'); // 4
    await tick();
    expect(w.queued).toBe(3);
    const first = await it.next();
    expect(first.done === false && first.value.events.map(ev)).toEqual(['put a=1@2']);
    await it.return!();
    expect(w.cancelled).toMatchObject({ reason: 'cancelled', resumeRevision: 3 });
    expect(w.resumeRevision).toBe(3);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('a slow consumer is cancelled with a reason and a resume revision, never silently dropped', async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: '', maxQueuedEvents: 5 });
    const it = w[Symbol.asyncIterator]();
    const cancels: WatchCancel[] = [];
    w.on('cancel', (c: WatchCancel) => cancels.push(c));
    // Apply never waits for the consumer: 12 writes go through while nobody reads.
    for (let i = 0; i < 4; i++) await s.put(`a${i}`, 'v'); // revs 2..5
    await s.txn().then(op.put('t1', 'v'), op.put('t2', 'v'), op.put('t3', 'v')).commit(); // rev 6: does not fit
    for (let i = 0; i < 6; i++) await s.put(`b${i}`, 'v'); // 7..12: dropped with the watcher
    expect(s.revision).toBe(12);
    await tick();
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({ reason: 'overflow', resumeRevision: 6 });
    expect(cancels[0]!.error?.code).toBe('ERR_WATCH_OVERFLOW');
    expect(cancels[0]!.message).toMatch(/resume from revision 6/);
    // What was queued still comes out, then the error.
    const delivered: string[] = [];
    const e = await catchAsync(async () => {
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        delivered.push(...n.value.events.map(ev));
      }
    });
    expect(e.code).toBe('ERR_WATCH_OVERFLOW');
    expect(delivered).toEqual(['put a0=v@2', 'put a1=v@3', 'put a2=v@4', 'put a3=v@5']);
    // Resuming from the reported revision loses nothing; the txn's events come together.
    const again = collect(s.watch({ prefix: '', startRevision: cancels[0]!.resumeRevision }));
    await tick();
    expect(again.events().map((x) => x.split('@')[1])).toEqual(['6', '6', '6', '7', '8', '9', '10', '11', '12']);
  });

  it('a watcher nobody consumes holds events (bounded) and delivers them to the first listener', async () => {
    const s = await openStore(kind);
    const w = s.watch({ key: 'a' });
    await s.put('a', '1');
    await tick();
    expect(w.queued).toBe(1);
    const c = collect(w);
    await tick();
    expect(c.events()).toEqual(['put a=1@2']);
    expect(w.queued).toBe(0);
  });

  it('cancel stops delivery at once; close ends every watcher with reason closed', async () => {
    const s = await openStore(kind);
    const w1 = s.watch({ key: 'a' });
    const c1 = collect(w1);
    void s.put('a', '1'); // applied, its event queued, not yet delivered
    w1.cancel(); // drops it
    await s.put('a', '2');
    await tick();
    expect(c1.events()).toEqual([]);
    expect(c1.cancel.map((x) => x.reason)).toEqual(['cancelled']);
    const c2 = collect(s.watch({ key: 'a' }));
    await s.put('a', '3');
    await s.close();
    await tick();
    expect(c2.events()).toEqual(['put a=3@4']);
    expect(c2.cancel.map((x) => x.reason)).toEqual(['closed']);
    expect((await catchAsync(() => s.watch({ key: 'a' }))).code).toBe('ERR_CLOSED');
  });

  it('bad watch options are refused with typed errors', async () => {
    const s = await openStore(kind);
    expect((await catchAsync(() => s.watch({ start: 'b', end: 'a' }))).code).toBe('ERR_INVALID_RANGE');
    expect((await catchAsync(() => s.watch({ key: 'a', startRevision: -1 }))).code).toBe('ERR_INVALID_OPTION');
    expect((await catchAsync(() => s.watch({ key: 'a', filters: ['nope' as never] }))).code).toBe('ERR_INVALID_OPTION');
    expect((await catchAsync(() => s.watch({ key: 'a', maxQueuedEvents: 0 }))).code).toBe('ERR_INVALID_OPTION');
    expect((await catchAsync(() => s.watch({} as never))).code).toBe('ERR_INVALID_OPTION');
  });

  it('a listener that writes sees its own write as a later response; delivered arrays never change', async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: '' });
    const c = collect(w);
    const snapshots: string[][] = [];
    w.on('data', (r: WatchResponse) => {
      snapshots.push(r.events.map(ev));
      if (r.events.some((e) => show(e.kv.key) === 'a')) void s.put('echo', 'x');
    });
    await s.put('a', '1');
    await tick();
    expect(c.events()).toEqual(['put a=1@2', 'put echo=x@3']);
    expect(c.responses.map((r) => r.events.map(ev))).toEqual(snapshots);
  });

  it('one apply: watchers deliver in the order their first event matched, before any microtask their listeners queue', async () => {
    const s = await openStore(kind);
    const log: string[] = [];
    const named = { k: s.watch({ key: 'b1' }), all: s.watch({ prefix: '' }), b: s.watch({ prefix: 'b' }), a: s.watch({ prefix: 'a' }) };
    for (const [name, w] of Object.entries(named)) {
      w.on('put', (kv) => {
        log.push(`${name} ${show(kv.key)}`);
        queueMicrotask(() => log.push(`${name} later`));
      });
    }
    await s.txn().then(op.put('b1', 'x'), op.put('a1', 'x')).commit();
    await tick();
    // b1 matches the key watch, then prefixes by length ('' before 'b'); a1 brings 'a' last.
    expect(log.filter((l) => !l.endsWith('later'))).toEqual(['k b1', 'all b1', 'all a1', 'b b1', 'a a1']);
    expect(log.slice(5)).toEqual(['k later', 'all later', 'all later', 'b later', 'a later']);
  });

  it('a listener that cancels a watcher due later in the same apply: it delivers nothing, then cancels', async () => {
    const s = await openStore(kind);
    const first = s.watch({ prefix: 'x' });
    const second = s.watch({ key: 'y' });
    const log: string[] = [];
    first.on('put', (kv) => {
      log.push(`first ${show(kv.key)}`);
      second.cancel();
      first.cancel(); // its own remaining events of the response are not emitted either
    });
    first.on('cancel', (c: WatchCancel) => log.push(`first cancel ${c.reason} ${c.resumeRevision}`));
    second.on('put', () => log.push('second'));
    second.on('cancel', (c: WatchCancel) => log.push(`second cancel ${c.reason} ${c.resumeRevision}`));
    await s.txn().then(op.put('x1', '1'), op.put('y', '1'), op.put('x2', '1')).commit();
    await tick();
    expect(log).toEqual(['first x1', 'second cancel cancelled 2', 'first cancel cancelled 3']);
  });

  it("progress asked by another watcher's listener: an idle watcher answers after what the listener queued, a due one in its turn", async () => {
    const s = await openStore(kind);
    const asker = s.watch({ key: 'x' });
    const idle = s.watch({ key: 'z' });
    const due = s.watch({ key: 'y' });
    const log: string[] = [];
    asker.on('put', () => {
      queueMicrotask(() => log.push('queued by listener'));
      idle.requestProgress();
      due.requestProgress();
      log.push('asked');
    });
    idle.on('progress', (rev: number) => log.push(`idle progress ${rev}`));
    due.on('put', (kv) => log.push(`due ${show(kv.key)}`));
    due.on('progress', (rev: number) => log.push(`due progress ${rev}`));
    await s.txn().then(op.put('x', '1'), op.put('y', '1')).commit();
    await tick();
    expect(log).toEqual(['asked', 'due y', 'due progress 2', 'queued by listener', 'idle progress 2']);
  });

  it('overflow in a batch: the watcher cancels in its turn, the others still get the whole revision', async () => {
    const s = await openStore(kind);
    const small = s.watch({ prefix: 'k', maxQueuedEvents: 2 });
    const big = s.watch({ prefix: 'k' });
    const log: string[] = [];
    for (const [name, w] of [
      ['small', small],
      ['big', big],
    ] as const) {
      w.on('data', (r: WatchResponse) => log.push(`${name} ${r.events.map(ev).join(',')}`));
      w.on('cancel', (c: WatchCancel) => log.push(`${name} cancel ${c.reason} ${c.resumeRevision}`));
    }
    await s.put('k0', '1'); // 2
    await s.txn().then(op.put('k1', '1'), op.put('k2', '1'), op.put('k3', '1')).commit(); // 3: does not fit small
    await tick();
    expect(log).toEqual(['small put k0=1@2', 'big put k0=1@2', 'small cancel overflow 3', 'big put k1=1@3,put k2=1@3,put k3=1@3']);
  });

  it("a response's revision is the store revision when it is formed (also progress, no-op writes, and after close)", async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: '' });
    const seen: string[] = [];
    w.on('data', (r: WatchResponse) => seen.push(`data ${r.revision}/${s.revision} last ${r.events.at(-1)!.kv.modRevision}`));
    w.on('progress', (rev: number) => seen.push(`progress ${rev}/${s.revision}`));
    await s.put('a', '1'); // 2
    await Promise.all([s.put('b', '1'), s.put('c', '1'), s.put('d', '1')]); // 3..5, possibly in one entry
    await s.delete('nothing'); // no new revision
    await s.compact(3);
    w.requestProgress();
    await tick();
    expect(seen[0]).toBe('data 2/2 last 2');
    expect(seen.at(-1)).toBe('progress 5/5');
    for (const line of seen) expect(line.split(' ')[1]!.split('/')[0]).toBe(line.split(' ')[1]!.split('/')[1]);
    // Queued events that get a consumer while the store closes go out at the final revision.
    const late = s.watch({ key: 'z' });
    await s.put('z', '1'); // 6
    await s.put('other', '1'); // 7
    const got: string[] = [];
    w.on('cancel', () => late.on('data', (r: WatchResponse) => got.push(`${r.revision} ${r.events.map(ev).join(',')}`)));
    late.on('cancel', (c: WatchCancel) => got.push(`cancel ${c.reason} ${c.resumeRevision}`));
    await s.close();
    await tick();
    expect(got).toEqual(['7 put z=1@6', 'cancel closed 7']);
  });

  it('watch ids count from 0 per store', async () => {
    const s = await openStore(kind);
    expect([s.watch({ key: 'a' }).id, s.watch({ key: 'b' }).id, s.watch({ prefix: 'c' }).id]).toEqual([0, 1, 2]);
  });
});
