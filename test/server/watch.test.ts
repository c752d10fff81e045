/**
 * The Watch stream through the wire: several watches per stream, created / canceled responses
 * and etcd's refusals, history replay from a start revision, prev_kv, filters, a transaction's
 * events together, compaction cancels, progress requests (watch_id −1 once synced) and
 * progress_notify, fragments, and a slow client caught up from history with no gap.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, RawClient, Responses, startServer, type Served } from './helpers.js';

let s: Served;
let c: RawClient;

beforeAll(async () => {
  s = await startServer({ serve: { watchProgressNotifyIntervalMs: 200 } });
  c = new RawClient(s.endpoint);
});
afterAll(async () => {
  c.close();
  await s.close();
});

const open = (): Responses => new Responses(c.stream('Watch', 'Watch'));
const put = (k: string, v: string) => c.call('KV', 'Put', { key: b(k), value: b(v) });
const flat = (rs: any[]) =>
  rs.flatMap((r) =>
    r.events.map((e: any) => ({
      type: e.type,
      key: e.kv.key.toString('latin1'),
      value: e.kv.value.toString(),
      mod: Number(e.kv.mod_revision),
      prev: e.prev_kv ? e.prev_kv.value.toString() : null,
    })),
  );

describe('create, cancel, refusals', () => {
  it('ids 0, 1, 2 per stream; a chosen id; the created header is the current revision', async () => {
    const w = open();
    try {
      for (let i = 0; i < 3; i++) w.call.write({ create_request: { key: b(`id/${i}`) } });
      w.call.write({ create_request: { key: b('id/x'), watch_id: 100 } });
      const created = await w.until((r) => r.watch_id === '100');
      expect(created.map((r) => [r.watch_id, r.created, r.canceled])).toEqual([
        ['0', true, false],
        ['1', true, false],
        ['2', true, false],
        ['100', true, false],
      ]);
      expect(Number(created[0].header.revision)).toBe(s.store.revision);
      expect(created[0].header.member_id).toBe(s.server.member.memberId);
    } finally {
      w.call.cancel();
    }
  });

  it("refusals come as created + canceled, watch_id -1, etcd's reasons", async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b('r/a'), watch_id: 5 } });
      w.call.write({ create_request: { key: b('r/b'), watch_id: 5 } });
      w.call.write({ create_request: { key: b('r/z'), range_end: b('r/a') } });
      w.call.write({ create_request: { key: b('r/a'), start_revision: -1 } });
      const rs = await w.until((r) => r.cancel_reason.includes('compacted'));
      expect(rs.map((r) => [r.watch_id, r.created, r.canceled, r.cancel_reason])).toEqual([
        ['5', true, false, ''],
        ['-1', true, true, 'mvcc: duplicate watch ID provided on the WatchStream'],
        ['-1', true, true, 'mvcc: watcher range is empty'],
        ['-1', true, true, 'etcdserver: mvcc: required revision has been compacted'],
      ]);
    } finally {
      w.call.cancel();
    }
  });

  it('cancel answers canceled; an unknown id gets nothing; a cancelled id can be used again', async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b('c/a'), watch_id: 7 } });
      await w.until((r) => r.created);
      w.call.write({ cancel_request: { watch_id: 7 } });
      w.call.write({ cancel_request: { watch_id: 12345 } });
      const [r] = await w.until((r) => r.canceled);
      expect([r.watch_id, r.canceled, r.created]).toEqual(['7', true, false]);
      expect(await w.drain(150)).toEqual([]);
      await put('c/a', 'after-cancel');
      expect(await w.drain(150)).toEqual([]);
      w.call.write({ create_request: { key: b('c/a'), watch_id: 7 } });
      expect((await w.next())?.created).toBe(true);
    } finally {
      w.call.cancel();
    }
  });
});

describe('events', () => {
  it('replay from a start revision (itself included), then live; several watches on one stream', async () => {
    const r1 = await put('ev/a', '1');
    await put('ev/b', '2');
    const start = Number(r1.header.revision);
    const w = open();
    try {
      w.call.write({ create_request: { key: b('ev/'), range_end: b('ev0'), start_revision: start, watch_id: 1 } });
      w.call.write({ create_request: { key: b('ev/b'), watch_id: 2 } });
      const got: any[] = await w.until((r) => r.watch_id === '2' && r.created);
      await put('ev/b', '3');
      while (flat(got.filter((r) => r.watch_id === '1')).length < 3 || flat(got.filter((r) => r.watch_id === '2')).length < 1) {
        const r = await w.next();
        if (!r) throw new Error(`missing events: ${JSON.stringify(flat(got))}`);
        got.push(r);
      }
      expect(flat(got.filter((r) => r.watch_id === '1')).map((e) => [e.key, e.value, e.mod])).toEqual([
        ['ev/a', '1', start],
        ['ev/b', '2', start + 1],
        ['ev/b', '3', start + 2],
      ]);
      expect(flat(got.filter((r) => r.watch_id === '2')).map((e) => e.value)).toEqual(['3']);
    } finally {
      w.call.cancel();
    }
  });

  it('prev_kv on updates and deletes (none on creates); filters NOPUT / NODELETE', async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b('pk/a'), prev_kv: true, watch_id: 1 } });
      w.call.write({ create_request: { key: b('pk/a'), filters: [0], watch_id: 2 } });
      w.call.write({ create_request: { key: b('pk/a'), filters: [1], watch_id: 3 } });
      await w.until((r) => r.watch_id === '3');
      await put('pk/a', 'v1');
      await put('pk/a', 'v2');
      await c.call('KV', 'DeleteRange', { key: b('pk/a') });
      const rs = await w.drain(300);
      const of = (id: string) => flat(rs.filter((r) => r.watch_id === id));
      expect(of('1').map((e) => [e.type, e.value, e.prev])).toEqual([
        [0, 'v1', null],
        [0, 'v2', 'v1'],
        [1, '', 'v2'],
      ]);
      expect(of('2').map((e) => e.type)).toEqual([1]);
      expect(of('3').map((e) => e.value)).toEqual(['v1', 'v2']);
      expect(rs.every((r) => r.events.length > 0)).toBe(true); // filtered revisions send nothing
    } finally {
      w.call.cancel();
    }
  });

  it("a transaction's events arrive in one response at one revision", async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b('tx/'), range_end: b('tx0') } });
      await w.until((r) => r.created);
      await c.call('KV', 'Txn', { success: ['a', 'b', 'c'].map((k) => ({ request_put: { key: b(`tx/${k}`), value: b(k) } })) });
      const [r] = await w.until((r) => r.events.length > 0);
      expect(r.events.map((e: any) => e.kv.key.toString())).toEqual(['tx/a', 'tx/b', 'tx/c']);
      expect(new Set(r.events.map((e: any) => e.kv.mod_revision)).size).toBe(1);
    } finally {
      w.call.cancel();
    }
  });

  it('the empty key watches from "\\0"; with range_end "\\0", every key', async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b(''), range_end: b('\0') } });
      await w.until((r) => r.created);
      await put('zz/any', '1');
      const [r] = await w.until((r) => r.events.length > 0);
      expect(r.events[0].kv.key.toString()).toBe('zz/any');
    } finally {
      w.call.cancel();
    }
  });
});

describe('progress, compaction, fragments', () => {
  it('a progress request is answered with watch_id -1 and the current revision, after the events before it', async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b('pg/'), range_end: b('pg0') } });
      await w.until((r) => r.created);
      const writes = [];
      for (let i = 0; i < 50; i++) writes.push(put(`pg/${i}`, 'v'));
      await Promise.all(writes);
      w.call.write({ progress_request: {} });
      const rs = await w.until((r) => r.watch_id === '-1');
      const progress = rs[rs.length - 1];
      expect(Number(progress.header.revision)).toBe(s.store.revision);
      expect(progress.events).toEqual([]);
      expect(flat(rs).length).toBe(50); // every event up to that revision came first
    } finally {
      w.call.cancel();
    }
  });

  it('progress_notify: an idle watch gets empty responses with its id (interval 200 ms here)', async () => {
    const w = open();
    try {
      w.call.write({ create_request: { key: b('pn/a'), progress_notify: true, watch_id: 9 } });
      await w.until((r) => r.created);
      const [r] = await w.until((r) => r.watch_id === '9' && !r.created, 2_000);
      expect([r.events.length, Number(r.header.revision)]).toEqual([0, s.store.revision]);
    } finally {
      w.call.cancel();
    }
  });

  it('a start below the compacted revision: created, then canceled with compact_revision (header revision 0)', async () => {
    await put('cp/a', '1');
    await put('cp/a', '2');
    const rev = s.store.revision;
    await c.call('KV', 'Compact', { revision: rev });
    const w = open();
    try {
      w.call.write({ create_request: { key: b('cp/a'), start_revision: rev - 1 } });
      const rs = await w.until((r) => r.canceled);
      expect(rs.map((r) => [r.created, r.canceled, r.compact_revision])).toEqual([
        [true, false, '0'],
        [false, true, String(rev)],
      ]);
      expect(rs[1].header.revision).toBe('0');
      // At the compacted revision itself: valid.
      w.call.write({ create_request: { key: b('cp/a'), start_revision: rev } });
      const ok = await w.until((r) => r.events.length > 0);
      expect(flat(ok).map((e) => e.value)).toEqual(['2']);
    } finally {
      w.call.cancel();
    }
  });

  it('fragment: a response over max-request-bytes + 512 KiB is split, every piece but the last flagged', async () => {
    const t = await startServer({ serve: { maxRequestBytes: 64 * 1024 } }); // pieces of at most 576 KiB
    const rc = new RawClient(t.endpoint);
    try {
      const big = 'x'.repeat(100 * 1024);
      const start = t.store.revision + 1;
      const txn = t.store.txn();
      for (let i = 0; i < 8; i++) txn.then({ put: { key: `fr/${i}`, value: big } });
      await txn.commit(); // one revision of 800 KiB of events
      const w = new Responses(rc.stream('Watch', 'Watch'));
      w.call.write({ create_request: { key: b('fr/'), range_end: b('fr0'), start_revision: start, fragment: true, watch_id: 1 } });
      w.call.write({ create_request: { key: b('fr/'), range_end: b('fr0'), start_revision: start, watch_id: 2 } });
      const rs: any[] = [];
      while (flat(rs.filter((r) => r.watch_id === '1')).length < 8 || flat(rs.filter((r) => r.watch_id === '2')).length < 8) {
        const r = await w.next();
        if (!r) throw new Error('missing events');
        rs.push(r);
      }
      const frag = rs.filter((r) => r.watch_id === '1' && r.events.length > 0);
      expect(frag.length).toBe(2);
      expect(frag.map((r) => r.fragment)).toEqual([true, false]);
      expect(frag.map((r) => r.events.length)).toEqual([5, 3]);
      const whole = rs.filter((r) => r.watch_id === '2' && r.events.length > 0);
      expect(whole.map((r) => [r.fragment, r.events.length])).toEqual([[false, 8]]);
      w.call.cancel();
    } finally {
      rc.close();
      await t.close();
    }
  });
});

describe('slow clients', () => {
  it('a client that stops reading is paused, not buffered for; when it reads again it gets every event in order, no gap', async () => {
    const t = await startServer({ serve: { watchStreamBufferBytes: 64 * 1024 } });
    const rc = new RawClient(t.endpoint);
    try {
      const call = rc.stream('Watch', 'Watch');
      const w = new Responses(call);
      call.write({ create_request: { key: b('slow/'), range_end: b('slow0') } });
      await w.until((r) => r.created);
      call.pause(); // stop reading: HTTP/2 flow control backs up to the server
      const value = 'v'.repeat(1000);
      const N = 4000;
      for (let i = 0; i < N; i += 100) {
        const batch = [];
        for (let j = i; j < i + 100; j++) batch.push(t.store.put(`slow/${String(j).padStart(5, '0')}`, value));
        await Promise.all(batch);
      }
      // ~4 MB written while the client reads nothing: the server holds its buffer bound, not the events.
      const watchers = await (await fetch(`${t.url}/metrics`)).text();
      expect(watchers).toMatch(/etcd_debugging_mvcc_watcher_total 0/); // paused: its store watcher is stopped
      call.resume();
      const events: any[] = [];
      while (events.length < N) {
        const r = await w.next(10_000);
        if (!r) throw new Error(`stalled after ${events.length} events`);
        events.push(...flat([r]));
      }
      const revs = events.map((e) => e.mod);
      expect(revs).toEqual(Array.from({ length: N }, (_, i) => revs[0] + i)); // in order, no gap, no duplicate
      expect(events[N - 1].key).toBe(`slow/${String(N - 1).padStart(5, '0')}`);
      call.cancel();
    } finally {
      rc.close();
      await t.close();
    }
  });

  it('a paused stream: a watch that missed compacted history is cancelled as compacted, a quiet one on the same stream lives on', async () => {
    const t = await startServer({ serve: { watchStreamBufferBytes: 32 * 1024 } });
    const rc = new RawClient(t.endpoint);
    try {
      const call = rc.stream('Watch', 'Watch');
      const w = new Responses(call);
      call.write({ create_request: { key: b('quiet'), watch_id: 1 } });
      call.write({ create_request: { key: b('busy/'), range_end: b('busy0'), watch_id: 2 } });
      await w.until((r) => r.watch_id === '2' && r.created);
      call.pause();
      const value = 'v'.repeat(2000);
      for (let i = 0; i < 300; i++) await t.store.put(`busy/${i % 10}`, value);
      await t.store.compact(t.store.revision);
      call.resume();
      const rs = await w.until((r) => r.watch_id === '2' && r.canceled, 10_000);
      expect(Number(rs[rs.length - 1].compact_revision)).toBe(t.store.compactRevision);
      await t.store.put('quiet', 'still watched');
      const [ev] = await w.until((r) => r.watch_id === '1' && r.events.length > 0);
      expect(ev.events[0].kv.value.toString()).toBe('still watched');
      call.cancel();
    } finally {
      rc.close();
      await t.close();
    }
  });
});
