/** The write path: BatchProposer, entry framing, commit channel, apply loop (in-memory log, both engines). */

import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { MetaStoreError } from '../ts/errors.js';
import { CommitChannel } from '../ts/log/commit-channel.js';
import { EntryBuilder, readEntry } from '../ts/log/entry.js';
import type { MetaStore } from '../ts/store.js';
import { ENGINE_KINDS, storeFactory } from './engines.js';

const openStore = storeFactory();

/** `writers` loops, each awaiting its own puts one after another; returns the average ops per entry they produced. */
async function concurrentPuts(s: MetaStore, writers: number, perWriter: number, prefix = `${writers}/`): Promise<{ opsPerEntry: number; entries: number }> {
  const before = s.writeStats();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) await s.put(`${prefix}w${w}/${i}`, 'v');
    }),
  );
  const after = s.writeStats();
  const entries = after.entries - before.entries;
  return { opsPerEntry: (after.ops - before.ops) / entries, entries };
}

describe('entry framing', () => {
  it('round-trips proposal ids and op counts; the batch holds every op in order', () => {
    const b = new EntryBuilder(7, 3);
    b.add(1, new BatchWriter().put('a', '1').put('b', '2').finish(), 2);
    b.add(2 ** 40 + 5, new BatchWriter().deleteRange('a', '').finish(), 1);
    const entry = readEntry(b.seal());
    expect(entry.proposals).toBe(2);
    const slots: object[] = [];
    entry.forEach((node, epoch, counter, firstOp, opCount) => slots.push({ node, epoch, counter, firstOp, opCount }));
    expect(slots[0]).toEqual({ node: 7, epoch: 3, counter: 1, firstOp: 0, opCount: 2 });
    expect(slots[1]).toEqual({ node: 7, epoch: 3, counter: 2 ** 40 + 5, firstOp: 2, opCount: 1 });
    const expected = new BatchWriter().put('a', '1').put('b', '2').deleteRange('a', '').finish();
    expect(Array.from(entry.batch)).toEqual(Array.from(expected));
    expect(b.proposals).toBe(0); // sealing starts over
  });

  it.each([
    ['not an entry', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])],
    ['an unknown version', new Uint8Array([0x4d, 0x53, 0x45, 9, 0, 0, 0, 0, 0x4d, 0x53, 0x42, 1, 0, 0, 0, 0])],
    ['more proposals than bytes', new Uint8Array([0x4d, 0x53, 0x45, 1, 5, 0, 0, 0])],
  ])('refuses %s with ERR_CORRUPT', (_, bytes) => {
    expect(() => readEntry(bytes)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT' }));
  });

  it('refuses an entry whose proposals claim other op counts than its batch', () => {
    const b = new EntryBuilder(1, 1);
    b.add(1, new BatchWriter().put('a', '1').finish(), 1);
    const bytes = b.seal();
    bytes[8 + 16] = 2; // opCount of proposal 0
    expect(() => readEntry(bytes)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT' }));
  });
});

describe('commit channel', () => {
  it('delivers in push order; past its capacity, room() waits for the consumer', async () => {
    const ch = new CommitChannel(2);
    const entry = (index: number) => ({ index, term: 1, data: new Uint8Array(0) });
    ch.push(entry(1));
    ch.push(entry(2));
    expect(ch.room()).toBeUndefined();
    ch.push(entry(3));
    let roomed = false;
    const wait = ch.room()!.then(() => (roomed = true));
    await Promise.resolve();
    expect(roomed).toBe(false);
    expect((await ch.next()).value.index).toBe(1);
    await wait;
    expect(roomed).toBe(true);
    const later = ch.next();
    expect((await later).value.index).toBe(2);
    expect((await ch.next()).value.index).toBe(3);
    const pending = ch.next();
    ch.push(entry(4));
    expect((await pending).value.index).toBe(4);
    ch.end();
    expect((await ch.next()).done).toBe(true);
  });
});

describe.each(ENGINE_KINDS)('write path (%s engine)', (kind) => {
  it('coalesces concurrent writers: average ops per entry grows with concurrency', async () => {
    const s = await openStore(kind);
    const one = await concurrentPuts(s, 1, 50);
    const eight = await concurrentPuts(s, 8, 20);
    const many = await concurrentPuts(s, 256, 4);
    expect(one.opsPerEntry).toBe(1);
    expect(eight.opsPerEntry).toBeGreaterThanOrEqual(4);
    expect(many.opsPerEntry).toBeGreaterThan(eight.opsPerEntry);
    expect(many.opsPerEntry).toBeGreaterThanOrEqual(64);
    expect(s.size).toBe(50 + 160 + 1024);
    expect(s.revision).toBe(1 + 50 + 160 + 1024);
  });

  it('caps entries by ops: a burst becomes several entries of at most maxEntryOps, sent in one append', async () => {
    const s = await openStore(kind, { maxEntryOps: 10 });
    const before = s.writeStats();
    await Promise.all(Array.from({ length: 95 }, (_, i) => s.put(`k${i}`, 'v')));
    const st = s.writeStats();
    expect(st.entries - before.entries).toBe(10);
    expect(st.appends - before.appends).toBe(1);
    expect(st.appliedIndex).toBe(s.appliedIndex);
    expect(s.size).toBe(95);
  });

  it('caps entries by bytes', async () => {
    const s = await openStore(kind, { maxEntryBytes: 1000 });
    const before = s.writeStats();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(`k${i}`, 'x'.repeat(300))));
    expect(s.writeStats().entries - before.entries).toBeGreaterThanOrEqual(7);
    expect(s.size).toBe(20);
  });

  it('an invalid proposal fails alone and at once; the others in the same tick apply', async () => {
    const s = await openStore(kind);
    const a = s.put('a', '1');
    const bad = s.put('', 'x');
    const b = s.put('b', '2');
    await expect(bad).rejects.toMatchObject({ code: 'ERR_KEY_NOT_PROVIDED' });
    expect((await a).revision).toBe(2);
    expect((await b).revision).toBe(3);
    expect(s.writeStats().proposals).toBe(2);
  });

  it('each caller gets its own share of a shared entry, op indexes counted from its own first op', async () => {
    const s = await openStore(kind);
    const first = s.applyBatch(new BatchWriter().put('a', '1').put('b', '2').finish());
    const second = s.applyBatch(new BatchWriter().put('c', '3').put('d', '4', { lease: 99 }).deleteRange('a', '').finish());
    const [r1, r2] = await Promise.all([first, second]);
    expect(s.writeStats().entries).toBe(1);
    expect(r1.size).toBe(2);
    expect(r1.revision).toBe(3);
    expect(r2.size).toBe(3);
    expect(r2.result(0)).toMatchObject({ type: 'put', revision: 4 });
    const failed = r2.result(1);
    expect(failed.type).toBe('error');
    if (failed.type === 'error') {
      expect(failed.error).toBeInstanceOf(MetaStoreError);
      expect(failed.error.code).toBe('ERR_LEASE_NOT_FOUND');
      expect(failed.error.opIndex).toBe(1);
    }
    expect(r2.result(2)).toMatchObject({ type: 'deleteRange', deleted: 1, revision: 5 });
    expect(r2.revision).toBe(5);
    expect(() => r2.result(3)).toThrow(RangeError);
  });

  it('a one-op write behind others in its entry gets its own result, and its error with op index 0', async () => {
    const s = await openStore(kind);
    const batch = s.applyBatch(new BatchWriter().put('a', '1').put('b', '2').finish());
    const put = s.put('c', '3', { prevKv: true });
    const missingLease = s.put('d', '4', { lease: 99 });
    const del = s.delete('a', { prevKv: true });
    const missingKey = s.put('e', '', { ignoreValue: true });
    expect((await batch).revision).toBe(3);
    expect(await put).toEqual({ revision: 4 });
    await expect(missingLease).rejects.toMatchObject({ code: 'ERR_LEASE_NOT_FOUND', opIndex: 0 });
    const deleted = await del;
    expect(deleted).toMatchObject({ revision: 5, deleted: 1 });
    expect(deleted.prevKvs.map((kv) => new TextDecoder().decode(kv.key))).toEqual(['a']);
    await expect(missingKey).rejects.toMatchObject({ code: 'ERR_KEY_NOT_FOUND', opIndex: 0 });
    expect(s.writeStats().entries).toBe(1);
  });

  it('thousands of writers waiting at once each get their own revision, in the order they wrote', async () => {
    const s = await openStore(kind);
    const puts = Array.from({ length: 3000 }, (_, i) => s.put(`w${i}`, 'v'));
    const revisions = (await Promise.all(puts)).map((r) => r.revision);
    expect(revisions).toEqual(Array.from({ length: 3000 }, (_, i) => i + 2));
    // Waiting again after the queue emptied starts from the next proposal.
    expect((await Promise.all([s.put('x', '1'), s.put('y', '2')])).map((r) => r.revision)).toEqual([3002, 3003]);
  });

  it('a proposal result lists only its own events (with watchers, so events are produced)', async () => {
    const s = await openStore(kind);
    const w = s.watch({ prefix: '' });
    const p1 = s.applyBatch(new BatchWriter().put('a', '1').finish());
    const p2 = s.applyBatch(new BatchWriter().put('b', '2').put('c', '3').finish());
    const [r1, r2] = await Promise.all([p1, p2]);
    expect(r1.events().map((e) => e.kv.modRevision)).toEqual([2]);
    expect(r2.events().map((e) => e.kv.modRevision)).toEqual([3, 4]);
    w.cancel();
  });

  it('writes resolve in the order they were made, and the applied index counts entries', async () => {
    const s = await openStore(kind);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put('k', String(i)).then((r) => order.push(r.revision))));
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(s.appliedIndex).toBe(s.writeStats().entries);
    expect(s.getString('k')).toBe('19');
  });

  it('close with writes in flight and revision auto-compaction: every write applies', async () => {
    const s = await openStore(kind, { autoCompaction: { mode: 'revision', retention: 1 } });
    for (let i = 0; i < 5; i++) await s.put(`a${i}`, 'v');
    const writes = Array.from({ length: 5 }, (_, i) => s.put(`b${i}`, 'v'));
    await s.close();
    expect((await Promise.all(writes)).map((r) => r.revision)).toEqual([7, 8, 9, 10, 11]);
  });

  it('close waits for writes already made, then refuses new ones', async () => {
    const s = await openStore(kind);
    const writes = Array.from({ length: 10 }, (_, i) => s.put(`k${i}`, 'v'));
    await s.close();
    expect((await Promise.all(writes)).map((r) => r.revision)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    await expect(s.put('x', 'y')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });
});
