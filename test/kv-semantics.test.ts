/**
 * etcd's golden KV cases (docs/etcd-semantics.md §2.1, 2.4, 2.5; §5 items 1, 2 and 5) through the
 * façade, on both engines.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { MetaStoreError } from '../ts/errors.js';
import { MetaStore } from '../ts/store.js';
import type { DeleteResponse, PutResponse } from '../ts/store.js';
import { ENGINE_KINDS } from './engines.js';
import { b, catchAsync, catchSync, hex, kv, nkv, results, show } from './helpers.js';

const stores: MetaStore[] = [];
async function openStore(engine: (typeof ENGINE_KINDS)[number]): Promise<MetaStore> {
  const s = await MetaStore.open({ engine });
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** Every key with its metadata, plus the revision: what "nothing changed" compares. */
function state(s: MetaStore) {
  const r = s.range({ prefix: '' });
  return { revision: s.revision, size: s.size, count: r.count, kvs: r.kvs.map(nkv) };
}

describe.each(ENGINE_KINDS)('KV semantics (%s engine)', (kind) => {
  it('a fresh store is at revision 1 with no keys', async () => {
    const s = await openStore(kind);
    expect(s.engine).toBe(kind);
    expect(s.revision).toBe(1);
    expect(s.size).toBe(0);
    expect(s.get('a')).toBeUndefined();
    expect(s.getString('a')).toBeUndefined();
    expect(s.range({ prefix: '' })).toEqual({ revision: 1, kvs: [], more: false, count: 0 });
  });

  it('the first put gets revision 2 with create = mod = 2 and version 1', async () => {
    const s = await openStore(kind);
    expect(await s.put('foo', 'bar')).toEqual({ revision: 2 });
    expect(s.revision).toBe(2);
    expect(nkv(s.get('foo')!)).toEqual(kv('foo', 'bar', 2, 2, 1, 0));
    expect(s.getString('foo')).toBe('bar');
    expect(s.size).toBe(1);
  });

  it('a put of the same value still bumps revision, modRevision and version', async () => {
    const s = await openStore(kind);
    await s.put('foo', 'bar');
    expect(await s.put('foo', 'bar')).toEqual({ revision: 3 });
    expect(await s.put('foo', 'bar')).toEqual({ revision: 4 });
    expect(nkv(s.get('foo')!)).toEqual(kv('foo', 'bar', 2, 4, 3));
  });

  it('prevKv: absent for a new key, the whole previous KV for an existing one, absent when not asked', async () => {
    const s = await openStore(kind);
    const first: PutResponse = await s.put('foo', 'bar', { prevKv: true });
    expect(first).toEqual({ revision: 2 });
    expect('prevKv' in first).toBe(false);
    const second = await s.put('foo', 'baz', { prevKv: true });
    expect(second.revision).toBe(3);
    expect(nkv(second.prevKv!)).toEqual(kv('foo', 'bar', 2, 2, 1));
    const third = await s.put('foo', 'qux');
    expect(third).toEqual({ revision: 4 });
    expect('prevKv' in third).toBe(false);
    const fourth = await s.put('foo', '', { prevKv: true });
    expect(nkv(fourth.prevKv!)).toEqual(kv('foo', 'qux', 2, 4, 3));
    expect(nkv(s.get('foo')!)).toEqual(kv('foo', '', 2, 5, 4));
  });

  it('delete ends the generation: re-create gets a new createRevision and version 1', async () => {
    const s = await openStore(kind);
    await s.put('foo', 'v1'); // 2
    await s.put('foo', 'v2'); // 3
    const del: DeleteResponse = await s.delete('foo', { prevKv: true });
    expect(del.revision).toBe(4);
    expect(del.deleted).toBe(1);
    expect(del.prevKvs.map(nkv)).toEqual([kv('foo', 'v2', 2, 3, 2)]);
    expect(s.get('foo')).toBeUndefined();
    expect(s.size).toBe(0);
    expect(await s.put('foo', 'v3')).toEqual({ revision: 5 });
    expect(nkv(s.get('foo')!)).toEqual(kv('foo', 'v3', 5, 5, 1));
  });

  it('a delete that matches nothing reports deleted 0 and does not bump the revision', async () => {
    const s = await openStore(kind);
    expect(await s.delete('nothing')).toEqual({ revision: 1, deleted: 0, prevKvs: [] });
    await s.put('a', '1');
    expect(await s.delete('nothing', { prevKv: true })).toEqual({ revision: 2, deleted: 0, prevKvs: [] });
    expect(await s.delete({ prefix: 'zz' }, { prevKv: true })).toEqual({ revision: 2, deleted: 0, prevKvs: [] });
    expect(await s.delete({ start: 'b', end: 'c' })).toEqual({ revision: 2, deleted: 0, prevKvs: [] });
    expect(s.revision).toBe(2);
  });

  it('a range delete takes one revision and returns prevKvs in key order', async () => {
    const s = await openStore(kind);
    for (const k of ['c', 'a', 'd', 'b', 'e']) await s.put(k, `v-${k}`); // c2 a3 d4 b5 e6
    const del = await s.delete({ start: 'a', end: 'd' }, { prevKv: true });
    expect(del.revision).toBe(7);
    expect(del.deleted).toBe(3);
    expect(del.prevKvs.map(nkv)).toEqual([kv('a', 'v-a', 3, 3, 1), kv('b', 'v-b', 5, 5, 1), kv('c', 'v-c', 2, 2, 1)]);
    expect(s.revision).toBe(7);
    expect(state(s).kvs).toEqual([kv('d', 'v-d', 4, 4, 1), kv('e', 'v-e', 6, 6, 1)]);
    // Without prevKv: the count, no KVs; by prefix; from a key; everything.
    expect(await s.delete({ prefix: 'd' })).toEqual({ revision: 8, deleted: 1, prevKvs: [] });
    await s.put('f', '1'); // 9
    await s.put('g', '1'); // 10
    expect(await s.delete({ fromKey: 'f' })).toEqual({ revision: 11, deleted: 2, prevKvs: [] });
    expect(await s.delete({ prefix: '' }, { prevKv: true })).toMatchObject({ revision: 12, deleted: 1 });
    expect(s.size).toBe(0);
  });

  it('ignoreValue keeps the value, ignoreLease keeps the lease; both still bump mod and version', async () => {
    const s = await openStore(kind);
    await s.put('k', 'v1'); // 2
    const r = await s.put('k', '', { ignoreValue: true, prevKv: true });
    expect(r.revision).toBe(3);
    expect(nkv(r.prevKv!)).toEqual(kv('k', 'v1', 2, 2, 1));
    expect(nkv(s.get('k')!)).toEqual(kv('k', 'v1', 2, 3, 2));
    expect(await s.put('k', 'v2', { ignoreLease: true })).toEqual({ revision: 4 });
    expect(nkv(s.get('k')!)).toEqual(kv('k', 'v2', 2, 4, 3, 0));
    expect(await s.put('k', new Uint8Array(0), { ignoreValue: true, ignoreLease: true })).toEqual({ revision: 5 });
    expect(nkv(s.get('k')!)).toEqual(kv('k', 'v2', 2, 5, 4, 0));
  });

  it.each([
    ['ignoreValue with a value', 'k', 'x', { ignoreValue: true }, 'ERR_VALUE_PROVIDED'],
    ['ignoreLease with a lease', 'k', 'x', { ignoreLease: true, lease: 3 }, 'ERR_LEASE_PROVIDED'],
    ['ignoreValue on a missing key', 'missing', '', { ignoreValue: true }, 'ERR_KEY_NOT_FOUND'],
    ['ignoreLease on a missing key', 'missing', 'x', { ignoreLease: true }, 'ERR_KEY_NOT_FOUND'],
    ['ignoreValue and ignoreLease on a missing key', 'missing', '', { ignoreValue: true, ignoreLease: true }, 'ERR_KEY_NOT_FOUND'],
    ['a lease that was never granted, existing key', 'k', 'x', { lease: 1 }, 'ERR_LEASE_NOT_FOUND'],
    ['a lease that was never granted, new key', 'new', 'x', { lease: 42 }, 'ERR_LEASE_NOT_FOUND'],
    ['a negative lease id that was never granted', 'new', 'x', { lease: -7 }, 'ERR_LEASE_NOT_FOUND'],
    ['a missing lease with prevKv', 'k', 'x', { lease: 9, prevKv: true }, 'ERR_LEASE_NOT_FOUND'],
  ] as const)('put with %s rejects and applies nothing', async (_name, key, value, options, code) => {
    const s = await openStore(kind);
    await s.put('k', 'v1');
    const before = state(s);
    const err = await catchAsync(() => s.put(key, value, options));
    expect(err.code).toBe(code);
    expect(state(s)).toEqual(before);
  });

  it('store.batch(): each op is its own request; state failures fill their slot, the rest apply', async () => {
    const s = await openStore(kind);
    await s.put('a', 'old'); // 2
    const batch = s
      .batch()
      .put('a', 'new', { prevKv: true }) // 3
      .put('b', '1', { lease: 7 }) // lease not found
      .delete('a', { prevKv: true }) // 4
      .put('c', '', { ignoreValue: true }) // key not found
      .delete('nothing') // no bump
      .put('b', '2') // 5
      .put('b', '3', { ignoreLease: true, prevKv: true }) // 6
      .delete({ prefix: '' }); // 7: b
    expect(batch.size).toBe(8);
    const out = await batch.commit();
    expect(out).toHaveLength(8);
    expect(out[1]).toBeInstanceOf(MetaStoreError);
    expect((out[1] as MetaStoreError).code).toBe('ERR_LEASE_NOT_FOUND');
    expect(out[3]).toBeInstanceOf(MetaStoreError);
    expect((out[3] as MetaStoreError).code).toBe('ERR_KEY_NOT_FOUND');
    const plain = out.map((r) =>
      r instanceof MetaStoreError
        ? r.code
        : 'deleted' in r
          ? { revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs.map(nkv) }
          : r.prevKv === undefined
            ? { revision: r.revision }
            : { revision: r.revision, prevKv: nkv(r.prevKv) },
    );
    expect(plain).toEqual([
      { revision: 3, prevKv: kv('a', 'old', 2, 2, 1) },
      'ERR_LEASE_NOT_FOUND',
      { revision: 4, deleted: 1, prevKvs: [kv('a', 'new', 2, 3, 2)] },
      'ERR_KEY_NOT_FOUND',
      { revision: 4, deleted: 0, prevKvs: [] },
      { revision: 5 },
      { revision: 6, prevKv: kv('b', '2', 5, 5, 1) },
      { revision: 7, deleted: 1, prevKvs: [] },
    ]);
    expect(state(s)).toEqual({ revision: 7, size: 0, count: 0, kvs: [] });
    // The batch is reusable after a commit.
    expect(batch.size).toBe(0);
    expect(await batch.put('z', '1').commit()).toEqual([{ revision: 8 }]);
  });

  it('store.batch() with invalid input rejects whole and applies nothing', async () => {
    const s = await openStore(kind);
    await s.put('a', '1');
    const before = state(s);
    const err = await catchAsync(() => s.batch().put('b', '1').delete('a').put('c', 'x', { ignoreValue: true }).put('d', '1').commit());
    expect(err.code).toBe('ERR_VALUE_PROVIDED');
    expect(err.opIndex).toBe(2);
    expect(state(s)).toEqual(before);
    expect(await s.batch().commit()).toEqual([]);
    expect(state(s)).toEqual(before);
  });

  it('close() makes every call fail with ERR_CLOSED, and is idempotent', async () => {
    const s = await MetaStore.open({ engine: kind });
    await s.put('a', '1');
    await s.close();
    await s.close();
    const calls: Array<[string, () => unknown]> = [
      ['revision', () => s.revision],
      ['size', () => s.size],
      ['engine', () => s.engine],
      ['get', () => s.get('a')],
      ['getString', () => s.getString('a')],
      ['range', () => s.range({ prefix: '' })],
      ['batch', () => s.batch()],
      ['applyBatch', () => s.applyBatch(new Uint8Array([0x4d, 0x53, 0x42, 1, 0, 0, 0, 0]))],
      ['put', () => s.put('a', '2')],
      ['delete', () => s.delete('a')],
    ];
    for (const [name, call] of calls) {
      const err = await catchAsync(call);
      expect({ name, code: err.code }).toEqual({ name, code: 'ERR_CLOSED' });
    }
  });

  it('a WriteBatch of a store closed before commit fails with ERR_CLOSED', async () => {
    const s = await MetaStore.open({ engine: kind });
    const batch = s.batch().put('a', '1');
    await s.close();
    expect((await catchAsync(() => batch.commit())).code).toBe('ERR_CLOSED');
  });

  it('Symbol.asyncDispose closes the store', async () => {
    const s = await MetaStore.open({ engine: kind });
    await s.put('a', '1');
    expect(typeof s[Symbol.asyncDispose]).toBe('function');
    await s[Symbol.asyncDispose]();
    expect(catchSync(() => s.get('a')).code).toBe('ERR_CLOSED');
    await s[Symbol.asyncDispose]();
  });

  it('results are snapshots: later writes, reused input buffers and mutated results change nothing else', async () => {
    const s = await openStore(kind);
    const key = b('k');
    const value = b('v1');
    await s.put(key, value);
    key[0] = 0x7a; // the caller reuses its buffers
    value[0] = 0x78;
    expect(nkv(s.get('k')!)).toEqual(kv('k', 'v1', 2, 2, 1));
    expect(s.get('z')).toBeUndefined();
    const got = s.get('k')!;
    const ranged = s.range({ prefix: '' });
    const batch = await s.applyBatch(new BatchWriter().put('k', 'v2', { prevKv: true }).peek());
    await s.put('k', 'v3');
    await s.delete('k');
    await s.put('k', 'v4');
    // Earlier results still show the state they were read at, whenever they are decoded.
    expect(nkv(got)).toEqual(kv('k', 'v1', 2, 2, 1));
    expect(ranged.kvs.map(nkv)).toEqual([kv('k', 'v1', 2, 2, 1)]);
    expect(results(batch)).toEqual([{ type: 'put', revision: 3, prevKv: kv('k', 'v1', 2, 2, 1) }]);
    // Mutating a returned KV does not reach the store.
    got.value[0] = 0x00;
    (s.get('k')!.value as Uint8Array)[0] = 0x00;
    expect(nkv(s.get('k')!)).toEqual(kv('k', 'v4', 6, 6, 1));
  });

  it('results larger than any read buffer (values of 100 KiB, a 1 MiB range) come back whole', async () => {
    const s = await openStore(kind);
    const big = (seed: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    for (let i = 0; i < 10; i++) await s.put(`big-${i}`, big(i, 100 * 1024));
    await s.put('small', 'x');
    expect(Array.from(s.get('big-3')!.value)).toEqual(Array.from(big(3, 100 * 1024)));
    expect(s.getString('small')).toBe('x'); // a small read after a large one
    const r = s.range({ prefix: 'big-' });
    expect(r.count).toBe(10);
    expect(r.kvs.map((x) => hex(x.value))).toEqual(Array.from({ length: 10 }, (_, i) => hex(big(i, 100 * 1024))));
    expect(s.range({ prefix: 'big-', keysOnly: true }).kvs.every((x) => x.value.length === 0)).toBe(true);
    const del = await s.delete({ prefix: 'big-' }, { prevKv: true });
    expect(del.prevKvs.map((x) => x.value.length)).toEqual(Array(10).fill(100 * 1024));
    expect(hex(del.prevKvs[9]!.value)).toBe(hex(big(9, 100 * 1024)));
  });

  it('keys larger than any request buffer (70 KiB) work for put, get, range and delete', async () => {
    const s = await openStore(kind);
    const long = (fill: number) => new Uint8Array(70 * 1024).fill(fill);
    await s.put(long(0x6b), 'k');
    await s.put(long(0x6c), 'l');
    expect(s.get(long(0x6b))!.key.length).toBe(70 * 1024);
    expect(s.getString(long(0x6c))).toBe('l');
    expect(s.get(long(0x6d))).toBeUndefined();
    expect(s.range({ key: long(0x6b) }).count).toBe(1);
    expect(s.range({ start: long(0x6b), end: long(0x6d) }).kvs.map((x) => show(x.value))).toEqual(['k', 'l']);
    expect(s.range({ fromKey: long(0x6c) }).kvs.map((x) => hex(x.key) === hex(long(0x6c)))).toEqual([true]);
    expect(await s.delete(long(0x6b))).toEqual({ revision: 4, deleted: 1, prevKvs: [] });
    expect(s.size).toBe(1);
  });

  it('binary keys and values with 0x00 and 0xff bytes round-trip and sort bytewise', async () => {
    const s = await openStore(kind);
    const keys = [[0xff, 0xff], [0x00], [0x61, 0x00, 0x62], [0xff], [0x00, 0x00], [0x61], [0x61, 0xff], [0x01], [0x7f, 0x80]];
    for (const [i, k] of keys.entries()) await s.put(b(k), b([0x00, 0xff, i, 0x00, 0xff]));
    for (const [i, k] of keys.entries()) {
      const got = s.get(b(k))!;
      expect(Array.from(got.key)).toEqual(k);
      expect(Array.from(got.value)).toEqual([0x00, 0xff, i, 0x00, 0xff]);
    }
    const all = s.range({ prefix: '' });
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(all.kvs.map((x) => Array.from(x.key))).toEqual(sorted);
    expect(all.kvs.map((x) => show(x.value))).toEqual(sorted.map((k) => show(b([0x00, 0xff, keys.indexOf(k), 0x00, 0xff]))));
    // A lone 0xff byte and invalid UTF-8 are not mangled; a Buffer works like a Uint8Array.
    await s.put(Buffer.from([0xc3, 0x28]), Buffer.from([0xe2, 0x82]));
    expect(Array.from(s.get(b([0xc3, 0x28]))!.value)).toEqual([0xe2, 0x82]);
    // Strings are UTF-8: 'é' is the two bytes c3 a9.
    await s.put('é', 'ü');
    expect(Array.from(s.get(b([0xc3, 0xa9]))!.value)).toEqual([0xc3, 0xbc]);
    expect(s.getString(b([0xc3, 0xa9]))).toBe('ü');
    // An empty value is a value.
    await s.put(b([0x00]), new Uint8Array(0));
    expect(s.get(b([0x00]))!.value.length).toBe(0);
    expect(s.get(b([0x00]))!.version).toBe(2);
  });
});
